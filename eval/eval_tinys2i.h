/* `avmask eval --unit=tinys2i`: TinyS2I's decisions (avmask decode --menu on a TinyS2I model
 * dir: hyp lines '<utt-id> command <intent>' | 'play <title>' | 'defer') against a data
 * dir's intent file (--ref) and the 'title=' slots of the slots file beside it, with the
 * classes of --intents (eval/README.md "TinyS2I"):
 *   decisions    share of utterances whose decision is their intent's class
 *   commands     of the command utterances: decision command and the right intent
 *   deferral     precision (deferred utterances that are of class other) and recall (other
 *                utterances deferred)
 *   titles       of the title utterances: decision play and the right menu title
 *   title match  of the title utterances: the top-1 title of title_rank beside hyp is right,
 *                whatever the decision (the matching alone)
 * plus the model size and latency of decode.json beside hyp; with by (a conditions file, as
 * avmask eval --by) the same figures per value of each key; with decode's confidence file
 * beside hyp, the deferral sweep: the figures if every command or play decision of confidence
 * below 0, 0.1, ..., 0.9 were deferred, and the threshold of highest decisions accuracy.
 * Writes the text to stdout and OUT (.txt), the figures to OUT (default eval.json beside
 * hyp, "task": "tinys2i"). */
#ifndef AVMASK_EVAL_TINYS2I_H
#define AVMASK_EVAL_TINYS2I_H

/* Dies with one line on bad input; returns 0. */
int eval_tinys2i(const char *ref, const char *hyp, const char *intents, const char *by, const char *out);
#endif
