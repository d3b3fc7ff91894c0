/* Base files for the fuzz targets of binary formats (fuzzmodel.c): a tiny model's
 * checkpoint, export and fine-tuned model dir, and a codebook, written once per process
 * into fuzz_dir(). The targets corrupt copies of them (fuzz_edit) and check that a copy
 * either is refused or loads exactly the base's values. */
#ifndef AVMASK_FUZZMODEL_H
#define AVMASK_FUZZMODEL_H
#include "models/avmodel.h"

/* d 8, ffn 8, 2 heads, one layer per encoder, audio_in 8 (2 mel bins), max_len 4;
 * audio_only: the encoder-only model an export and a fine-tuned model dir hold. */
void fuzz_micro_config(avm_config *c, int audio_only);
/* The base model (seed 1) of fuzz_micro_config(audio_only): its parameters are what every
 * successful load must reproduce. */
const avm_model *fuzz_base_model(int audio_only);
const char *fuzz_base_ckpt(void);       /* fuzz_dir()/base.ckpt.h5 (AV model, params only) */
const char *fuzz_base_export(void);     /* fuzz_dir()/base-export/ (config.json, h5, safetensors) */
const char *fuzz_base_asr(void);        /* fuzz_dir()/base-asr/ (export + units.txt, ctc_head.h5, asr.json) */
/* fuzz_dir()/base-s2i/ (s2i_save: export + intents.txt with 3 intents, s2i_head.h5 of
 * embedding size 4, s2i.json) */
const char *fuzz_base_s2i(void);
/* A copy of the base export in fuzz_dir()/name/ whose file `file` is replaced by data. */
const char *fuzz_export_with(const char *name, const char *file, const unsigned char *data, size_t size);
/* 1 if the kept parameters of a equal the base model's (bitwise). */
int fuzz_same_params(const avm_params *a, int audio_only, int (*keep)(const char *));
#endif
