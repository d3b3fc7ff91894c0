/* The per-utterance error file that `avmask eval` writes beside its JSON result
 * (eval.json -> eval.utts.tsv, named in eval.json as "utts_file"), read back by
 * `avmask report` for paired comparisons. Tab-separated, one header line:
 *   utt  S  D  I  N  [condition keys...]
 *   spk1-u0001  3  1  0  20  5  babble
 * one line per scored reference utterance (reference order), S/D/I/N its edit counts,
 * then its value of every condition key ("<none>" when it has none). */
#ifndef AVMASK_EVAL_UTTS_H
#define AVMASK_EVAL_UTTS_H
#include "common/strbuf.h"
#include "train/edit_distance.h"

typedef struct {
    char *path;
    int n, nkeys;
    char **id;            /* [n], sorted by id (C order) */
    long *err, *ref;      /* [n]: errors S + D + I, reference tokens N */
    char **keys;          /* [nkeys] */
    char **val;           /* [n * nkeys]: value of key k of utterance i at i * nkeys + k */
} avm_utts;

/* The files avmask eval writes beside its JSON result: "DIR/NAME.json" + ext -> "DIR/NAME<ext>"
 * (any other name: ext appended). utts_path is json_sibling(json_path, ".utts.tsv"). */
char *json_sibling(const char *json_path, const char *ext);
char *utts_path(const char *json_path);
void  utts_write_header(avm_strbuf *b, const char *const *keys, int nkeys);
void  utts_write_line(avm_strbuf *b, const char *id, const avm_errs *e, const char *const *vals, int nkeys);

/* 0, or -1 + avm_fail("<file>:<line>: reason"). */
int  utts_read(avm_utts *u, const char *path);
void utts_free(avm_utts *u);
int  utts_find(const avm_utts *u, const char *id);   /* index or -1 */
int  utts_key(const avm_utts *u, const char *key);   /* column index or -1 */
#endif
