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
 * and attention layer). --sgemm instead times cblas_sgemm alone on the Linear layers' shapes
 * (as before), --products every matrix product of the step (see run_products).
 * --fusion=concat (default: per-token projection, fusion layers over T tokens) or sequence
 * (fusion layers over the 2T tokens [audio; video]). --target=clusters times the HuBERT head
 * instead of the reconstruction heads (--k classes, --label-dim, random labels; not run by
 * make bench, which compares against PyTorch's reconstruction model). */
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

typedef struct { const char *model, *fusion, *target; int B, T, steps, sgemm, products, k, label_dim; } bench_opts;

#define F(f) OPT_FIELD(bench_opts, f)
static const avm_optdef table[] = {
    {OPT_ENUM, "model", F(model), .def = "base", .values = "tiny|small|base", .help = "named config"},
    {OPT_INT, "B", F(B), .def = "8", .lo = 1, .hi = 1024, .help = "batch size"},
    {OPT_INT, "T", F(T), .def = "100", .lo = 1, .hi = 512, .help = "tokens per sample"},
    {OPT_INT, "steps", F(steps), .def = "5", .lo = 1, .hi = 10000, .help = "timed steps"},
    {OPT_FLAG, "sgemm", F(sgemm), .help = "only the sgemm throughput"},
    {OPT_FLAG, "products", F(products), .help = "only the model's matrix products"},
    {OPT_ENUM, "fusion", F(fusion), .def = "concat", .values = "concat|sequence", .help = "model fusion"},
    {OPT_ENUM, "target", F(target), .def = "features", .values = "features|clusters", .help = "model target"},
    {OPT_INT, "k", F(k), .def = "100", .lo = 0, .hi = 1 << 24, .help = "clusters: codebook size"},
    {OPT_INT, "label-dim", F(label_dim), .def = "0", .lo = 0, .hi = 1 << 24, .help = "clusters: head dim (0: d)"},
    OPT_THREADS("OpenMP and OpenBLAS threads"),
    {.type = OPT_END},
};
static const avm_optspec spec = {"bench_model", "usage: bench_model [options]\n", table, NULL, NULL};

/* Tokens the fusion layers see per sample, and the fusion projection's input width (0: none). */
static double fusion_T(const avm_config *c, int T) {
    return c->modalities == AVM_MOD_AV && c->fusion == AVM_FUSION_SEQUENCE ? 2.0 * T : T;
}
static double proj_in(const avm_config *c) {
    return c->fusion == AVM_FUSION_CONCAT ? (c->modalities == AVM_MOD_AV ? 2.0 : 1.0) * c->d : 0;
}

static double step_gflop(const avm_config *c, int B, int T, int n_masked_a, int n_masked_v) {
    double d = c->d, f = c->ffn, lay = 4 * d * d + 2 * d * f, n = (double)B * T;
    int av = c->modalities == AVM_MOD_AV, cl = c->target == AVM_TARGET_CLUSTERS;
    double e = c->label_dim > 0 ? c->label_dim : d;
    /* heads: reconstruction (audio_in x d per masked token), or the cluster head's projection
     * (d x e) and cosine logits (e x k: forward, input gradient, embedding gradient) */
    double fl = 4 * n * c->audio_in * d + 6 * (double)n_masked_a * (cl ? d * e + e * c->num_classes : c->audio_in * d);
    if (cl) n_masked_v = 0;
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

static double peak_rss_mb(void) { return peak_rss_kb() / 1024.0; }   /* VmHWM, common/util.h */

/* --products: every matrix product of a step and nothing else: the Linear layers as in
 * --sgemm, plus the front-ends, the heads (over the masked rows) and the attention's
 * per-(sample, head) products, run like ops_attn.c runs them. Each layer has its own
 * weights and activations, as in the model, so the operands come from memory as they do
 * in a step (--sgemm reuses one small set of buffers that stays in cache). */
typedef struct { float *w, *dw, *act; } prod_layer;

/* forward y = x W^T, dx = dy W (dy: y's buffer), dW += dy^T x */
static void lin3(int r, int in, int out, const float *x, const float *W, float *dW, float *y, float *dx) {
    if (r <= 0) return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r, out, in, 1, x, in, W, in, 0, y, out);
    if (dx) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r, in, out, 1, y, out, W, in, 0, dx, in);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, r, 1, y, out, x, in, 1, dW, in);
}

