/* avmask textlm --embed: one sentence embedding per input sentence (see textlm.h). */
#include "train/textlm.h"
#include "common/log.h"
#include "common/util.h"
#include "data/h5util.h"
#include <stdlib.h>
#include <string.h>

int tl_embed_sentences(avm_textenc *m, const avm_textset *s, long budget, float *emb) {
    avm_textloader L;
    avm_textbatch b = {0};
    textloader_open(&L, s, budget, 0, 0);
    int d = m->cfg.d, rc = 0, nb = textloader_plan(&L, 0);
    float *pooled = NULL;
    for (int bi = 0; bi < nb && !rc; bi++) {
        if ((rc = textloader_get(&L, bi, 0, 1, &b)) || (rc = textenc_infer(m, b.ids, b.len, b.B, b.T))) break;
        pooled = xrealloc(pooled, (size_t)b.B * d * sizeof *pooled);
        textenc_pool(m, pooled);
        for (int k = 0; k < b.B; k++) memcpy(emb + (size_t)b.sent[k] * d, pooled + (size_t)k * d, d * sizeof *emb);
    }
    free(pooled);
    textbatch_free(&b);
    textloader_close(&L);
    return rc;
}

static int write_h5(const char *path, const avm_textset *s, const float *emb, int d, const char *model_dir) {
    hid_t f = h5_begin_sealed(path);
    if (f < 0) return -1;
    char *cfg = path_join(model_dir, "config.json"), *text = read_file(cfg, NULL);
    const avm_text_counts *c = &s->counts;
    int rc = text ? 0 : -1;
    if (!rc) rc = h5_write_f32_2d(f, "embeddings", emb, s->n, d, path);
    if (!rc) rc = h5_write_strs(f, "ids", s->id, s->n, path);
    if (!rc) rc = h5_write_str_attr(f, "format", TEXTLM_EMB_FORMAT, path);
    if (!rc) rc = h5_write_str_attr(f, "pooling", "mean", path);
    if (!rc) rc = h5_write_str_attr(f, "model", model_dir, path);
    if (!rc) rc = h5_write_str_attr(f, "config", text, path);
    if (!rc) rc = h5_write_i64_attr(f, "words", c->words, path);
    if (!rc) rc = h5_write_i64_attr(f, "unk", c->unk, path);
    if (!rc) rc = h5_write_i64_attr(f, "cut", c->cut, path);
    free(cfg); free(text);
    return h5_commit_sealed(f, path, rc);
}

int tl_embed(tl_opts *f) {
    avm_textenc m;
    avm_vocab v;
    avm_textset s = {0};
    if (tl_model_load(f->model_dir, &m, &v)) avm_die("textlm: %s", avm_error());
    if (textset_read(&s, f->input, f->format, 1)) avm_die("textlm: %s", avm_error());
    if (!s.n) avm_die("textlm: %s: no sentence", f->input);
    textset_encode(&s, &v, m.cfg.max_len);
    const avm_text_counts *c = &s.counts;
    avm_info("textlm: %s: %ld sentences, %ld words, %ld (%.2f %%) outside the vocabulary mapped to <unk>, %ld cut at "
             "max_len %d", f->input, c->sentences, c->words, c->unk, c->words ? 100.0 * c->unk / c->words : 0.0,
             c->cut, m.cfg.max_len);
    float *emb = xmalloc((size_t)s.n * m.cfg.d * sizeof *emb);
    if (tl_embed_sentences(&m, &s, f->batch_tokens, emb) || write_h5(f->out, &s, emb, m.cfg.d, f->model_dir))
        avm_die("textlm: %s", avm_error());
    printf("textlm: %d sentence embeddings of %d dims in %s\n", s.n, m.cfg.d, f->out);
    free(emb);
    textset_free(&s);
    textenc_free(&m);
    vocab_free(&v);
    return 0;
}
