/* Text encoder model dirs and the run configuration of textlm checkpoints (see textlm.h). */
#include "train/textlm.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "data/params_h5.h"
#include <stdlib.h>
#include <string.h>

static void model_json(avm_jw *w, const avm_text_config *c, const avm_vocab *v) {
    jw_key(w, "model"); textenc_config_json(c, w);
    jw_key(w, "vocab");
    jw_obj_begin(w);
    jw_key(w, "size"); jw_int(w, v->n);
    char crc[16];
    snprintf(crc, sizeof crc, "%08x", vocab_crc(v));
    jw_key(w, "crc32"); jw_str(w, crc);
    jw_obj_end(w);
}

char *tl_model_config(const avm_text_config *c, const avm_vocab *v, long steps) {
    avm_strbuf b = {0};
    avm_jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    model_json(&w, c, v);
    jw_key(&w, "pooling"); jw_str(&w, "mean");
    jw_key(&w, "source");
    jw_obj_begin(&w);
    jw_key(&w, "steps"); jw_int(&w, steps);
    jw_obj_end(&w);
    jw_obj_end(&w);
    sb_add(&b, "\n");
    return b.s;
}

static int encoder_view(const char *name) { return !strncmp(name, "text_encoder.", 13); }

/* The model config text of config.json (the "model" object) for the parameter file. */
static char *config_model_text(const avm_text_config *c) {
    avm_strbuf b = {0};
    avm_jw w;
    jw_init(&w, &b);
    textenc_config_json(c, &w);
    return b.s;
}

int tl_model_save(const avm_textenc *m, const avm_vocab *v, const char *dir, long steps) {
    if (mkdir_p(dir)) return -1;
    char *h5 = path_join(dir, "text_encoder.h5"), *vp = path_join(dir, "vocab.txt"), *cj = path_join(dir, "config.json");
    char *mtext = config_model_text(&m->cfg), *text = tl_model_config(&m->cfg, v, steps);
    avm_tensor *t;
    int n = params_tensors(&m->params, m->params.data, encoder_view, &t);
    int rc = params_h5_write(h5, t, n, TEXTLM_FORMAT, mtext);
    if (!rc) rc = vocab_write(v, vp);
    if (!rc) rc = write_file_atomic(cj, text, strlen(text));   /* last: a complete dir has config.json */
    free(t); free(h5); free(vp); free(cj); free(mtext); free(text);
    return rc;
}

int tl_model_load(const char *dir, avm_textenc *m, avm_vocab *v) {
    char *cj = path_join(dir, "config.json"), *vp = path_join(dir, "vocab.txt"), *h5 = path_join(dir, "text_encoder.h5");
    char *text = read_file(cj, NULL), crc[16];
    json_value *js = text ? json_parse(text) : NULL;
    avm_text_config c;
    textenc_config_default(&c);
    int rc = text ? 0 : -1;
    if (!rc && !js) rc = avm_fail("%s: not JSON: %s", cj, avm_error());
    if (!rc && textenc_config_from_json(&c, json_get(js, "model"))) rc = avm_fail("%s: %s", cj, avm_error());
    if (!rc && vocab_read(v, vp)) rc = -1;
    if (!rc) {
        snprintf(crc, sizeof crc, "%08x", vocab_crc(v));
        const char *want = json_str_or(js, "vocab.crc32", "");
        if (v->n != c.vocab || strcmp(want, crc))
            rc = avm_fail("%s: %d tokens (crc32 %s), but %s names a vocabulary of %d (crc32 %s)", vp, v->n, crc, cj,
                          c.vocab, want);
        if (rc) vocab_free(v);
    }
    c.mlm_head = 0;
    if (!rc && textenc_init(m, &c, 0)) {
        rc = avm_fail("%s: %s", cj, avm_error());
        vocab_free(v);
    }
    if (!rc) {
        avm_tensor *t;
        int n = params_tensors(&m->params, m->params.data, NULL, &t);
        rc = params_h5_read(h5, t, n, TEXTLM_FORMAT);
        free(t);
        if (rc) { textenc_free(m); vocab_free(v); }
    }
    json_free(js);
    free(text); free(cj); free(vp); free(h5);
    return rc;
}

char *tl_run_config(const tl_run *r) {
    const tl_opts *f = &r->f;
    avm_strbuf b = {0};
    avm_jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    model_json(&w, &r->m.cfg, &r->vocab);
    jw_key(&w, "textlm");
    jw_obj_begin(&w);
    jw_key(&w, "text"); jw_str(&w, f->text);
    jw_key(&w, "valid_text"); if (f->valid_text) jw_str(&w, f->valid_text); else jw_null(&w);
    jw_key(&w, "format"); jw_str(&w, f->format == TEXT_KALDI ? "kaldi" : "lines");
    jw_key(&w, "min_count"); jw_int(&w, f->min_count);
    jw_key(&w, "max_vocab"); jw_int(&w, f->max_vocab);
    jw_key(&w, "vocab_file"); if (f->vocab_file) jw_str(&w, f->vocab_file); else jw_null(&w);
    jw_key(&w, "mask_prob"); jw_num(&w, f->mask_prob);
    jw_key(&w, "contrastive"); jw_num(&w, f->contrastive);
    jw_key(&w, "margin"); jw_num(&w, f->margin);
    jw_key(&w, "batch_tokens"); jw_int(&w, f->batch_tokens);
    jw_key(&w, "max_steps"); jw_int(&w, f->max_steps);
    jw_key(&w, "lr"); jw_num(&w, f->sched.peak);
    jw_key(&w, "warmup"); jw_int(&w, f->sched.warmup);
    jw_key(&w, "schedule"); jw_str(&w, f->schedule);
    jw_key(&w, "final_lr_ratio"); jw_num(&w, f->sched.final_ratio);
    jw_key(&w, "weight_decay"); jw_num(&w, f->weight_decay);
    jw_key(&w, "clip"); jw_num(&w, f->clip);
    jw_key(&w, "seed"); jw_int(&w, (long long)f->seed);
    jw_obj_end(&w);
    jw_obj_end(&w);
    return b.s;
}