/* the six T x T x dh products of every (sample, head), forward and backward */
static void attn_products(int B, int T, int d, int H, float *qkv, float *ctx, float *dqkv, float *scratch) {
    int dh = d / H, ld = 3 * d;
    size_t TT = (size_t)T * T;
    #pragma omp parallel for schedule(dynamic, 1)
    for (int bh = 0; bh < B * H; bh++) {
        int b = bh / H, h = bh % H;
        float *Q = qkv + (size_t)b * T * ld + h * dh, *K = Q + d, *V = Q + 2 * d, *C = ctx + (size_t)b * T * d + h * dh;
        float *dQ = dqkv + (size_t)b * T * ld + h * dh, *S = scratch + (size_t)omp_get_thread_num() * 2 * TT, *dS = S + TT;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, dh, 1, Q, ld, K, ld, 0, S, T);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, dh, T, 1, S, T, V, ld, 0, C, d);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, dh, T, 1, S, T, C, d, 0, dQ + 2 * d, ld);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, dh, 1, C, d, V, ld, 0, dS, T);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, dh, T, 1, dS, T, K, ld, 0, dQ, ld);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, dh, T, 1, dS, T, Q, ld, 0, dQ + d, ld);
    }
}

/* one encoder layer's products over B samples of T tokens; act holds qkv [3d], ctx [d],
 * x [d], h [d], f [ffn], g [ffn] per row; ws two [rows, max(3d, ffn)] gradient buffers */
static void layer_products(const avm_config *c, prod_layer *L, int B, int T, float *ws, float *scratch) {
    int r = B * T, d = c->d, f = c->ffn, wide = f > 3 * d ? f : 3 * d;
    float *qkv = L->act, *ctx = qkv + (size_t)r * 3 * d, *x = ctx + (size_t)r * d, *h = x + (size_t)r * d;
    float *fh = h + (size_t)r * d, *g = fh + (size_t)r * f, *w = L->w, *dw = L->dw, *g2 = ws + (size_t)r * wide;
    lin3(r, d, 3 * d, x, w, dw, qkv, ws);
    attn_products(B, T, d, c->heads, qkv, ctx, g2, scratch);
    w += 3 * d * d; dw += 3 * d * d;
    lin3(r, d, d, ctx, w, dw, h, ws);
    w += d * d; dw += d * d;
    lin3(r, d, f, h, w, dw, fh, ws);
    w += f * d; dw += f * d;
    lin3(r, f, d, g, w, dw, x, ws);
}

typedef struct { int nl, B, T; prod_layer *l; float *ws, *scratch, *fw, *fdw, *io; } products;

static void products_alloc(products *p, const avm_config *c, int B, int T) {
    int d = c->d, f = c->ffn, Tf = (int)fusion_T(c, T), wide = f > 3 * d ? f : 3 * d;
    size_t rows = (size_t)B * Tf, lw = 4 * (size_t)d * d + 2 * (size_t)d * f;
    size_t in = (size_t)c->audio_in + c->video_in;
    p->nl = c->layers_audio + c->layers_video + c->layers_fusion;
    p->B = B; p->T = T;
    p->l = xcalloc((size_t)p->nl, sizeof *p->l);
    for (int i = 0; i < p->nl; i++) {
        p->l[i].w = xcalloc(lw, 4); p->l[i].dw = xcalloc(lw, 4);
        p->l[i].act = xcalloc(rows * (6 * (size_t)d + 2 * f), 4);
    }
    p->ws = xcalloc(2 * rows * wide, 4);
    p->scratch = xcalloc((size_t)omp_get_max_threads() * 2 * Tf * Tf, 4);
    p->fw = xcalloc(in * d + 2 * (size_t)d * d, 4); p->fdw = xcalloc(in * d + 2 * (size_t)d * d, 4);
    p->io = xcalloc((size_t)B * T * (in + 2 * d), 4);
}

