#include "train/specaug.h"
#include "common/util.h"
#include "train/mask.h"
#include "train/seeding.h"
#include <stdlib.h>
#include <string.h>

int specaug_active(const avm_specaug *s) {
    return (s->time_p > 0 && s->time_len > 0) || (s->n_freq > 0 && s->freq_width > 0);
}

long specaug_apply(const avm_specaug *s, avm_batch_data *d, int n_mels, int stack, uint64_t seed, long step) {
    int T = d->T, dim = n_mels * stack;
    uint8_t *mask = xmalloc((size_t)T + 1);
    long masked = 0;
    for (int b = 0; b < d->B; b++) {
        float *x = d->audio + (size_t)b * T * dim;
        int len = d->len[b];
        avm_rng r;
        train_rng(&r, seed, SEED_SPECAUG, step, d->gidx ? d->gidx[b] : b);
        if (s->time_p > 0 && s->time_len > 0) {
            masked += mask_spans(&r, mask, len, T, s->time_p, s->time_len);
            for (int t = 0; t < len; t++)
                if (mask[t]) memset(x + (size_t)t * dim, 0, sizeof(float) * dim);
        }
        for (int k = 0; k < s->n_freq && s->freq_width > 0; k++) {
            int wmax = s->freq_width < n_mels ? s->freq_width : n_mels;
            int w = (int)rng_below(&r, (uint32_t)wmax + 1);
            int f0 = (int)rng_below(&r, (uint32_t)(n_mels - w + 1));
            for (int t = 0; t < len && w; t++)
                for (int j = 0; j < stack; j++)
                    memset(x + (size_t)t * dim + (size_t)j * n_mels + f0, 0, sizeof(float) * w);
        }
    }
    free(mask);
    return masked;
}
