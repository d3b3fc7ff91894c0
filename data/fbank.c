/* Kaldi-compatible log-mel filterbank (compute-fbank-feats, dither 0), FFT by av_tx.
 * Frames are processed in double: in float (Kaldi, torchaudio float32) the FFT's
 * rounding noise, about 1e-7 of the frame's peak, swamps weak mel bins (torchaudio
 * float32 is off from its own float64 result by up to 0.3 in log on a chirp); in
 * double every bin is exact to far below the output's float precision.
 * Matches torchaudio.compliance.kaldi.fbank step by step: framing (snip_edges or
 * Kaldi's reflection at the edges), per-frame DC removal, pre-emphasis with Kaldi's
 * first-sample rule, Povey window, zero padding to a power of two, power spectrum,
 * triangular mel bins (Kaldi's construction, Nyquist bin unused), log of
 * max(energy, FLT_EPSILON). */
#include "data/fbank.h"
#include "common/log.h"
#include "common/util.h"
#include <float.h>
#include <libavutil/error.h>
#include <libavutil/mem.h>
#include <libavutil/tx.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* One FFT context with its scratch buffers. av_tx contexts must not be used by two
 * threads at once, so each fbank_compute call borrows a whole slot from a pool. */
typedef struct {
    AVTXContext *tx;
    av_tx_fn fn;
    double *frame;           /* [pad] windowed frame, zero tail; av_malloc'd (aligned) */
    AVComplexDouble *spec;   /* [pad/2 + 1] */
    double *power;           /* [pad/2 + 1] */
} fft_slot;

struct avm_fbank {
    avm_fbank_opts o;
    int win, shift, pad;     /* samples: frame length, frame shift, FFT size */
    double *window;          /* [win] Povey window */
    int *mel_first, *mel_len;/* per bin: first FFT bin with nonzero weight, count */
    int *mel_off;            /* per bin: offset into mel_w */
    double *mel_w;           /* nonzero weights of all bins, concatenated */
    double log_floor;        /* max(FLT_EPSILON, energy_floor) */
    pthread_mutex_t lock;
    fft_slot **free_slots;   /* pool of idle slots */
    int n_free, cap_free;
};

void fbank_default_opts(avm_fbank_opts *o) {
    o->sample_rate = 16000;
    o->frame_length_ms = 25;
    o->frame_shift_ms = 10;
    o->n_mels = 80;
    o->low_freq = 20;
    o->high_freq = 0;
    o->preemph = 0.97;
    o->remove_dc = 1;
    o->snip_edges = 1;
    o->use_log = 1;
    o->use_power = 1;
    o->energy_floor = 0;
}

static double mel_scale(double f) { return 1127.0 * log(1.0 + f / 700.0); }

static int next_pow2(int n) {
    int p = 1;
    while (p < n) p <<= 1;
    return p;
}

/* Frame sizes as torchaudio computes them (truncation toward zero). */
static int check_opts(const avm_fbank_opts *o, int *win, int *shift) {
    if (o->sample_rate <= 0) return avm_fail("fbank: sample_rate %d must be positive", o->sample_rate);
    *win = (int)(o->sample_rate * o->frame_length_ms * 0.001);
    *shift = (int)(o->sample_rate * o->frame_shift_ms * 0.001);
    if (!(o->frame_length_ms > 0) || *win < 2)
        return avm_fail("fbank: frame length %g ms is under 2 samples at %d Hz", o->frame_length_ms, o->sample_rate);
    if (!(o->frame_shift_ms > 0) || *shift < 1)
        return avm_fail("fbank: frame shift %g ms is under 1 sample at %d Hz", o->frame_shift_ms, o->sample_rate);
    if (*win > (1 << 24)) return avm_fail("fbank: frame length %g ms is too long", o->frame_length_ms);
    if (o->n_mels < 3) return avm_fail("fbank: n_mels %d must be at least 3", o->n_mels);
    if (!(o->preemph >= 0 && o->preemph <= 1))
        return avm_fail("fbank: preemph %g must be in [0, 1]", o->preemph);
    if (!(o->energy_floor >= 0)) return avm_fail("fbank: energy_floor %g must be >= 0", o->energy_floor);
    double nyq = 0.5 * o->sample_rate;
    double hi = o->high_freq <= 0 ? nyq + o->high_freq : o->high_freq;
    if (!(o->low_freq >= 0 && o->low_freq < nyq))
        return avm_fail("fbank: low_freq %g must be in [0, Nyquist %g)", o->low_freq, nyq);
    if (!(hi > 0 && hi <= nyq && o->low_freq < hi))
        return avm_fail("fbank: high_freq %g (%g Hz) must be above low_freq %g and at most Nyquist %g",
                        o->high_freq, hi, o->low_freq, nyq);
    return 0;
}

