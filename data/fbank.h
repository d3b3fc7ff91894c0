/* Kaldi-compatible log-mel filterbank features (compute-fbank-feats / torchaudio's
 * compliance.kaldi.fbank): framing with snip_edges, DC removal, pre-emphasis, Povey
 * window, power spectrum by FFT (libavutil av_tx), mel bins, log with energy floor.
 * Input samples are on the int16 scale (Kaldi's convention): multiply float PCM in
 * [-1, 1] by 32768 first (fbank_compute_pcm does that). Dither is not implemented:
 * features are deterministic (dither 0). */
#ifndef AVMASK_FBANK_H
#define AVMASK_FBANK_H
#include <stdint.h>

typedef struct {
    int sample_rate;           /* 16000 */
    double frame_length_ms;    /* 25 */
    double frame_shift_ms;     /* 10 */
    int n_mels;                /* 80 */
    double low_freq;           /* 20 */
    double high_freq;          /* 0: Nyquist; negative: Nyquist + high_freq */
    double preemph;            /* 0.97 */
    int remove_dc;             /* 1 */
    int snip_edges;            /* 1 */
    int use_log;               /* 1 */
    int use_power;             /* 1 */
    double energy_floor;       /* 0 (log of max(x, FLT_EPSILON) as Kaldi) */
} avm_fbank_opts;

typedef struct avm_fbank avm_fbank;

void fbank_default_opts(avm_fbank_opts *o);
/* NULL + avm_fail on impossible options (bins above Nyquist, zero length, ...). */
avm_fbank *fbank_new(const avm_fbank_opts *o);
void       fbank_free(avm_fbank *fb);
int        fbank_num_frames(const avm_fbank *fb, int64_t n_samples);
/* out: [fbank_num_frames(n), n_mels]. Samples on the int16 scale. Thread-safe for
 * distinct calls on the same avm_fbank (scratch is per call). */
void       fbank_compute(const avm_fbank *fb, const float *samples, int64_t n, float *out);
/* Same, from float PCM in [-1, 1] (scaled by 32768). */
void       fbank_compute_pcm(const avm_fbank *fb, const float *pcm, int64_t n, float *out);

/* Running per-dimension statistics for cmvn.h5 (sum, sum of squares, count). */
typedef struct {
    int dim;
    double *sum, *sumsq;
    double count;
    double pix_sum, pix_sumsq, pix_count;   /* video pixels (all dims pooled) */
} avm_cmvn_acc;
void cmvn_acc_init(avm_cmvn_acc *a, int dim);
void cmvn_acc_add(avm_cmvn_acc *a, const float *feats, int64_t frames);
void cmvn_acc_add_pixels(avm_cmvn_acc *a, const uint8_t *px, int64_t n);
void cmvn_acc_merge(avm_cmvn_acc *dst, const avm_cmvn_acc *src);
/* Mean and (population) variance per dimension, variance clamped at >= 0; pixel
 * mean and std (any output may be NULL). Zero counts give zeros. */
void cmvn_acc_stats(const avm_cmvn_acc *a, double *mean, double *var, double *pix_mean, double *pix_std);
void cmvn_acc_free(avm_cmvn_acc *a);
#endif
