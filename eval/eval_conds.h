/* avmask eval's conditions: each key of the --by file (snr=5 voice=x ...) with one error
 * count per value (eval_conds.c). */
#ifndef AVMASK_EVAL_CONDS_H
#define AVMASK_EVAL_CONDS_H
#include "train/edit_distance.h"
#include "train/trans.h"

#define NONE_VALUE "<none>"     /* the bucket of utterances without a value for the key */

typedef struct { char *value; avm_errs e; } cond_bucket;
typedef struct { char *key; cond_bucket *b; int nb; } cond_key;
typedef struct { cond_key *k; int nk; } conds;

cond_key *cond_key_get(conds *c, const char *key);          /* added at the end if new */
/* Every key of a conditions file, in order of first appearance. Dies on a token without '='. */
void conds_collect_keys(conds *c, const avm_trans *by);
avm_errs *bucket_get(cond_key *k, const char *value);       /* the same for a value */
/* The value of key in one conditions line, or NULL. Dies on a token without '='. */
const char *cond_value(const avm_trans *by, const avm_trans_utt *u, const char *key);
/* Numeric order when every value is a number (snr=-5 < 0 < 10), else C order; the
 * missing-value bucket last. */
void sort_values(cond_key *k);
void conds_free(conds *c);
#endif
