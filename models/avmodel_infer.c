/* Inference-only forwards (avmodel.h): the audio branch (decoding) and the hidden states of
 * the whole model (layer features), in one arena instead of the training workspace. They run
 * the training forward's operations in the same order with the same sizes (so the same
 * floats on the same thread count) but keep nothing a backward would read: the layers run in
 * place in one residual buffer, the softmax of each (sample, head) lives in its thread's
 * scratch, and dropout is not even looked at. */
#include "models/avmodel.h"
#include "models/avmodel_internal.h"
#include "common/log.h"
#include "common/util.h"
#include <omp.h>
#include <stdlib.h>
#include <string.h>

static size_t up64(size_t bytes) { return (bytes + 63) & ~(size_t)63; }

/* Carves the block (or, with base NULL, only counts its bytes) for rows tokens. */
static size_t carve(avm_model *m, char *base, size_t rows, int T, int states, int slots) {
    avm_infer *f = &m->inf;
    size_t d = m->cfg.d, wide = 3 * d > (size_t)m->cfg.ffn ? 3 * d : (size_t)m->cfg.ffn;
    size_t nd = up64(rows * d * sizeof(float)), off = 0;
    int av = m->cfg.modalities == AVM_MOD_AV;
#define PART(ptr, bytes) do { if (base) ptr = (void *)(base + off); off += up64(bytes); } while (0)
    PART(f->res, nd);
    PART(f->aout, nd);
    if (av) PART(f->vout, nd); else f->vout = NULL;
    PART(f->ls.ln, nd);
    PART(f->ls.h, nd);
    PART(f->ls.f, rows * wide * sizeof(float));
    PART(f->ls.stats, 2 * rows * sizeof(float));
    PART(f->ls.attn, attn_infer_floats(T, slots) * sizeof(float));
    PART(f->states, (size_t)states * nd);
    PART(f->pad, rows);
    PART(f->fpad, rows);
#undef PART
    return off;
}

/* Grows the arena (never shrinks) to rows fusion tokens of at most T each and `states` kept
 * hidden states; the contents are not kept. */
static void reserve(avm_model *m, size_t rows, int T, int states) {
    avm_infer *f = &m->inf;
    int slots = omp_get_max_threads();
    if (f->block && rows <= f->cap_rows && T <= f->cap_T && states <= f->cap_states && slots <= f->slots) return;
    if (rows < f->cap_rows) rows = f->cap_rows;
    if (T < f->cap_T) T = f->cap_T;
    if (states < f->cap_states) states = f->cap_states;
    if (slots < f->slots) slots = f->slots;
    free(f->block);
    f->block = xmalloc(carve(m, NULL, rows, T, states, slots) + 64);
    char *base = (char *)f->block + (64 - (uintptr_t)f->block % 64) % 64;
    carve(m, base, rows, T, states, slots);
    f->cap_rows = rows; f->cap_T = T; f->cap_states = states; f->slots = f->ls.slots = slots;
}

/* Fusion tokens per sample: 2T with fusion=sequence over both streams, else T. */
static int fusion_T(const avm_model *m, int video, int T) {
    return video && m->cfg.fusion == AVM_FUSION_SEQUENCE ? 2 * T : T;
}

void avmodel_infer_reserve(avm_model *m, long tokens, int T, int hidden) {
    int av = m->cfg.modalities == AVM_MOD_AV, Tf = fusion_T(m, av, T);
    reserve(m, (size_t)tokens * (Tf / T), Tf, hidden ? avmodel_n_hidden(m) : 0);
}

void avmodel_infer_free(avm_model *m) {
    free(m->inf.block);
    memset(&m->inf, 0, sizeof m->inf);
}

/* One forward: the running state, the kept states (or NULL: everything in place in res). */
typedef struct {
    avm_model *m;
    int B, T, Tf;
    float *kept;            /* [n_hidden][B*T, d] or NULL */
} run;

/* Where hidden state k lives: its own slot, or the residual buffer. */
static float *state(const run *r, int k) {
    return r->kept ? r->kept + (size_t)k * r->B * r->T * r->m->cfg.d : r->m->inf.res;
}

/* Front-end + positions + type into x (no mask: nothing is masked), padding into pad. */
static void embed(const run *r, const avm_stream *s, const float *input, const int *len, float *x, uint8_t *pad) {
    const float *P = r->m->params.data;
    int B = r->B, T = r->T, d = r->m->cfg.d;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) pad[b * T + t] = t >= len[b];
    linear_forward(input, B * T, s->in, P + s->front_w, P + s->front_b, d, x);
    embed_forward(x, B, T, d, NULL, NULL, P + s->pos, P + s->type);
}

/* A stream's embeddings and its first `upto` layers (hidden states first..first+upto); with
 * upto = s->n and y, also its final norm into y. Returns the last state computed. */
