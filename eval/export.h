/* The exported audio branch (DESIGN.md "Checkpoints and export"): a directory with
 *   audio_encoder.h5    /params/<name> float32 in the parameter's shape; attributes
 *                       format "avmask-audio-encoder-1", avmask_version, config (config.json)
 *   model.safetensors   the same tensors (safetensors format, F32, little-endian)
 *   config.json         {"format", "model": the architecture (avmodel config, modalities
 *                       "audio"), "features": extraction config, "cmvn": {"mean","var"}
 *                       per mel bin (apply (x - mean) / sqrt(max(var, 1e-10)) before
 *                       stacking 4 frames per token), "source": {"checkpoint","step"}}
 * The branch is every parameter named audio_frontend.*, audio_pos, audio_type,
 * audio_encoder.*, fusion_encoder.* (no mask embedding, no heads, no video). */
#ifndef AVMASK_EXPORT_H
#define AVMASK_EXPORT_H
#include "common/json.h"
#include "models/avmodel.h"

#define EXPORT_FORMAT "avmask-audio-encoder-1"

int export_is_branch(const char *name);   /* 1 if the parameter belongs to the branch */

/* Writes the three files of the export into dir (created). config_json: config.json text. */
int export_write(const char *dir, const avm_model *m, const char *config_json);

/* Builds a model (modalities audio) from dir/config.json and loads the branch from
 * dir/audio_encoder.h5; the other parameters keep their initialisation from seed.
 * *config (optional) receives the parsed config.json (caller json_free). */
int export_load(const char *dir, avm_model *m, uint64_t seed, json_value **config);
#endif
