/* The text encoder's inference forward (textenc.h textenc_infer): sentence embeddings for
 * textlm --embed, the text model's validation and TinyS2I's menu titles. The training
 * forward's operations in the same order (so the same floats on the same thread count), but
 * the layers run in place in one buffer of an arena of their own and nothing is kept for a
 * backward, as in models/avmodel_infer.c. */
#include "models/textenc.h"
#include "common/util.h"
#include "models/ops.h"
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>

static size_t up64(size_t bytes) { return (bytes + 63) & ~(size_t)63; }

/* Carves the arena (or, with base NULL, only counts its bytes) for rows tokens. */
static size_t carve(avm_textenc *m, char *base, size_t rows, int T, int slots) {
    size_t d = m->cfg.d, wide = 3 * d > (size_t)m->cfg.ffn ? 3 * d : (size_t)m->cfg.ffn, off = 0;
#define PART(ptr, bytes) do { if (base) ptr = (void *)(base + off); off += up64(bytes); } while (0)
    PART(m->inf.x, rows * d * sizeof(float));
    PART(m->inf.h, rows * d * sizeof(float));
    PART(m->inf.ls.ln, rows * d * sizeof(float));
    PART(m->inf.ls.h, rows * d * sizeof(float));
    PART(m->inf.ls.f, rows * wide * sizeof(float));
    PART(m->inf.ls.stats, 2 * rows * sizeof(float));
    PART(m->inf.ls.attn, attn_infer_floats(T, slots) * sizeof(float));
    PART(m->inf.pad, rows);
    PART(m->inf.tid, rows * sizeof(int32_t));
#undef PART
    return off;
}

/* Grows the arena (never shrinks) to B samples of T tokens on this many threads. */
static void reserve(avm_textenc *m, int B, int T) {
    int rows = B * T, slots = omp_get_max_threads();
    if (m->inf.block && rows <= m->inf.cap_rows && T <= m->inf.cap_T && slots <= m->inf.slots) return;
    if (rows < m->inf.cap_rows) rows = m->inf.cap_rows;
    if (T < m->inf.cap_T) T = m->inf.cap_T;
    if (slots < m->inf.slots) slots = m->inf.slots;
    free(m->inf.block);
    m->inf.block = xmalloc(carve(m, NULL, rows, T, slots) + 64);
    char *base = (char *)m->inf.block + (64 - (uintptr_t)m->inf.block % 64) % 64;
    carve(m, base, rows, T, slots);
    m->inf.cap_rows = rows; m->inf.cap_T = T; m->inf.slots = m->inf.ls.slots = slots;
}

int textenc_infer(avm_textenc *m, const int32_t *ids, const int *len, int B, int T) {
    if (textenc_check_batch(m, ids, len, B, T)) return -1;
    reserve(m, B, T);
    const float *P = m->params.data;
    int d = m->cfg.d, n = B * T;
    uint8_t *pad = m->inf.pad;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            int i = b * T + t;
            pad[i] = t >= len[b];
            m->inf.tid[i] = pad[i] ? AVM_TEXT_PAD : ids[i];
        }
    m->B = B;
    m->T = T;
    m->drop_p = m->attn_p = 0;
    m->n_pred = 0;
    float *x = m->inf.x;
    token_embed_forward(m->inf.tid, n, P + m->tok, d, x);
    embed_forward(x, B, T, d, NULL, NULL, P + m->pos, NULL);
    for (int l = 0; l < m->cfg.layers; l++) layer_infer(&m->layers[l], &m->params, x, pad, B, T, x, &m->inf.ls);
    layernorm_forward(x, n, d, P + m->norm_g, P + m->norm_b, m->inf.h, m->inf.ls.stats, m->inf.ls.stats + n);
    m->out = m->inf.h;
    m->out_pad = pad;
    return 0;
}
