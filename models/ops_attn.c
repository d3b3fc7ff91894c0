/* Multi-head scaled dot-product self-attention with a key padding mask. One (batch, head)
 * pair per OpenMP iteration; its three products go through single-threaded cblas_sgemm
 * (OpenBLAS-openmp does not nest inside a parallel region). */
#include "models/ops.h"
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <string.h>

/* glibc's vector expf (libmvec, via -lm), declared SIMD-capable only under -ffast-math */
#pragma omp declare simd notinbranch
float expf(float);

size_t attn_scratch_floats(int T, int slots) {
    return (size_t)(slots > 0 ? slots : omp_get_max_threads()) * 2 * (size_t)T * T;
}

/* Stable softmax of row s (length T) over unpadded keys (kpad NULL: no key is padded), in
 * place; all-padded -> zeros. With dm (attention dropout), also writes the weights applied to V, a[j] = s[j] * keep / (1 - p),
 * in the same pass. The max is exact in any order. */
static void softmax_row(float *s, const uint8_t *kpad, int T, const uint8_t *dm, float sc, float *a) {
    float mx = -INFINITY;
    if (kpad) {
        #pragma omp simd
        for (int j = 0; j < T; j++) s[j] = kpad[j] ? -INFINITY : s[j];
    }
    #pragma omp simd reduction(max:mx)      /* two loops: GCC vectorises each, not both in one */
    for (int j = 0; j < T; j++) mx = s[j] > mx ? s[j] : mx;
    if (mx == -INFINITY) {
        memset(s, 0, (size_t)T * sizeof(float));
        if (dm) memset(a, 0, (size_t)T * sizeof(float));
        return;
    }
    float sum = 0;
    #pragma omp simd reduction(+:sum)
    for (int j = 0; j < T; j++) { float e = expf(s[j] - mx); s[j] = e; sum += e; }   /* exp(-inf) = 0 */
    float inv = 1.0f / sum;
    if (!dm) {
        #pragma omp simd
        for (int j = 0; j < T; j++) s[j] *= inv;
        return;
    }
    #pragma omp simd
    for (int j = 0; j < T; j++) {
        float v = s[j] * inv;
        s[j] = v;
        a[j] = dm[j] ? v * sc : 0.0f;
    }
}

/* The attention weights applied to V in the backward: probs, or probs after dropout
 * (recomputed into buf, as the forward made them). */
static const float *applied_probs(const avm_attn_dims *a, const float *P, const uint8_t *dm, float *buf) {
    size_t TT = (size_t)a->T * a->T;
    if (a->p_drop <= 0.0f) return P;
    float s = 1.0f / (1.0f - a->p_drop);
    #pragma omp simd
    for (size_t i = 0; i < TT; i++) buf[i] = dm[i] ? P[i] * s : 0.0f;
    return buf;
}

/* Threads for the (batch, head) loops: never more than the scratch slots the caller gave. */
static int attn_threads(const avm_attn_dims *a) {
    int slots = omp_get_max_threads();
    return a->slots > 0 && a->slots < slots ? a->slots : slots;
}

static int any_set(const uint8_t *v, int n) {
    for (int i = 0; i < n; i++) if (v[i]) return 1;
    return 0;
}

/* One (sample, head) bh: scores Q K^T into P, the softmax over unpadded keys in place (with
 * dropout dm: the applied weights into buf), the context into ctx. */
static void attn_head(const avm_attn_dims *a, const float *qkv, const uint8_t *pad, int bh, float *P,
                      const uint8_t *dm, float *buf, float *ctx) {
    int T = a->T, d = a->d, H = a->heads, dh = d / H, ld = 3 * d, b = bh / H, h = bh % H;
    float scale = 1.0f / sqrtf((float)dh), sc = dm ? 1.0f / (1.0f - a->p_drop) : 1.0f;
    const float *Q = qkv + (size_t)b * T * ld + h * dh, *K = Q + d, *V = Q + 2 * d;
    const uint8_t *kp = pad + (size_t)b * T;
    float *C = ctx + (size_t)b * T * d + h * dh;
    const float *A = dm ? buf : P;
    /* the rows need no key mask when the sample has no padding (most samples) */
    const uint8_t *kmask = any_set(kp, T) ? kp : NULL;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, dh, scale, Q, ld, K, ld, 0.0f, P, T);
    for (int i = 0; i < T; i++) {
        size_t r = (size_t)i * T;
        if (!kp[i]) { softmax_row(P + r, kmask, T, dm ? dm + r : NULL, sc, buf + r); continue; }
        memset(P + r, 0, (size_t)T * sizeof(float));   /* padded query */
        if (dm) memset(buf + r, 0, (size_t)T * sizeof(float));
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, dh, T, 1.0f, A, T, V, ld, 0.0f, C, d);
}

