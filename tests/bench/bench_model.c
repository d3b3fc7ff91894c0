/* bench_model: times one whole training step of the avmask model (zero the gradient,
 * forward, backward, gradient-norm clipping, AdamW: what `avmask pretrain` does per step,
 * less batch loading and masking) on a random batch:
 * B samples of T tokens per modality, all unpadded, ~49% of tokens masked per modality (as
 * span masking with p 0.065, length 10 gives), no modality dropped, dropout as configured.
 * One warm-up step, then --steps timed steps; prints
 *   "step_seconds S1 S2 ... gflop G threads N rss_mb R min_mb M"
 * (peak RSS, and the floor: parameters, gradients, AdamW moments and the saved activations)
 * where G is the model FLOPs of one step (6 x weight params x tokens for every Linear that
 * needs dx, 4 x for the front-ends, which need no input gradient, plus 12 T^2 d per sample
 * and attention layer). --sgemm instead times cblas_sgemm alone on the same shapes.
 * --fusion=concat (default: per-token projection, fusion layers over T tokens) or sequence
 * (fusion layers over the 2T tokens [audio; video]). */
#include "common/opts.h"
#include "common/util.h"
#include "models/avmodel.h"
#include "train/clip.h"
#include "train/optim.h"
#include <cblas.h>
#include <stdio.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

void openblas_set_num_threads(int n);

static const char *usage =
    "usage: bench_model [--model=base] [--B=8] [--T=100] [--steps=5] [--threads=N] [--sgemm]\n"
    "                   [--fusion=concat|sequence]\n";

/* Tokens the fusion layers see per sample, and the fusion projection's input width (0: none). */
static double fusion_T(const avm_config *c, int T) {
    return c->modalities == AVM_MOD_AV && c->fusion == AVM_FUSION_SEQUENCE ? 2.0 * T : T;
}
static double proj_in(const avm_config *c) {
    return c->fusion == AVM_FUSION_CONCAT ? (c->modalities == AVM_MOD_AV ? 2.0 : 1.0) * c->d : 0;
}

static double step_gflop(const avm_config *c, int B, int T, int n_masked_a, int n_masked_v) {
    double d = c->d, f = c->ffn, lay = 4 * d * d + 2 * d * f, n = (double)B * T;
    int av = c->modalities == AVM_MOD_AV;
    double fl = 4 * n * c->audio_in * d + 6 * (double)n_masked_a * c->audio_in * d;
    fl += c->layers_audio * (6 * n * lay + 12.0 * B * T * T * d);
    double Tf = fusion_T(c, T);
    fl += c->layers_fusion * (6 * B * Tf * lay + 12.0 * B * Tf * Tf * d);
    fl += 6 * n * proj_in(c) * d;
    if (av) {
        fl += 4 * n * c->video_in * d + 6 * (double)n_masked_v * c->video_in * d;
        fl += c->layers_video * (6 * n * lay + 12.0 * B * T * T * d);
    }
    return fl / 1e9;
}

/* One "step" of sgemm alone with the Linear shapes of the model's step. */
static void sgemm_step(const avm_config *c, int B, int T, float *A, float *W, float *C) {
    int n = B * T, d = c->d, f = c->ffn, pin = (int)proj_in(c);
    int rows[3] = {n, n, (int)(B * fusion_T(c, T))}, nl[3] = {c->layers_audio, c->layers_video, c->layers_fusion};
    if (pin) {  /* the fusion projection */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, d, pin, 1, A, pin, W, pin, 0, C, d);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, pin, d, 1, C, d, W, pin, 0, A, pin);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d, pin, n, 1, C, d, A, pin, 1, W, pin);
    }
    for (int s = 0; s < 3; s++)
        for (int l = 0; l < nl[s]; l++) {
            int shapes[4][2] = {{3 * d, d}, {d, d}, {f, d}, {d, f}};
            for (int k = 0; k < 4; k++) {
                int o = shapes[k][0], i = shapes[k][1], r = rows[s];
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r, o, i, 1, A, i, W, i, 0, C, o);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r, i, o, 1, C, o, W, i, 0, A, i);
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, o, i, r, 1, C, o, A, i, 1, W, i);
            }
        }
}

static double sgemm_gflop(const avm_config *c, int B, int T) {
    double d = c->d, f = c->ffn, lay = 4 * d * d + 2 * d * f, n = (double)B * T;
    double fl = 6 * lay * n * (c->layers_audio + c->layers_video + fusion_T(c, T) / T * c->layers_fusion);
    return (fl + 6 * n * proj_in(c) * d) / 1e9;
}

/* The least memory a step can take: 4 float copies of the parameters (weights, gradients,
 * AdamW m and v), the batch, and per layer the activations backward needs (input, LN output,
 * q/k/v, attention probabilities, attention output, FFN hidden before and after GELU). */
