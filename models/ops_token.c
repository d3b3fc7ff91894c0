/* Text ops: token embedding lookup (gradient scattered into the table, the padding id's row
 * left alone) and the mean over the unpadded tokens of each sample (sentence embeddings). */
#include "models/ops.h"
#include <string.h>

void token_embed_forward(const int32_t *ids, int n, const float *table, int d, float *y) {
    #pragma omp parallel for schedule(static) if ((size_t)n * d > 65536)
    for (int i = 0; i < n; i++) memcpy(y + (size_t)i * d, table + (size_t)ids[i] * d, (size_t)d * sizeof(float));
}

void token_embed_backward(const int32_t *ids, int n, const float *dy, int d, int pad, float *dtable) {
    /* 16-column blocks, each owned by one thread, rows added in order: a word occurring
     * twice gets the same sum on any thread count */
    #pragma omp parallel for schedule(static) if ((size_t)n * d > 65536)
    for (int j0 = 0; j0 < d; j0 += 16) {
        int w = d - j0 < 16 ? d - j0 : 16;
        for (int i = 0; i < n; i++) {
            if (ids[i] == pad) continue;
            float *t = dtable + (size_t)ids[i] * d + j0;
            const float *g = dy + (size_t)i * d + j0;
            #pragma omp simd
            for (int j = 0; j < w; j++) t[j] += g[j];
        }
    }
}

/* Unpadded rows of sample b. */
static int count_rows(const uint8_t *pad, int b, int T) {
    int c = 0;
    for (int t = 0; t < T; t++) c += !pad || !pad[(size_t)b * T + t];
    return c;
}

void mean_pool_forward(const float *x, int B, int T, int d, const uint8_t *pad, float *y) {
    #pragma omp parallel for schedule(static) if ((size_t)B * T * d > 65536)
    for (int b = 0; b < B; b++) {
        float *o = y + (size_t)b * d;
        memset(o, 0, (size_t)d * sizeof(float));
        int c = count_rows(pad, b, T);
        if (!c) continue;
        for (int t = 0; t < T; t++) {
            if (pad && pad[(size_t)b * T + t]) continue;
            const float *r = x + ((size_t)b * T + t) * d;
            #pragma omp simd
            for (int j = 0; j < d; j++) o[j] += r[j];
        }
        float inv = 1.0f / (float)c;
        for (int j = 0; j < d; j++) o[j] *= inv;
    }
}

void mean_pool_backward(const float *dy, int B, int T, int d, const uint8_t *pad, float *dx) {
    #pragma omp parallel for schedule(static) if ((size_t)B * T * d > 65536)
    for (int b = 0; b < B; b++) {
        int c = count_rows(pad, b, T);
        float inv = c ? 1.0f / (float)c : 0.0f;
        const float *g = dy + (size_t)b * d;
        for (int t = 0; t < T; t++) {
            float *r = dx + ((size_t)b * T + t) * d;
            if (pad && pad[(size_t)b * T + t]) { memset(r, 0, (size_t)d * sizeof(float)); continue; }
            for (int j = 0; j < d; j++) r[j] = g[j] * inv;
        }
    }
}
