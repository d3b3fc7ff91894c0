/* Label shards: one integer per 25 Hz token of a feature dir, written by
 * `avmask kmeans --apply` (cluster/) and read by whoever trains on cluster targets.
 * labels-NNNNN.h5 mirrors shard-NNNNN.h5 of the feature dir:
 *   /labels   int32 [tokens]   all utterances concatenated, in the shard's order
 *   /offsets  int64 [n+1]      utterance i = labels[offsets[i] .. offsets[i+1])
 *   /utt_ids  strings [n]      the feature shard's utterance ids, same order
 *   attributes on "/": codebook_hash, k (int64), source, feats_shard (the feature shard's
 *   absolute path), feats_index_hash (of the feature dir's index.tsv), avmask_version.
 * Layout and the label dir's index.tsv / labels.json: data/README.md, "Cluster labels". */
#ifndef AVMASK_LABELS_H
#define AVMASK_LABELS_H
#include <stdint.h>
#include "data/shard.h"

char *labels_path(const char *dir, int shard);   /* dir/labels-NNNNN.h5; caller frees */

/* Writes a label shard to path.tmp and renames it into place. 0 or -1 + avm_fail. */
int labels_write_shard(const char *path, const char *codebook_hash, int k, const char *source,
                       const char *feats_shard, const char *feats_index_hash, char *const *utt_ids, int n, const int64_t *offsets,
                       const int32_t *labels);

/* Codebook hash of one label shard (for skipping finished shards). NULL + avm_fail. */
char *labels_shard_hash(const char *path);

/* A label dir checked against a feature dir. */
typedef struct avm_labels avm_labels;
/* Opens the label shards of every shard fe names and refuses, with a one-line reason naming
 * the label file (and the utterance where there is one), any label file that is missing,
 * unreadable, of another codebook (hash != expect_hash; expect_hash NULL = the first shard's),
 * with other utterances than the feature shard, or with a label count that is not the
 * utterance's token count (audio frames / 4). NULL + avm_fail. */
avm_labels *labels_open(const char *dir, const avm_feats *fe, const char *expect_hash);
/* Labels of utterance i of fe (fe->e[i].a_frames / 4 values), each checked in [0, k).
 * 0 or -1 + avm_fail naming the file and the utterance. */
int  labels_get(avm_labels *L, int i, int32_t *out);
const char *labels_hash(const avm_labels *L);
int  labels_k(const avm_labels *L);
void labels_close(avm_labels *L);
#endif
