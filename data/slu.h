/* The spoken-language-understanding files of a data dir (written by `avmask synth-slu`;
 * formats in docs/formats.md, "Spoken language understanding"):
 *   intents.txt  "<intent> [<class>]" per line: the intents a task knows, each once
 *   intent       "<utt-id> <intent>", sorted by utt-id (C locale), every utterance present
 *   menuN        "<utt-id> <title>|<title>|...", sorted: the menu on screen when a "play
 *                [title]" command was spoken (titles are words separated by blanks)
 * Every error is one line "<file>:<line>: <reason>". */
#ifndef AVMASK_SLU_H
#define AVMASK_SLU_H
#include <stddef.h>

typedef struct {
    char **name, **cls;   /* cls[i] is "" when the line has no class */
    int n;
} avm_intents;

/* Reads an intent list: one intent per line, an optional class after it; an empty list,
 * a repeated intent or more than two fields is an error. 0, or -1 + avm_fail. */
int  intents_read(avm_intents *l, const char *path);
int  intents_find(const avm_intents *l, const char *name);   /* index, or -1 */
/* Writes the list as intents_read reads it (a model dir's intents.txt). -1 + avm_fail. */
int  intents_write(const avm_intents *l, const char *path);
void intents_free(avm_intents *l);

/* Reads an intent file for the utterances utts[n] (a data dir's, in any order): label[i]
 * is the index in l of utts[i]'s intent. Lines of other utterances are ignored (a feature
 * dir may hold a subset). A missing utterance (the line given is where it belongs in sorted
 * order), an unknown intent or a line without exactly one intent: -1 + avm_fail. */
int  intent_read(const char *path, const avm_intents *l, char *const *utts, int n, int *label);

/* The value of "title=" in a slots line ("name=value;name=value" or "-"): a pointer into
 * it and its length (0 and *t untouched if there is none). */
size_t slots_title(const char *slots, const char **t);

typedef struct {
    char *utt;
    char **title;         /* n titles, blanks around each trimmed */
    int n;
} avm_menu;

typedef struct {
    avm_menu *m;          /* sorted by utt */
    int n;
} avm_menus;

/* Reads a menu file. A line without titles (an empty menu), an empty title or a title
 * twice in one menu: -1 + avm_fail. */
int  menus_read(avm_menus *m, const char *path);
const avm_menu *menus_find(const avm_menus *m, const char *utt);   /* NULL if absent */
void menus_free(avm_menus *m);
#endif