static void products_free(products *p) {
    for (int i = 0; i < p->nl; i++) { free(p->l[i].w); free(p->l[i].dw); free(p->l[i].act); }
    free(p->l); free(p->ws); free(p->scratch); free(p->fw); free(p->fdw); free(p->io);
}

/* k_a, k_v: masked rows the heads see */
static void products_step(products *p, const avm_config *c, int k_a, int k_v) {
    int B = p->B, T = p->T, n = B * T, d = c->d, ai = c->audio_in, vi = c->video_in, pin = (int)proj_in(c);
    float *a = p->io, *v = a + (size_t)n * ai, *y = v + (size_t)n * vi, *w = p->fw, *dw = p->fdw;
    lin3(n, ai, d, a, w, dw, y, NULL);                              /* front-ends: no input gradient */
    lin3(n, vi, d, v, w + (size_t)ai * d, dw + (size_t)ai * d, y, NULL);
    int nl[3] = {c->layers_audio, c->layers_video, c->layers_fusion}, Ts[3] = {T, T, (int)fusion_T(c, T)};
    for (int s = 0, i = 0; s < 3; s++)
        for (int l = 0; l < nl[s]; l++, i++) layer_products(c, &p->l[i], B, Ts[s], p->ws, p->scratch);
    if (pin) lin3(n, pin, d, p->ws, p->fw, p->fdw, y, p->ws + (size_t)n * pin);
    lin3(k_a, d, ai, y, w, dw, a, p->ws);                           /* heads */
    lin3(k_v, d, vi, y, w + (size_t)ai * d, dw + (size_t)ai * d, v, p->ws);
}

/* the time of every product of the step, alone (prints like the step) */
static void run_products(const avm_config *c, int B, int T, int steps, int threads) {
    products p;
    products_alloc(&p, c, B, T);
    int k = (int)(0.49 * B * T);     /* ~ the masked tokens of the step below */
    products_step(&p, c, k, k);
    printf("step_seconds");
    for (int s = 0; s < steps; s++) {
        double t0 = now_sec();
        products_step(&p, c, k, k);
        printf(" %.6f", now_sec() - t0);
    }
    printf(" gflop %.4f threads %d\n", step_gflop(c, B, T, k, k), threads);
    products_free(&p);
}

int main(int argc, char **argv) {
    avm_opts o;
    bench_opts a;
    opts_parse(&o, &spec, &a, argc, argv);
    int B = a.B, T = a.T, steps = a.steps, only_sgemm = a.sgemm, only_products = a.products;
    int threads = opts_threads(&o);
    avm_config c;
    if (avmodel_config_named(&c, a.model) || avmodel_config_set(&c, "fusion", a.fusion) ||
        avmodel_config_set(&c, "target", a.target))
        avm_die("bench_model: %s", avm_error());
    c.num_classes = a.k;
    c.label_dim = a.label_dim;
    opts_free(&o);      /* the option strings are not used past here */
    if (only_products) {
        run_products(&c, B, T, steps, threads);
        return 0;
    }
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
    int32_t *labels = xmalloc(n * sizeof(int32_t));
    for (size_t i = 0; i < n; i++) labels[i] = (int32_t)rng_below(&r, (uint32_t)(c.num_classes > 0 ? c.num_classes : 1));
    for (size_t i = 0; i < n; i++) { ma[i] = rng_uniform(&r) < 0.49; mv[i] = rng_uniform(&r) < 0.49; }
    avm_rng drop;
    rng_seed(&drop, 6, 0);
    avm_batch bt = {.B = B, .T = T, .len = len, .audio = audio, .video = video, .mask_audio = ma, .mask_video = mv,
                    .drop_audio = da, .drop_video = dv, .rng = &drop, .labels = labels};
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
    free(audio); free(video); free(len); free(labels); free(ma); free(mv); free(da); free(dv);
    return 0;
}