static const float *stream(const run *r, const avm_stream *s, const float *input, const int *len, int first,
                           int upto, float *y) {
    avm_model *m = r->m;
    avm_infer *f = &m->inf;
    const float *P = m->params.data;
    float *x = state(r, first);
    embed(r, s, input, len, x, f->pad);
    for (int l = 0; l < upto; l++) {
        float *next = state(r, first + l + 1);
        layer_infer(&s->layers[l], &m->params, x, f->pad, r->B, r->T, next, &f->ls);
        x = next;
    }
    if (upto == s->n && y)
        layernorm_forward(x, r->B * r->T, m->cfg.d, P + s->norm_g, P + s->norm_b, y, f->ls.stats,
                          f->ls.stats + r->B * r->T);
    return x;
}

/* The fusion input in res from aout (and vout when video), its padding in fpad. */
static void fusion_input(const run *r, int video) {
    avm_model *m = r->m;
    avm_infer *f = &m->inf;
    int B = r->B, T = r->T, d = m->cfg.d;
    if (m->cfg.fusion == AVM_FUSION_CONCAT) {
        memcpy(f->fpad, f->pad, (size_t)B * T);
        avmodel_fuse_rows(m, f->aout, video ? f->vout : NULL, NULL, NULL, B, T, f->ls.f, f->res);
        return;
    }
    int S = video ? 2 : 1;      /* sequence: each sample's audio tokens, then its video tokens */
    for (int b = 0; b < B; b++)
        for (int s = 0; s < S; s++) {
            size_t src = (size_t)b * T, dst = (size_t)b * S * T + (size_t)s * T;
            memcpy(f->res + dst * d, (s ? f->vout : f->aout) + src * d, (size_t)T * d * sizeof(float));
            memcpy(f->fpad + dst, f->pad + src, (size_t)T);
        }
}

/* The fusion layers up to hidden state `upto` (numbered as avmodel_n_hidden's), with the
 * final norm into out when all of them ran. Returns the last state computed. */
static const float *fusion(const run *r, int upto, float *out) {
    avm_model *m = r->m;
    avm_infer *f = &m->inf;
    const float *P = m->params.data;
    int La = m->cfg.layers_audio, Lf = m->cfg.layers_fusion, n = r->B * r->Tf;
    float *x = f->res;
    for (int l = 0; l < Lf && La + l < upto; l++) {
        float *next = state(r, La + 1 + l);
        layer_infer(&m->fusion[l], &m->params, x, f->fpad, r->B, r->Tf, next, &f->ls);
        x = next;
    }
    if (upto == La + Lf && out)
        layernorm_forward(x, n, m->cfg.d, P + m->fnorm_g, P + m->fnorm_b, out, f->ls.stats, f->ls.stats + n);
    return x;
}

/* The model up to hidden state upto (video NULL: the audio branch), the whole of it with its
 * final norm into out when out is given. Returns that state's rows ([B*Tf, d]). */
static const float *forward(avm_model *m, const float *audio, const float *video, const int *len, int B, int T,
                            int upto, int keep, float *out) {
    int La = m->cfg.layers_audio, Tf = fusion_T(m, video != NULL, T);
    reserve(m, (size_t)B * Tf, Tf, keep ? avmodel_n_hidden(m) : 0);
    run r = {m, B, T, Tf, keep ? m->inf.states : NULL};
    const float *x = stream(&r, &m->audio, audio, len, 0, upto < La ? upto : La, upto > La ? m->inf.aout : NULL);
    if (upto <= La) return x;       /* the audio encoder never sees the video */
    if (video) {    /* the video stream reuses the residual buffer: the audio's output is in aout */
        run rv = r;
        rv.kept = NULL;
        stream(&rv, &m->video, video, len, 0, m->video.n, m->inf.vout);
    }
    fusion_input(&r, video != NULL);
    return fusion(&r, upto, out);
}

int avmodel_audio_infer(avm_model *m, const float *audio, const int *len, int B, int T, float *out,
                        const float **hidden) {
    if (avmodel_check_shape(m, len, B, T)) return -1;
    int nh = avmodel_n_hidden(m);
    forward(m, audio, NULL, len, B, T, nh - 1, hidden != NULL, out);
    for (int k = 0; hidden && k < nh; k++) hidden[k] = m->inf.states + (size_t)k * B * T * m->cfg.d;
    return 0;
}

int avmodel_layer_forward(avm_model *m, const float *audio, const float *video, const int *len, int B, int T,
                          int layer, float *out) {
    int d = m->cfg.d;
    if (layer < 0 || layer >= avmodel_n_hidden(m))
        return avm_fail("model: layer %d outside 0..%d", layer, avmodel_n_hidden(m) - 1);
    if (avmodel_check_shape(m, len, B, T)) return -1;
    if (m->cfg.modalities == AVM_MOD_AUDIO) video = NULL;    /* the audio branch alone */
    int Tf = layer > m->cfg.layers_audio ? fusion_T(m, video != NULL, T) : T;
    const float *h = forward(m, audio, video, len, B, T, layer, 0, NULL);
    for (int b = 0; b < B; b++)     /* the audio tokens' rows (sequence fusion: the first T of 2T) */
        memcpy(out + (size_t)b * T * d, h + (size_t)b * Tf * d, (size_t)T * d * sizeof(float));
    return 0;
}
