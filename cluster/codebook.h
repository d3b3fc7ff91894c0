/* codebook.h5: what `avmask kmeans` fits and `--apply` uses.
 *   /centres    float32 [k, dim]
 *   /norm/mean, /norm/std  float64 [dim]: (raw token vector - mean) / std is what was clustered
 *   attributes on "/": source ("mfcc"|"fbank"|"layer"), k, dim, n_mels (int64), hash (km_hash),
 *   for layer also checkpoint (absolute path), checkpoint_crc32 (8 hex digits), layer (int64),
 *   feature_config (JSON: how token vectors are made, with the feature dir's extraction
 *   config), fit (JSON: options and final inertia), avmask_version. */
#ifndef AVMASK_CODEBOOK_H
#define AVMASK_CODEBOOK_H
#include "cluster/kmeans.h"
#include "cluster/km_feats.h"

typedef struct {
    km_centres C;
    km_feat kf;             /* source, n_mels, mean/std */
    char hash[17];
    char *feature_config;   /* JSON */
} km_codebook;

/* The feature_config JSON for a source and the feature dir's extraction config. */
char *codebook_feature_config(const km_feat *kf, const char *feats_config);
/* Writes path.tmp, renames it into place. 0 or -1 + avm_fail. */
int  codebook_write(const char *path, const km_codebook *cb, const char *fit_json);
/* path: codebook.h5 or a directory holding it. Checks shapes, the source's dimension,
 * finite values and the stored hash against the contents. 0 or -1 + avm_fail. */
int  codebook_read(const char *path, km_codebook *cb);
void codebook_free(km_codebook *cb);
#endif
