/* Fine-tuned CTC model: loading, saving, forward (see asr.h). */
#include "eval/asr.h"
#include "common/log.h"
#include "common/util.h"
#include "eval/export.h"
#include <stdlib.h>
#include <string.h>

static void *grow(void *p, size_t *cap, size_t need) {
    if (need <= *cap) return p;
    *cap = need;
    return xrealloc(p, need);
}

int asr_load(avm_asr *a, const char *dir) {
    memset(a, 0, sizeof *a);
    char *aj = path_join(dir, "asr.json"), *ut = path_join(dir, "units.txt"), *hd = path_join(dir, "ctc_head.h5");
    char *text = read_file(aj, NULL);
    json_value *v = text ? json_parse(text) : NULL;
    int rc = 0, have_enc = 0, have_units = 0;
    if (!text) rc = -1;
    else if (!v || strcmp(json_str_or(v, "format", ""), ASR_FORMAT))
        rc = avm_fail("%s: not an %s description", aj, ASR_FORMAT);
    else if (units_kind_parse(json_str_or(v, "units", ""), &a->kind))
        rc = avm_fail("%s: %s", aj, avm_error());
    if (!rc && !(rc = units_read(&a->units, ut))) have_units = 1;
    if (!rc && !(rc = export_load(dir, &a->enc, 1, &a->config))) have_enc = 1;
    if (!rc && a->units.n != (int)json_num_or(v, "vocab", -1))
        rc = avm_fail("%s: vocab %d, but %s has %d units", aj, (int)json_num_or(v, "vocab", -1), ut, a->units.n);
    if (!rc) {
        ctc_head_init(&a->head, a->enc.cfg.d, a->units.n, 1);
        rc = ctc_head_load(&a->head, hd);
    }
    if (rc) {
        if (have_enc) { avmodel_free(&a->enc); json_free(a->config); }
        if (have_units) units_free(&a->units);
        if (a->head.V) ctc_head_free(&a->head);
        memset(a, 0, sizeof *a);
    }
    json_free(v);
    free(text); free(aj); free(ut); free(hd);
    return rc;
}

int asr_save(const avm_asr *a, const char *dir, const char *config_json) {
    if (export_write(dir, &a->enc, config_json)) return -1;
    char *aj = path_join(dir, "asr.json"), *ut = path_join(dir, "units.txt"), *hd = path_join(dir, "ctc_head.h5");
    static const char *kinds[] = {"char", "phone", "word"};
    char *desc = xasprintf("{\"format\":\"%s\",\"units\":\"%s\",\"vocab\":%d}\n", ASR_FORMAT, kinds[a->kind], a->units.n);
    int rc = units_write(&a->units, ut);
    if (!rc) rc = ctc_head_save(&a->head, hd);
    if (!rc) rc = write_file_atomic(aj, desc, strlen(desc));
    free(desc); free(aj); free(ut); free(hd);
    return rc;
}

void asr_free(avm_asr *a) {
    avmodel_free(&a->enc);
    ctc_head_free(&a->head);
    units_free(&a->units);
    json_free(a->config);
    free(a->enc_out); free(a->rows); free(a->logits); free(a->off);
    memset(a, 0, sizeof *a);
}

int asr_apply_cmvn(const avm_asr *a, avm_loader *L) {
    if (L->audio_dim != a->enc.cfg.audio_in)
        return avm_fail("%s: %d inputs per token, the model takes %d", L->feats.dir, L->audio_dim, a->enc.cfg.audio_in);
    return export_cmvn(a->config, L->a_mean, L->a_istd, L->feats.n_mels);
}

int asr_forward(avm_asr *a, const avm_batch_data *d) {
    int B = d->B, T = d->T, dm = a->enc.cfg.d, V = a->head.V;
    a->enc_out = grow(a->enc_out, &a->cap_out, sizeof(float) * B * T * dm);
    if (avmodel_audio_forward(&a->enc, d->audio, d->len, B, T, a->enc_out, NULL)) return -1;
    if (B + 1 > a->cap_b) a->off = xrealloc(a->off, sizeof(int) * (a->cap_b = B + 1));
    a->off[0] = 0;
    for (int b = 0; b < B; b++) a->off[b + 1] = a->off[b] + d->len[b];
    int n = a->off[B];
    a->rows = grow(a->rows, &a->cap_rows, sizeof(float) * ((size_t)n + 1) * dm);
    a->logits = grow(a->logits, &a->cap_logits, sizeof(float) * ((size_t)n + 1) * V);
    for (int b = 0; b < B; b++)
        memcpy(a->rows + (size_t)a->off[b] * dm, a->enc_out + (size_t)b * T * dm, sizeof(float) * d->len[b] * dm);
    ctc_head_forward(&a->head, a->rows, n, a->logits);
    return 0;
}