static double min_bytes(const avm_config *c, int B, int T, size_t params) {
    double n = (double)B * T, d = c->d, f = c->ffn, h = c->heads;
    double layer = n * (6 * d + 2 * f) + B * h * (double)T * T;
    int av = c->modalities == AVM_MOD_AV;
    double acts = (c->layers_audio + (av ? c->layers_video : 0)) * layer;
    double tf = fusion_T(c, T) / T;     /* 2 (sequence fusion of av) or 1 */
    acts += c->layers_fusion * (tf * n * (6 * d + 2 * f) + B * h * tf * tf * T * T);
    acts += n * proj_in(c);
    double batch = n * (c->audio_in + (av ? c->video_in : 0));
    return 4.0 * (4.0 * (double)params + acts + batch);
}

/* This process's peak RSS (VmHWM). Not getrusage's ru_maxrss: Linux carries that over
 * fork + exec, so a benchmark started from a 600 MB Python reported the Python's peak. */
static double peak_rss_mb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) kb = atol(line + 6);
    if (f) fclose(f);
    return kb / 1024.0;
}

int main(int argc, char **argv) {
    avm_opts o;
    opts_parse(&o, "bench_model", usage, argc, argv);
    const char *name = opt_str(&o, "model", "base");
    int B = (int)opt_int_range(&o, "B", 8, 1, 1024), T = (int)opt_int_range(&o, "T", 100, 1, 512);
    int steps = (int)opt_int_range(&o, "steps", 5, 1, 10000), only_sgemm = opt_bool(&o, "sgemm", 0);
    int threads = opts_threads(&o);
    const char *fusion = opt_str(&o, "fusion", "concat");
    opts_finish(&o);
    avm_config c;
    if (avmodel_config_named(&c, name) || avmodel_config_set(&c, "fusion", fusion)) avm_die("bench_model: %s", avm_error());
    if (only_sgemm) {
        size_t big = (size_t)2 * B * T * (c.ffn > 3 * c.d ? c.ffn : 3 * c.d);
        float *A = xcalloc(big, 4), *W = xcalloc((size_t)c.ffn * 3 * c.d, 4), *C = xcalloc(big, 4);
        sgemm_step(&c, B, T, A, W, C);
        printf("step_seconds");
        for (int s = 0; s < steps; s++) {
            double t0 = now_sec();
            sgemm_step(&c, B, T, A, W, C);
            printf(" %.6f", now_sec() - t0);
        }
        printf(" gflop %.4f threads %d\n", sgemm_gflop(&c, B, T), threads);
        free(A); free(W); free(C);
        return 0;
    }
    avm_model m;
    if (avmodel_init(&m, &c, 1)) avm_die("bench_model: %s", avm_error());
    avm_rng r;
    rng_seed(&r, 5, 0);
    size_t n = (size_t)B * T;
    float *audio = xmalloc(n * c.audio_in * 4), *video = xmalloc(n * c.video_in * 4);
    for (size_t i = 0; i < n * c.audio_in; i++) audio[i] = (float)rng_normal(&r);
    for (size_t i = 0; i < n * c.video_in; i++) video[i] = (float)rng_normal(&r);
    int *len = xmalloc(B * sizeof(int));
    uint8_t *ma = xcalloc(n, 1), *mv = xcalloc(n, 1), *da = xcalloc(B, 1), *dv = xcalloc(B, 1);
    for (int b = 0; b < B; b++) len[b] = T;
    for (size_t i = 0; i < n; i++) { ma[i] = rng_uniform(&r) < 0.49; mv[i] = rng_uniform(&r) < 0.49; }
    avm_rng drop;
    rng_seed(&drop, 6, 0);
    avm_batch bt = {.B = B, .T = T, .len = len, .audio = audio, .video = video, .mask_audio = ma, .mask_video = mv,
                    .drop_audio = da, .drop_video = dv, .rng = &drop};
    avm_loss L;
    avm_adamw opt;
    adamw_init(&opt, &m.params, 0.9, 0.98, 1e-6, 0.01);
    double gf = 0;
    printf("step_seconds");
    for (int s = 0; s <= steps; s++) {
        double t0 = now_sec();
        params_zero_grad(&m.params);
        if (avmodel_forward(&m, &bt, &L)) avm_die("bench_model: %s", avm_error());
        avmodel_backward(&m);
        double norm = grad_norm(m.params.grad, m.params.total);     /* as avmask pretrain */
        adamw_step_scaled(&opt, &m.params, 1e-4, clip_coef(norm, 10.0));
        if (s) printf(" %.6f", now_sec() - t0);        /* step 0 is the warm-up */
        gf = step_gflop(&c, B, T, L.n_audio, L.n_video);
    }
    printf(" gflop %.4f threads %d rss_mb %.1f min_mb %.1f\n", gf, threads, peak_rss_mb(),
           min_bytes(&c, B, T, m.params.total) / 1048576.0);
    adamw_free(&opt);
    avmodel_free(&m);
    free(audio); free(video); free(len); free(ma); free(mv); free(da); free(dv);
    return 0;
}
