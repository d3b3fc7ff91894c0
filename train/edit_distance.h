/* Error rates by edit distance (PER/CER/WER), as Kaldi's compute-wer counts them and
 * sclite aligns them:
 *  - the alignment minimises the number of errors S + D + I (Levenshtein distance,
 *    every error costs 1), so %ERR equals Kaldi's compute-wer;
 *  - among alignments with the fewest errors it takes the one sclite's weights
 *    (sub 4, ins 3, del 3) prefer, i.e. the fewest substitutions, which is the most
 *    correct (matched) tokens: ref "a b" hyp "b c" is D(a) C(b) I(c), not 2 S;
 *  - remaining ties (same S, D and I) are broken by the backtrace preferring, from
 *    the end, a match/substitution, then a deletion, then an insertion.
 * (sclite minimises 3(D+I) + 4S alone, which in rare cases reports more errors
 * than the Levenshtein distance; we never do.)
 * An empty hypothesis is all deletions, an empty reference all insertions. */
#ifndef AVMASK_EDIT_DISTANCE_H
#define AVMASK_EDIT_DISTANCE_H

typedef struct { long c, s, d, i, n, utts; } avm_errs;   /* n = reference tokens = c + s + d */

/* Aligns ref [nr] with hyp [nh] and ADDS the counts to e (utts += 1). If ops is not
 * NULL it receives the alignment as a string over "CSDI", ref/hyp order, NUL-ended
 * (room for nr + nh + 1). */
void edit_align(const char *const *ref, int nr, const char *const *hyp, int nh,
                avm_errs *e, char *ops);

void errs_add(avm_errs *dst, const avm_errs *src);
/* 100 (S + D + I) / N; 0 when there is nothing at all; NAN when N = 0 but there are
 * insertions (the rate is undefined: reported as n/a, JSON null). */
double err_rate(const avm_errs *e);
#endif
