/* avmask export: the audio branch of a pretraining checkpoint -> audio_encoder.h5,
 * model.safetensors and config.json (see export.h). */
#include "common/json.h"
#include "common/log.h"
#include "common/opts.h"
#include "common/util.h"
#include "data/shard.h"
#include "train/export.h"
#include "train/checkpoint.h"
#include <stdlib.h>
#include <string.h>

typedef struct { const char *ckpt, *out, *cmvn; } export_opts;

#define F(f) OPT_FIELD(export_opts, f)
static const avm_optdef table[] = {
    {OPT_STR, "checkpoint", F(ckpt), .meta = "FILE", .flags = OPT_REQ, .help = "checkpoint written by avmask pretrain"},
    {OPT_STR, "out", F(out), .meta = "DIR", .flags = OPT_REQ, .help = "export directory"},
    {OPT_STR, "cmvn", F(cmvn), .meta = "FILE", .help = "cmvn.h5 to embed (default: the one named in the checkpoint's config)"},
    OPT_THREADS("accepted by every command; export runs on one core"),
    {.type = OPT_END},
};

static const avm_optspec export_optspec = {
    "export",
    "usage: avmask export --checkpoint=FILE --out=DIR [--cmvn=FILE]\n"
    "Writes the audio branch (audio front-end, audio encoder, the audio half of the fusion\n"
    "projection, fusion encoder over audio tokens) of a pretraining checkpoint as\n"
    "DIR/audio_encoder.h5, DIR/model.safetensors and DIR/config.json (architecture, feature\n"
    "configuration, CMVN statistics). eval/pytorch/load_avmask.py rebuilds the encoder in\n"
    "PyTorch from DIR.\n",
    table, NULL, NULL,
};

int cmd_export(int argc, char **argv) {
    avm_opts o;
    export_opts e;
    opts_parse(&o, &export_optspec, &e, argc, argv);
    opts_threads(&o);
    const char *ckpt = e.ckpt, *out = e.out, *cmvn = e.cmvn;

    avm_model m;
    avm_ckpt_meta meta;
    if (ckpt_load_model(ckpt, &m, &meta)) avm_die("export: %s", avm_error());
    json_value *cfg = json_parse(meta.config_json ? meta.config_json : "");
    if (!cfg) avm_die("export: %s: configuration attribute is not JSON", ckpt);
    if (!cmvn) cmvn = json_str_or(cfg, "features.cmvn", NULL);
    if (!cmvn) avm_die("export: %s names no cmvn.h5; give --cmvn=FILE", ckpt);
    avm_cmvn cm;
    if (cmvn_read(cmvn, &cm)) avm_die("export: %s (give --cmvn=FILE)", avm_error());
    long long stack;   /* frames per token of the training features */
    if (json_int_range(cfg, "features.stack", 1, 1000, JSON_REQUIRED, &stack)) avm_die("export: %s: %s", ckpt, avm_error());
    if (cm.dim * stack != m.cfg.audio_in)
        avm_die("export: %s: %d mel bins, but the model takes %d = %lld x %lld inputs", cmvn, cm.dim,
                m.cfg.audio_in, stack, m.cfg.audio_in / stack);
    char *text = export_config_json(&m.cfg, json_path(cfg, "features"), cm.mean, cm.var, cm.dim,
                                    "checkpoint", ckpt, meta.step);
    avm_model br;
    if (avmodel_audio_branch(&m, &br)) avm_die("export: %s: %s", ckpt, avm_error());
    if (export_write(out, &br, text)) avm_die("export: %s", avm_error());
    size_t n = params_values(&br.params);
    avmodel_free(&br);
    printf("export: %s (step %ld) -> %s: %zu parameters of the audio branch\n", ckpt, meta.step, out, n);

    free(text);
    cmvn_free(&cm);
    json_free(cfg);
    ckpt_meta_free(&meta);
    avmodel_free(&m);
    opts_free(&o);
    return 0;
}
