/* The intents of the spoken-command corpus (`avmask synth-slu`): 20 named
 * scenario_action as in SLURP, each with paraphrase templates split into seen ones
 * (spoken in train, dev and test) and unseen ones (only in the text corpus and the test
 * set). A template is words and slots ("set an alarm for $time $date"); "$title" takes a
 * title of the caller's list, every other slot a value of its list here. Classes are
 * TinyS2I's decision: a fixed on-device command, "play [title]", or anything else
 * (deferred to a bigger model). */
#ifndef AVMASK_SYNTH_SLU_INTENTS_H
#define AVMASK_SYNTH_SLU_INTENTS_H

typedef enum { SLU_COMMAND, SLU_TITLE, SLU_OTHER } slu_class;

typedef struct {
    const char *name;            /* "music_play" */
    slu_class cls;
    double weight;               /* relative frequency in the spoken sets */
    const char *const *seen;     /* NULL-terminated templates */
    const char *const *unseen;   /* NULL-terminated templates */
} slu_intent;

typedef struct {
    const char *name;            /* "time": "$time" in a template */
    const char *const *values;   /* NULL-terminated */
} slu_slot;

/* The intent table (n intents, in a fixed order). */
const slu_intent *slu_intents(int *n);
/* The slots other than title, ended by a NULL name. */
const slu_slot *slu_slots(void);
const char *slu_class_name(slu_class c);   /* "command", "title", "other" */
#endif
