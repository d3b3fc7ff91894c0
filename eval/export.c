/* avmask export: the audio branch of a pretraining checkpoint -> audio_encoder.h5,
 * model.safetensors and config.json (see export.h). */
#include "common/json.h"
#include "common/log.h"
#include "common/opts.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "common/version.h"
#include "data/shard.h"
#include "eval/export.h"
#include "train/checkpoint.h"
#include <stdlib.h>
#include <string.h>

static const char *usage =
    "usage: avmask export --ckpt=FILE --out=DIR [--cmvn=FILE]\n"
    "Writes the audio branch (audio front-end, audio encoder, fusion encoder over audio\n"
    "tokens) of a pretraining checkpoint as DIR/audio_encoder.h5, DIR/model.safetensors\n"
    "and DIR/config.json (architecture, feature configuration, CMVN statistics).\n"
    "  --ckpt=FILE  checkpoint written by avmask pretrain\n"
    "  --cmvn=FILE  cmvn.h5 to embed (default: the one named in the checkpoint's config)\n"
    "eval/pytorch/load_avmask.py rebuilds the encoder in PyTorch from DIR.\n";

/* Copies a parsed JSON value into a writer. */
static void jw_value(avm_jw *w, const json_value *v) {
    switch (v->type) {
    case JSON_NULL: jw_null(w); break;
    case JSON_BOOL: jw_bool(w, v->num != 0); break;
    case JSON_NUM: jw_num(w, v->num); break;
    case JSON_STR: jw_str(w, v->str); break;
    case JSON_ARR:
        jw_arr_begin(w);
        for (int i = 0; i < v->n; i++) jw_value(w, v->items[i]);
        jw_arr_end(w);
        break;
    case JSON_OBJ:
        jw_obj_begin(w);
        for (int i = 0; i < v->n; i++) { jw_key(w, v->keys[i]); jw_value(w, v->items[i]); }
        jw_obj_end(w);
        break;
    }
}

static char *config_text(const avm_model *m, const json_value *ckcfg, const avm_cmvn *cm,
                         const char *ckpt, long step) {
    avm_strbuf b = {0};
    avm_jw w;
    jw_init(&w, &b);
    avm_config c = m->cfg;
    c.modalities = AVM_MOD_AUDIO;
    jw_obj_begin(&w);
    jw_key(&w, "format"); jw_str(&w, EXPORT_FORMAT);
    jw_key(&w, "avmask_version"); jw_str(&w, AVMASK_VERSION);
    jw_key(&w, "model"); avmodel_config_json(&c, &w);
    jw_key(&w, "layer"); jw_obj_begin(&w);
    jw_key(&w, "norm_first"); jw_bool(&w, 1);
    jw_key(&w, "activation"); jw_str(&w, "gelu");
    jw_key(&w, "layer_norm_eps"); jw_num(&w, 1e-5);
    jw_obj_end(&w);
    const json_value *feat = json_get(ckcfg, "features");
    jw_key(&w, "features"); if (feat) jw_value(&w, feat); else jw_null(&w);
    jw_key(&w, "cmvn"); jw_obj_begin(&w);
    jw_key(&w, "mean"); jw_arr_begin(&w);
    for (int i = 0; i < cm->dim; i++) jw_num(&w, cm->mean[i]);
    jw_arr_end(&w);
    jw_key(&w, "var"); jw_arr_begin(&w);
    for (int i = 0; i < cm->dim; i++) jw_num(&w, cm->var[i]);
    jw_arr_end(&w);
    jw_key(&w, "var_floor"); jw_num(&w, 1e-10);
    jw_obj_end(&w);
    jw_key(&w, "source"); jw_obj_begin(&w);
    jw_key(&w, "checkpoint"); jw_str(&w, ckpt);
    jw_key(&w, "step"); jw_int(&w, step);
    jw_obj_end(&w);
    jw_obj_end(&w);
    sb_add(&b, "\n");
    return b.s;
}

int cmd_export(int argc, char **argv) {
    avm_opts o;
    opts_parse(&o, "export", usage, argc, argv);
    const char *ckpt = opt_req(&o, "ckpt"), *out = opt_req(&o, "out"), *cmvn = opt_str(&o, "cmvn", NULL);
    opts_threads(&o);
    opts_finish(&o);
    if (o.npos) avm_die("export: unexpected argument '%s' (see --help)", o.pos[0]);

    avm_model m;
    avm_ckpt_meta meta;
    if (ckpt_load_model(ckpt, &m, &meta)) avm_die("export: %s", avm_error());
    json_value *cfg = json_parse(meta.config_json ? meta.config_json : "");
    if (!cfg) avm_die("export: %s: configuration attribute is not JSON", ckpt);
    if (!cmvn) cmvn = json_str_or(cfg, "features.cmvn", NULL);
    if (!cmvn) avm_die("export: %s names no cmvn.h5; give --cmvn=FILE", ckpt);
    avm_cmvn cm;
    if (cmvn_read(cmvn, &cm)) avm_die("export: %s (give --cmvn=FILE)", avm_error());
    if (cm.dim * 4 != m.cfg.audio_in)
        avm_die("export: %s: %d mel bins, but the model takes %d = 4 x %d inputs", cmvn, cm.dim,
                m.cfg.audio_in, m.cfg.audio_in / 4);
    char *text = config_text(&m, cfg, &cm, ckpt, meta.step);
    if (export_write(out, &m, text)) avm_die("export: %s", avm_error());
    size_t n = 0;
    for (int i = 0; i < m.params.n; i++) if (export_is_branch(m.params.p[i].name)) n += m.params.p[i].numel;
    printf("export: %s (step %ld) -> %s: %zu parameters of the audio branch\n", ckpt, meta.step, out, n);

    free(text);
    cmvn_free(&cm);
    json_free(cfg);
    ckpt_meta_free(&meta);
    avmodel_free(&m);
    opts_free(&o);
    return 0;
}