void attn_forward(const avm_attn_dims *a, const float *qkv, const uint8_t *pad, avm_rng *rng,
                  float *probs, uint8_t *dmask, float *ctx, float *scratch) {
    size_t TT = (size_t)a->T * a->T;
    int drop = a->p_drop > 0.0f;
    if (drop) dropout_mask(dmask, (size_t)a->B * a->heads * TT, a->p_drop, rng);
    int slots = attn_threads(a);
    #pragma omp parallel for schedule(dynamic, 1) num_threads(slots)
    for (int bh = 0; bh < a->B * a->heads; bh++)
        attn_head(a, qkv, pad, bh, probs + (size_t)bh * TT, drop ? dmask + (size_t)bh * TT : NULL,
                  scratch + (size_t)omp_get_thread_num() * 2 * TT, ctx);
}

size_t attn_infer_floats(int T, int slots) {
    return (size_t)(slots > 0 ? slots : omp_get_max_threads()) * (size_t)T * T;
}

/* attn_forward without dropout, each softmax in its thread's scratch block and dropped. */
void attn_infer(const avm_attn_dims *a, const float *qkv, const uint8_t *pad, float *ctx, float *scratch) {
    size_t TT = (size_t)a->T * a->T;
    int slots = attn_threads(a);
    #pragma omp parallel for schedule(dynamic, 1) num_threads(slots)
    for (int bh = 0; bh < a->B * a->heads; bh++)
        attn_head(a, qkv, pad, bh, scratch + (size_t)omp_get_thread_num() * TT, NULL, NULL, ctx);
}

void attn_backward(const avm_attn_dims *a, const float *qkv, const uint8_t *pad, const float *probs,
                   const uint8_t *dmask, const float *dctx, float *dqkv, float *scratch) {
    int B = a->B, T = a->T, d = a->d, H = a->heads, dh = d / H, ld = 3 * d;
    size_t TT = (size_t)T * T;
    float scale = 1.0f / sqrtf((float)dh);
    int slots = attn_threads(a);
    #pragma omp parallel for schedule(dynamic, 1) num_threads(slots)
    for (int bh = 0; bh < B * H; bh++) {
        int b = bh / H, h = bh % H;
        const float *Q = qkv + (size_t)b * T * ld + h * dh, *K = Q + d, *V = Q + 2 * d;
        float *dQ = dqkv + (size_t)b * T * ld + h * dh, *dK = dQ + d, *dV = dQ + 2 * d;
        const float *P = probs + (size_t)bh * TT, *dC = dctx + (size_t)b * T * d + h * dh;
        const uint8_t *dm = dmask + (size_t)bh * TT;
        float *buf = scratch + (size_t)omp_get_thread_num() * 2 * TT, *dP = buf + TT;
        const float *A = applied_probs(a, P, dm, buf);
        /* dV = A^T dC ; dA = dC V^T */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, dh, T, 1.0f, A, T, dC, d, 0.0f, dV, ld);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, dh, 1.0f, dC, d, V, ld, 0.0f, dP, T);
        /* through dropout, then softmax: dS = P * (dP - sum_j dP P); scale folded in */
        float s = a->p_drop > 0.0f ? 1.0f / (1.0f - a->p_drop) : 1.0f;
        for (int i = 0; i < T; i++) {
            float *r = dP + (size_t)i * T;
            const float *p = P + (size_t)i * T;
            const uint8_t *m = dm + (size_t)i * T;
            float dot = 0;
            if (a->p_drop > 0.0f) {
                #pragma omp simd reduction(+:dot)
                for (int j = 0; j < T; j++) { float v = m[j] ? r[j] * s : 0.0f; r[j] = v; dot += v * p[j]; }
            } else {
                #pragma omp simd reduction(+:dot)
                for (int j = 0; j < T; j++) dot += r[j] * p[j];
            }
            #pragma omp simd
            for (int j = 0; j < T; j++) r[j] = p[j] * (r[j] - dot) * scale;
        }
        /* dQ = dS K ; dK = dS^T Q */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, dh, T, 1.0f, dP, T, K, ld, 0.0f, dQ, ld);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, dh, T, 1.0f, dP, T, Q, ld, 0.0f, dK, ld);
    }
    (void)pad;  /* padding is already encoded in probs (zero rows and columns) */
}
