/* `avmask eval --unit=intent`: intent files ('<utt-id> <intent>', one intent per line: a data
 * dir's `intent`, decode's hyp of an S2I model) scored like any other transcripts, one token
 * per utterance, so that S = wrong intents, D = utterances without hypothesis, C = correct
 * ones and %ERR = 100 - accuracy; what this adds is the accuracy beside every error rate
 * and the confusion matrix (eval/README.md "Intents"). */
#ifndef AVMASK_EVAL_INTENT_H
#define AVMASK_EVAL_INTENT_H
#include "common/json.h"
#include "common/strbuf.h"
#include "train/trans.h"

/* Every line of t holds exactly one intent; else -1 + avm_fail("<file>:<line>: ..."). */
int  intent_file_check(const avm_trans *t);

/* Counts of (reference intent, hypothesis) over the reference utterances: labels are every
 * intent of either file in C order; column n is "<none>" (no hypothesis). */
typedef struct {
    char **label;
    int n;
    long *m;                /* [n][n + 1], row = reference */
} intent_confusion;

void intent_confusion_build(intent_confusion *c, const avm_trans *ref, const avm_trans *hyp);
/* The matrix as text (one row per reference intent, its accuracy, then its most frequent
 * confusions) and as JSON {"labels": [...], "hyp_labels": [..., "<none>"], "matrix": [[...]]}. */
void intent_confusion_text(avm_strbuf *t, const intent_confusion *c);
void intent_confusion_json(avm_jw *w, const intent_confusion *c);
void intent_confusion_free(intent_confusion *c);
#endif
