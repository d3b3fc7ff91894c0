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
    for (int i = 0; i < B * T; i++) {
        float *r = dx + (size_t)i * d;
        for (int j = 0; j < d; j++) dtype[j] += r[j];
        if (mask && mask[i]) {
            for (int j = 0; j < d; j++) dmask_emb[j] += r[j];
            memset(r, 0, (size_t)d * sizeof(float));
        }
    }
}
