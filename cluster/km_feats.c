/* Token vectors for k-means (km_feats.h). The DCT is a [frames, n_mels] x [n_mels, 13]
 * product through cblas_sgemm: libavutil 57's av_tx has no DCT, and only 13 of the n_mels
 * coefficients are wanted. */
#include "cluster/km_feats.h"
#include "common/util.h"
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int km_source_parse(const char *s, km_source *src) {
    if (!strcmp(s, "mfcc")) *src = KM_SRC_MFCC;
    else if (!strcmp(s, "fbank")) *src = KM_SRC_FBANK;
    else if (!strcmp(s, "layer")) *src = KM_SRC_LAYER;
    else return avm_fail("--source=%s: expected mfcc, fbank or layer", s);
    return 0;
}

const char *km_source_name(km_source src) {
    return src == KM_SRC_MFCC ? "mfcc" : src == KM_SRC_LAYER ? "layer" : "fbank";
}

void km_feat_hash_name(const km_feat *f, char *out, size_t cap) {
    if (f->src == KM_SRC_LAYER) snprintf(out, cap, "layer:%s:%d%s", f->crc, f->layer, f->no_video ? ":novideo" : "");
    else snprintf(out, cap, "%s", km_source_name(f->src));
}

const char *km_video_name(const km_feat *f) { return f->no_video ? "dropped" : "used"; }

void km_feat_init(km_feat *f, km_source src, int n_mels, int stack) {
    memset(f, 0, sizeof *f);
    f->src = src;
    f->n_mels = n_mels;
    f->stack = stack;
    f->dim = src == KM_SRC_MFCC ? KM_MFCC_DIM : src == KM_SRC_LAYER ? 0 : stack * n_mels;
    if (src != KM_SRC_MFCC) return;
    /* Orthonormal DCT-II (torchaudio create_dct(norm="ortho"), Kaldi's ComputeDctMatrix)
     * with Kaldi's cepstral lifter 1 + Q/2 sin(pi i / Q) folded into each column. */
    f->dct = xmalloc(sizeof(float) * n_mels * KM_NCEPS);
    for (int i = 0; i < KM_NCEPS; i++) {
        double scale = sqrt((i ? 2.0 : 1.0) / n_mels) * (1 + 0.5 * KM_LIFTER * sin(M_PI * i / KM_LIFTER));
        for (int m = 0; m < n_mels; m++)
            f->dct[m * KM_NCEPS + i] = (float)(scale * cos(M_PI / n_mels * (m + 0.5) * i));
    }
}

void km_feat_set_norm(km_feat *f, const double *mean, const double *std) {
    free(f->mean);
    free(f->std);
    f->mean = xmalloc(sizeof(double) * f->dim);
    f->std = xmalloc(sizeof(double) * f->dim);
    for (int d = 0; d < f->dim; d++) {
        f->mean[d] = mean[d];
        f->std[d] = std[d] > 1e-6 ? std[d] : 1e-6;   /* a constant dimension stays finite */
    }
}

void km_feat_free(km_feat *f) {
    free(f->dct);
    free(f->mean);
    free(f->std);
    free(f->ckpt);
    memset(f, 0, sizeof *f);
}

/* torchaudio.functional.compute_deltas, win_length 5: sum_n n (x[t+n] - x[t-n]) / 10 over
 * n = 1, 2, indices clamped to the utterance. Columns [src, src+13) -> [dst, dst+13). */
static void deltas(float *x, int frames, int stride, int src, int dst) {
    for (int t = 0; t < frames; t++) {
        int p1 = t + 1 < frames ? t + 1 : frames - 1, p2 = t + 2 < frames ? t + 2 : frames - 1;
        int m1 = t > 0 ? t - 1 : 0, m2 = t > 1 ? t - 2 : 0;
        for (int i = 0; i < KM_NCEPS; i++) {
            const float *c = x + src + i;
            x[(size_t)t * stride + dst + i] =
                (float)((c[(size_t)p1 * stride] - c[(size_t)m1 * stride] +
                         2.0 * (c[(size_t)p2 * stride] - c[(size_t)m2 * stride])) / 10.0);
        }
    }
}

void km_mfcc_frames(const km_feat *f, const float *fbank, int frames, float *out) {
    if (frames <= 0) return;
    /* Cepstra straight into columns 0..12 of the 39-wide rows (ldc = 39). */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, frames, KM_NCEPS, f->n_mels, 1.0f, fbank, f->n_mels,
                f->dct, KM_NCEPS, 0.0f, out, KM_MFCC_DIM);
    deltas(out, frames, KM_MFCC_DIM, 0, KM_NCEPS);
    deltas(out, frames, KM_MFCC_DIM, KM_NCEPS, 2 * KM_NCEPS);
}

void km_feat_raw(const km_feat *f, const float *fbank, int frames, float *out) {
    int S = f->stack, T = frames / S;
    if (f->src == KM_SRC_FBANK) {   /* stacking is a reshape: S rows of n_mels = one token */
        memcpy(out, fbank, sizeof(float) * (size_t)T * f->dim);
        return;
    }
    float *fr = xmalloc(sizeof(float) * (size_t)(frames > 0 ? frames : 1) * KM_MFCC_DIM);
    km_mfcc_frames(f, fbank, frames, fr);
    /* The mean of the token's frames keeps HuBERT's 39-d space (docs: cluster/README.md);
     * summed in frame order in float, then scaled (for 4 frames: by 0.25f exactly). */
    float inv = 1.0f / (float)S;
    for (int t = 0; t < T; t++)
        for (int d = 0; d < KM_MFCC_DIM; d++) {
            const float *p = fr + (size_t)S * t * KM_MFCC_DIM + d;
            float sum = p[0];
            for (int s = 1; s < S; s++) sum += p[(size_t)s * KM_MFCC_DIM];
            out[(size_t)t * KM_MFCC_DIM + d] = inv * sum;
        }
    free(fr);
}

void km_feat_norm(const km_feat *f, float *x, int n) {
    for (int r = 0; r < n; r++)
        for (int d = 0; d < f->dim; d++) {
            float *v = x + (size_t)r * f->dim + d;
            *v = (float)((*v - f->mean[d]) / f->std[d]);
        }
}
