/* Training checkpoints (HDF5, readable by h5py):
 *   /params/<name>   float32, the parameter's shape     (one dataset per named view)
 *   /optim/m/<name>, /optim/v/<name>                    AdamW moments (absent: params only)
 *   attributes on "/": format "avmask-checkpoint-1", avmask_version, step, epoch,
 *     epoch_pos (loader position: next batch of that epoch), seed, optim_step,
 *     best_valid, train_seconds, config (the full run configuration as JSON), best_valid_tie (only
 *     when not 0: the second key of a two-part validation score), checksum_params and
 *     checksum_optim (CRC-32 of the views in file order, as uint32), checksum_meta (CRC-32 of
 *     every other attribute in a canonical text, see attrs_checksum in checkpoint.c).
 * Loading also refuses impossible attribute values (negative or huge step, optim_step, epoch,
 * epoch_pos; NaN best_valid). A file without checksum_meta (written before it existed) is
 * loaded with a warning, its attributes range-checked only.
 * A parameter file (data/params_h5.h: groups of tensors, the seal, the atomic write): the
 * file is sealed (a CRC-32 of the whole file in a 512-byte user block), checked before
 * libhdf5 parses it; an unsealed file (written before seals) is parsed as before.
 * Written to <path>.tmp, fsynced and renamed, so a crash leaves the previous file.
 * Loading refuses a truncated or corrupted file (HDF5 error or checksum mismatch) and a
 * file whose parameter names or shapes differ from the model, each with one line. */
#ifndef AVMASK_CHECKPOINT_H
#define AVMASK_CHECKPOINT_H
#include <stdint.h>
#include "models/avmodel.h"
#include "models/params.h"
#include "train/optim.h"

typedef struct {
    long step;              /* updates applied */
    long epoch, epoch_pos;  /* the loader continues with batch epoch_pos of epoch */
    uint64_t seed;          /* all random decisions are keyed by (seed, step, sample) */
    double best_valid;      /* best validation loss so far (INFINITY: none) */
    char *config_json;      /* owned; the full run configuration */
    double seconds;         /* training wall time so far (metrics "seconds" continue from it) */
    double best_tie;        /* the best score's second key, which breaks ties of best_valid
                             * (fine-tuning: best_valid is the error rate, this the loss);
                             * 0: none (not written; a file without it reads 0) */
} avm_ckpt_meta;

/* opt may be NULL (params only). 0 or -1 + avm_fail. */
int  ckpt_save(const char *path, const avm_params *ps, const avm_adamw *opt, const avm_ckpt_meta *meta);
/* Attributes only (to rebuild the model from config_json before ckpt_load). */
int  ckpt_read_meta(const char *path, avm_ckpt_meta *meta);
/* Reads params (and the moments and step into opt unless opt is NULL) into a model built
 * with the same architecture; meta may be NULL. Checks the checksums. */
int  ckpt_load(const char *path, avm_params *ps, avm_adamw *opt, avm_ckpt_meta *meta);
void ckpt_meta_free(avm_ckpt_meta *meta);
/* 1 if the checkpoint holds a parameter of that name (/params/<name>), 0 if not; -1 +
 * avm_fail if it cannot be read. Tells a layout of earlier versions by what it holds. */
int  ckpt_has_param(const char *path, const char *name);
/* For export and kmeans --source=layer: builds the model from the checkpoint's "model" config
 * (avmodel_init) and loads its parameters (checksum checked); meta may be NULL.
 * -1 + avm_fail. */
int ckpt_load_model(const char *path, avm_model *model, avm_ckpt_meta *meta);

/* --resume's check of a task (ckpt_model.c): the first of keys[n] (dotted paths) whose
 * value differs between a checkpoint's stored run configuration and this run's, as "KEY is
 * X; this run: Y" (caller frees); NULL when none differs; "stored configuration is not
 * JSON" when it is not. */
char *ckpt_config_diff(const char *stored, const char *mine, const char *const *keys, int n);

/* CRC-32 over the views of buf (params layout), in view order, padding excluded. */
uint32_t ckpt_checksum(const avm_params *ps, const float *buf);
#endif