/* Kaldi's MelBanks: bin b spans mel [lo + b d, lo + (b+2) d] with its peak in the
 * middle; FFT bin i (0 <= i < pad/2, Nyquist excluded) sits at mel(i * sr / pad).
 * Only the nonzero stretch of each bin is stored. */
static int build_mel_banks(avm_fbank *fb, double hi) {
    const avm_fbank_opts *o = &fb->o;
    int nm = o->n_mels, nfft = fb->pad / 2;
    double bin_w = (double)o->sample_rate / fb->pad;
    double mlo = mel_scale(o->low_freq), delta = (mel_scale(hi) - mlo) / (nm + 1);
    fb->mel_first = xcalloc(nm, sizeof(int));
    fb->mel_len = xcalloc(nm, sizeof(int));
    fb->mel_off = xcalloc(nm, sizeof(int));
    fb->mel_w = xcalloc((size_t)nm * nfft, sizeof(double));
    int off = 0;
    for (int b = 0; b < nm; b++) {
        double left = mlo + b * delta, center = left + delta, right = left + 2 * delta;
        int first = -1, len = 0;
        fb->mel_off[b] = off;
        for (int i = 0; i < nfft; i++) {
            double m = mel_scale(bin_w * i);
            if (!(m > left && m < right)) continue;
            double w = m <= center ? (m - left) / (center - left) : (right - m) / (right - center);
            if (first < 0) first = i;
            len = i - first + 1;
            fb->mel_w[off + len - 1] = w;
        }
        if (first < 0)
            return avm_fail("fbank: mel bin %d of %d is empty (n_mels too large for a %d-point FFT "
                            "between %g and %g Hz)", b, nm, fb->pad, o->low_freq, hi);
        fb->mel_first[b] = first;
        fb->mel_len[b] = len;
        off += len;
    }
    fb->mel_w = xrealloc(fb->mel_w, (size_t)off * sizeof(double));
    return 0;
}

/* Povey window: a Hann window (symmetric) raised to the power 0.85. */
static void build_window(avm_fbank *fb) {
    fb->window = xmalloc((size_t)fb->win * sizeof(double));
    double a = 2 * M_PI / (fb->win - 1);
    for (int i = 0; i < fb->win; i++) fb->window[i] = pow(0.5 - 0.5 * cos(a * i), 0.85);
}

static void slot_free(fft_slot *s) {
    if (!s) return;
    av_tx_uninit(&s->tx);
    av_free(s->frame);
    av_free(s->spec);
    av_free(s->power);
    free(s);
}

static fft_slot *slot_new(int pad) {
    fft_slot *s = xcalloc(1, sizeof *s);
    double scale = 1.0;
    int err = av_tx_init(&s->tx, &s->fn, AV_TX_DOUBLE_RDFT, 0, pad, &scale, 0);
    if (err < 0) {
        avm_fail("fbank: av_tx_init (real FFT of %d points) failed: %s", pad, av_err2str(err));
        slot_free(s);
        return NULL;
    }
    s->frame = av_mallocz((size_t)pad * sizeof(double));
    s->spec = av_mallocz((size_t)(pad / 2 + 1) * sizeof(AVComplexDouble));
    s->power = av_mallocz((size_t)(pad / 2 + 1) * sizeof(double));
    if (!s->frame || !s->spec || !s->power) {
        avm_fail("fbank: out of memory for FFT buffers");
        slot_free(s);
        return NULL;
    }
    return s;
}

avm_fbank *fbank_new(const avm_fbank_opts *o) {
    int win = 0, shift = 0;
    if (check_opts(o, &win, &shift) < 0) return NULL;
    avm_fbank *fb = xcalloc(1, sizeof *fb);
    fb->o = *o;
    fb->win = win;
    fb->shift = shift;
    fb->pad = next_pow2(win);
    fb->log_floor = o->energy_floor > FLT_EPSILON ? o->energy_floor : FLT_EPSILON;
    pthread_mutex_init(&fb->lock, NULL);
    double hi = o->high_freq <= 0 ? 0.5 * o->sample_rate + o->high_freq : o->high_freq;
    build_window(fb);
    if (build_mel_banks(fb, hi) < 0) {
        fbank_free(fb);
        return NULL;
    }
    /* One slot up front: proves the FFT can be set up, and serves single-threaded use. */
    fft_slot *s = slot_new(fb->pad);
    if (!s) {
        fbank_free(fb);
        return NULL;
    }
    fb->cap_free = 4;
    fb->free_slots = xmalloc(fb->cap_free * sizeof(fft_slot *));
    fb->free_slots[fb->n_free++] = s;
    return fb;
}

void fbank_free(avm_fbank *fb) {
    if (!fb) return;
    for (int i = 0; i < fb->n_free; i++) slot_free(fb->free_slots[i]);
    free(fb->free_slots);
    pthread_mutex_destroy(&fb->lock);
    free(fb->window);
    free(fb->mel_first);
    free(fb->mel_len);
    free(fb->mel_off);
    free(fb->mel_w);
    free(fb);
}

