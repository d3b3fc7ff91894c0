/* eval --unit=frame: the frame-level probe's scoring. The hypotheses are decode's output of
 * a frame model (finetune --objective=frame): one phone or <sil> per 25 Hz token; the
 * reference is a CTM of phone timings, turned into the same tokens (data/ali.h: the phone
 * at each token's centre, <sil> outside every phone). Tokens are compared one to one, no
 * alignment: C right, S wrong, N the tokens scored, so %ERR is the frame error rate. */
#ifndef AVMASK_EVAL_FRAMES_H
#define AVMASK_EVAL_FRAMES_H
#include "train/edit_distance.h"
#include "train/trans.h"

/* ref (as trans_read would: sorted, tok[0] owning the tokens) from the CTM: every
 * utterance with as many tokens as its hypothesis (none: up to the end of its last phone).
 * Dies with one line when an alignment ends more than a token after its hypothesis (the
 * hypotheses' tokens are not token_s long). */
void frames_ref(avm_trans *ref, const char *ctm, const avm_trans *hyp, double token_s);
/* Adds the comparison of ref [nr] and hyp [nh] to e (utts += 1): positions past the end of
 * hyp count as wrong; speech: only the tokens whose reference is not <sil> are scored. */
void frames_compare(char *const *ref, int nr, char *const *hyp, int nh, int speech, avm_errs *e);
#endif
