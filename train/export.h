/* The exported audio branch (eval/README.md "Export"): a directory with
 *   audio_encoder.h5    /params/<name> float32 in the parameter's shape; attributes
 *                       format "avmask-audio-encoder-1", avmask_version, config (config.json)
 *                       and avmask_crc32, the checksum of the tensors: a parameter file
 *                       (data/params_h5.h)
 *   model.safetensors   the same tensors (safetensors format, F32, little-endian), the same
 *                       checksum in __metadata__.avmask_crc32
 *   config.json         {"format", "model": the architecture (avmodel config, modalities
 *                       "audio"), "features": extraction config, "cmvn": {"mean","var"}
 *                       per mel bin (apply (x - mean) / sqrt(max(var, 1e-10)) before
 *                       stacking 4 frames per token), "source": {"checkpoint","step"}}
 * The branch is every parameter of an encoder-only model (avm_config.encoder_only), named
 * audio_frontend.*, audio_pos, audio_type, audio_encoder.*, fusion_proj.*, fusion_encoder.*
 * (no mask embedding, no heads, no video). */
#ifndef AVMASK_EXPORT_H
#define AVMASK_EXPORT_H
#include "common/json.h"
#include "models/avmodel.h"

#define EXPORT_FORMAT "avmask-audio-encoder-1"

int export_is_branch(const char *name);   /* 1 if the parameter belongs to the branch */

/* Writes the three files of the export of m, an encoder-only model (avm_config.encoder_only:
 * every parameter is the branch's), into dir (created). config_json: config.json text. */
int export_write(const char *dir, const avm_model *m, const char *config_json);

/* Builds an encoder-only model (modalities audio, avm_config.encoder_only) from
 * dir/config.json and loads every parameter from dir/audio_encoder.h5. Refuses a file whose
 * data fail its checksum and a model.safetensors that is malformed or holds other values
 * than audio_encoder.h5; a file without checksum (an export written before checksums) loads
 * with a warning.
 * *config (optional) receives the parsed config.json (caller json_free). */
int export_load(const char *dir, avm_model *m, json_value **config);

/* The text of config.json for an audio branch of architecture c (written with modalities
 * audio), features (the extraction section, may be NULL), CMVN mean/var [n_mels], and a
 * "source" object {src_key: src_val, "step": step}. Caller frees. */
char *export_config_json(const avm_config *c, const json_value *features, const double *mean,
                         const double *var, int n_mels, const char *src_key, const char *src_val,
                         long step);
/* A head's parameter file beside an export (S2I's s2i_head.h5, TinyS2I's tinys2i_head.h5):
 * every view of ps in a params_h5 file of that format (config "{}"), written (write 1) or
 * read back into ps. -1 + avm_fail naming the file. */
int export_head_io(const avm_params *ps, const char *path, const char *format, int write);

/* CMVN of a parsed config.json as mean and 1/sqrt(max(var, 1e-10)) [n_mels]. */
int export_cmvn(const json_value *config, float *mean, float *istd, int n_mels);
#endif
