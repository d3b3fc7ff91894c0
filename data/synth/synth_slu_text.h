/* Rendering the commands of the spoken-command corpus from the templates of
 * synth_slu_intents.h: drawn at random for the spoken sets, or every rendering for the
 * text corpus. */
#ifndef AVMASK_SYNTH_SLU_TEXT_H
#define AVMASK_SYNTH_SLU_TEXT_H
#include "common/rng.h"
#include "common/strbuf.h"
#include "data/synth/synth_slu_intents.h"

/* Every word that templates and slot values can produce (title words aside), sorted,
 * without duplicates: n words. Built once. */
const char *const *slu_words(int *n);

/* One rendered command. */
typedef struct {
    int intent, tmpl;            /* template tmpl of the intent's seen or unseen list */
    int unseen;
    avm_strbuf text;             /* lower-case words, single spaces */
    avm_strbuf slots;            /* "time=seven am;date=tomorrow" in template order, "-" if none */
    int title;                   /* index into the title list, -1 if none */
} slu_command;

/* Draws a command: an intent by weight, one of its unseen templates with probability
 * p_unseen (else a seen one), slot values uniformly, titles from titles[ntitles].
 * The command's buffers are reset first (keep one slu_command for many draws). */
void slu_draw(avm_rng *r, char *const *titles, int ntitles, double p_unseen, slu_command *c);
/* Calls fn for every rendering: intents in table order, seen templates then unseen, every
 * combination of slot values (the first slot varying slowest), titles from titles[]. */
void slu_enumerate(char *const *titles, int ntitles, void (*fn)(void *ctx, const slu_command *c), void *ctx);
void slu_command_free(slu_command *c);
#endif
