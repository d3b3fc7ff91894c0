/* The CTC baseline of TinyS2I (docs/slu.md "The CTC baseline"): a transcript turned into
 * TinyS2I's decision by matching, no model involved (decode_ctcmenu.c runs the model).
 *  1. intent: the nearest transcript of a training data dir by word edit distance
 *     (train/edit_distance.h: substitutions + deletions + insertions); among the transcripts
 *     at that distance, the intent most of their training utterances have, then the first of
 *     the intent list. Its class decides: command -> 'command <intent>'; title -> 'play
 *     <title>'; other -> 'defer'. An empty transcript (nothing recognised) -> 'defer'.
 *  2. title (for every utterance with a menu, whatever the decision): the menu title of least
 *     normalised character edit distance to the query, distance / max(query, title)
 *     characters (a blank between words is one character); ties -> the first in the menu.
 *     Query "whole" (decode's default, better on dev): the whole transcript. Query "rest":
 *     the transcript's words aligned (word alignment) to the title span of the nearest
 *     training transcript of class title, i.e. what follows the carrier phrase ("play",
 *     "could you play", ...) or sits where its title sat; insertions at either edge of the
 *     span count as title; if that leaves nothing, the whole transcript. */
#ifndef AVMASK_CTCMENU_H
#define AVMASK_CTCMENU_H
#include "data/slu.h"

typedef enum { CM_QUERY_REST, CM_QUERY_WHOLE } cm_query;

/* One distinct (transcript, intent) pair of the training data dir. */
typedef struct {
    char **w;               /* words */
    int nw, intent, count;  /* count: training utterances with it */
    int t0, t1;             /* the title's words [t0, t1) (-1: none, or not of class title) */
} cm_entry;

typedef struct {
    avm_intents intents;
    int *cls;               /* [intents.n] 0 command, 1 title, 2 other (train/tinys2i.h) */
    cm_entry *e;            /* sorted by words, then intent */
    int n;
} cm_index;

/* DATA/text, DATA/intent (every utterance of text: intent_read's one-line errors) and, for
 * the utterances of class title, the 'title=' slot of DATA/slots (its words located in the
 * transcript; missing or not found: no title span); the classes of the intent list
 * intents_path (command | title | other). 0 or -1 + avm_fail naming the file. */
int  cm_index_read(cm_index *x, const char *data_dir, const char *intents_path);
void cm_index_free(cm_index *x);

typedef struct {
    int cls, intent;        /* of the nearest transcript; cls -1: empty transcript */
    int dist;               /* its word edit distance */
    int title;              /* the best menu title (-1: no menu) */
    double title_dist;      /* its normalised character distance */
    char *query;            /* what was matched against the menu (NULL: no menu) */
} cm_decision;

/* The decision of a transcript (words separated by blanks) with the menu on screen (NULL:
 * none). Free with cm_decision_free. */
void cm_decide(const cm_index *x, const char *transcript, const avm_menu *menu, cm_query q, cm_decision *d);
/* "command <intent>" | "play <title>" ("play -" without menu) | "defer"; caller frees. */
char *cm_hyp(const cm_index *x, const cm_decision *d, const avm_menu *menu);
void cm_decision_free(cm_decision *d);
/* Normalised character edit distance of two strings (0 identical, 1 nothing in common). */
double cm_char_dist(const char *a, const char *b);
#endif
