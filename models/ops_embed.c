/* Token embeddings: learned mask vector replacement, learned positions and modality type. */
#include "models/ops.h"
#include <string.h>

void embed_forward(float *x, int B, int T, int d, const uint8_t *mask, const float *mask_emb,
                   const float *pos, const float *type) {
    #pragma omp parallel for schedule(static) if ((size_t)B * T * d > 65536)
    for (int i = 0; i < B * T; i++) {
        float *r = x + (size_t)i * d;
        const float *p = pos + (size_t)(i % T) * d;
        if (mask && mask[i]) memcpy(r, mask_emb, (size_t)d * sizeof(float));
        if (!type) {   /* text: positions only */
            #pragma omp simd
            for (int j = 0; j < d; j++) r[j] += p[j];
            continue;
        }
        #pragma omp simd
        for (int j = 0; j < d; j++) r[j] += p[j] + type[j];
    }
}

void embed_backward(float *dx, int B, int T, int d, const uint8_t *mask, float *dmask_emb,
                    float *dpos, float *dtype) {
    /* positions: each t owned by one thread */
    #pragma omp parallel for schedule(static) if ((size_t)B * T * d > 65536)
    for (int t = 0; t < T; t++)
        for (int b = 0; b < B; b++) {
            const float *r = dx + ((size_t)b * T + t) * d;
            for (int j = 0; j < d; j++) dpos[(size_t)t * d + j] += r[j];
        }
    if (!dtype && !mask) return;
    /* type and mask vector: 16-column blocks, each owned by one thread, rows summed in order
     * (the same sums on any thread count) */
    #pragma omp parallel for schedule(static) if ((size_t)B * T * d > 65536)
    for (int j0 = 0; j0 < d; j0 += 16) {
        int w = d - j0 < 16 ? d - j0 : 16;
        for (int i = 0; i < B * T; i++) {
            const float *r = dx + (size_t)i * d + j0;
            if (dtype) {
                #pragma omp simd
                for (int j = 0; j < w; j++) dtype[j0 + j] += r[j];
            }
            if (!mask || !mask[i]) continue;
            #pragma omp simd
            for (int j = 0; j < w; j++) dmask_emb[j0 + j] += r[j];
        }
    }
    if (!mask) return;
    #pragma omp parallel for schedule(static) if ((size_t)B * T * d > 65536)
    for (int i = 0; i < B * T; i++)
        if (mask[i]) memset(dx + (size_t)i * d, 0, (size_t)d * sizeof(float));
}