int fbank_num_frames(const avm_fbank *fb, int64_t n) {
    if (n <= 0) return 0;
    if (fb->o.snip_edges) return n < fb->win ? 0 : (int)(1 + (n - fb->win) / fb->shift);
    return (int)((n + fb->shift / 2) / fb->shift);
}

static fft_slot *slot_acquire(avm_fbank *fb) {
    fft_slot *s = NULL;
    pthread_mutex_lock(&fb->lock);
    if (fb->n_free > 0) s = fb->free_slots[--fb->n_free];
    pthread_mutex_unlock(&fb->lock);
    if (!s && !(s = slot_new(fb->pad))) avm_die("%s", avm_error());
    return s;
}

static void slot_release(avm_fbank *fb, fft_slot *s) {
    pthread_mutex_lock(&fb->lock);
    if (fb->n_free == fb->cap_free) {
        fb->cap_free *= 2;
        fb->free_slots = xrealloc(fb->free_slots, fb->cap_free * sizeof(fft_slot *));
    }
    fb->free_slots[fb->n_free++] = s;
    pthread_mutex_unlock(&fb->lock);
}

/* Copies frame t (scaled) into dst[0..win). With snip_edges off, frames are centred
 * on t*shift + shift/2 and samples outside [0, n) are mirrored as Kaldi does. */
static void extract_frame(const avm_fbank *fb, const float *x, int64_t n, int t, double scale, double *dst) {
    int64_t start = fb->o.snip_edges ? (int64_t)t * fb->shift
                                     : (int64_t)t * fb->shift + fb->shift / 2 - fb->win / 2;
    if (start >= 0 && start + fb->win <= n) {
        for (int i = 0; i < fb->win; i++) dst[i] = x[start + i] * scale;
        return;
    }
    for (int i = 0; i < fb->win; i++) {
        int64_t j = start + i;
        while (j < 0 || j >= n) j = j < 0 ? -j - 1 : 2 * n - 1 - j;
        dst[i] = x[j] * scale;
    }
}

/* DC removal, pre-emphasis (x[0] -= p x[0]), window; the tail up to pad stays zero. */
static void prepare_frame(const avm_fbank *fb, double *f) {
    int w = fb->win;
    if (fb->o.remove_dc) {
        double sum = 0;
        for (int i = 0; i < w; i++) sum += f[i];
        double mean = sum / w;
        for (int i = 0; i < w; i++) f[i] -= mean;
    }
    double p = fb->o.preemph;
    if (p != 0) {
        for (int i = w - 1; i > 0; i--) f[i] -= p * f[i - 1];
        f[0] -= p * f[0];
    }
    for (int i = 0; i < w; i++) f[i] *= fb->window[i];
    memset(f + w, 0, (size_t)(fb->pad - w) * sizeof(double));
}

/* Power (or magnitude) spectrum of the prepared frame, then the mel bins. */
static void frame_to_mel(const avm_fbank *fb, fft_slot *s, float *out) {
    int nbins = fb->pad / 2 + 1;
    s->fn(s->tx, s->spec, s->frame, sizeof(double));
    for (int k = 0; k < nbins; k++) {
        double re = s->spec[k].re, im = s->spec[k].im, pw = re * re + im * im;
        s->power[k] = fb->o.use_power ? pw : sqrt(pw);
    }
    for (int b = 0; b < fb->o.n_mels; b++) {
        const double *w = fb->mel_w + fb->mel_off[b], *p = s->power + fb->mel_first[b];
        double e = 0;
        for (int i = 0; i < fb->mel_len[b]; i++) e += w[i] * p[i];
        out[b] = (float)(fb->o.use_log ? log(e > fb->log_floor ? e : fb->log_floor) : e);
    }
}

static void compute_scaled(const avm_fbank *cfb, const float *x, int64_t n, double scale, float *out) {
    avm_fbank *fb = (avm_fbank *)cfb;   /* only the slot pool changes, under its lock */
    int frames = fbank_num_frames(fb, n);
    if (frames == 0) return;
    fft_slot *s = slot_acquire(fb);
    for (int t = 0; t < frames; t++) {
        extract_frame(fb, x, n, t, scale, s->frame);
        prepare_frame(fb, s->frame);
        frame_to_mel(fb, s, out + (size_t)t * fb->o.n_mels);
    }
    slot_release(fb, s);
}

void fbank_compute(const avm_fbank *fb, const float *samples, int64_t n, float *out) {
    compute_scaled(fb, samples, n, 1.0, out);
}

void fbank_compute_pcm(const avm_fbank *fb, const float *pcm, int64_t n, float *out) {
    compute_scaled(fb, pcm, n, 32768.0, out);
}
