/* PyTorch parity for the whole audio-visual model (dropout 0) and its audio branch.
 *   parity_avmodel write DIR CASE   weights, batch, masks, modality-dropout decisions
 *   parity_avmodel check DIR CASE   recomputes in C, compares with DIR/ref (tests/ref/torch_avmodel.py)
 * CASE: av_l1 (masked prediction, L1, both modalities, some streams dropped),
 *       av_infonce (the same with the InfoNCE loss),
 *       av_target (av_l1 predicting separate audio/video targets: noisy input, clean target),
 *       av_subst (av_target with the masked video tokens keeping their input: substitution),
 *       audio_l2 (modalities=audio, L2 loss),
 *       branch (avmodel_audio_forward of the av model; L = sum(out*R) + sum(hidden[1]*R1)
 *               + sum(hidden[last]*R2) over unpadded rows, which exercises dhidden).
 *       av_clusters (target=clusters: HuBERT's cosine cross-entropy on the masked audio
 *               tokens' cluster ids, both modalities in, some streams dropped),
 *       audio_clusters (the same, modalities=audio), av_clusters_u (av_clusters with
 *               unmasked_weight 0.5: the unmasked tokens' CE enters too).
 *       av_novideo (av_l1 with every video dropped and no audio: the batch of pretrain's
 *               --novideo-pass, on which the model skips the video encoder).
 * All with fusion=concat (per-token projection); av_seq, audio_seq and branch_seq are av_l1,
 * audio_l2 and branch with fusion=sequence.
 * Compared: the losses (or the branch output) and EVERY parameter gradient, relative error
 * max|c - ref| / max(max|ref|, 1e-6) per tensor <= 1e-4. */
#include "models/avmodel.h"
#include "common/rng.h"
#include "common/util.h"
#include "tensor_io.h"
#include <string.h>

enum { B = 3, T = 6, AIN = 12, VIN = 9, D = 16, K = 5, E = 8, NCFG = 17 };

typedef struct {
    int kind;               /* 0 av_l1, 1 audio_l2, 2 branch, 3 av_infonce, 4 av_target, 5 av_subst,
                             * 6 av_clusters, 7 audio_clusters, 8 av_clusters_u */
    int sequence;           /* fusion=sequence */
    int novideo;            /* av_novideo: av_l1 with every video dropped, no audio dropped */
    avm_config cfg;
    avm_model m;
    int len[B];
    float audio[B * T * AIN], video[B * T * VIN], R[B * T * D], R1[B * T * D], R2[B * T * D];
    float audio_target[B * T * AIN], video_target[B * T * VIN];
    uint8_t mask_a[B * T], mask_v[B * T], drop_a[B], drop_v[B];
    int32_t labels[B * T];
    float uw;
} setup;

static int clusters(const setup *s) { return s->kind >= 6; }

static void make(setup *s, const char *kind) {
    memset(s, 0, sizeof *s);
    char base[32];
    snprintf(base, sizeof base, "%s", kind);
    char *suf = strstr(base, "_seq");
    if (suf && !suf[4]) {       /* av_seq, audio_seq, branch_seq */
        s->sequence = 1;
        *suf = 0;
        if (!strcmp(base, "av")) strcat(base, "_l1");
        else if (!strcmp(base, "audio")) strcat(base, "_l2");
    }
    if (!strcmp(base, "av_novideo")) s->novideo = 1;   /* the no-video pass's batch: no video encoder run */
    if (!strcmp(base, "av_l1") || s->novideo) s->kind = 0;
    else if (!strcmp(base, "audio_l2")) s->kind = 1;
    else if (!strcmp(base, "branch")) s->kind = 2;
    else if (!strcmp(base, "av_infonce")) s->kind = 3;
    else if (!strcmp(base, "av_target")) s->kind = 4;
    else if (!strcmp(base, "av_subst")) s->kind = 5;
    else if (!strcmp(base, "av_clusters")) s->kind = 6;
    else if (!strcmp(base, "audio_clusters")) s->kind = 7;
    else if (!strcmp(base, "av_clusters_u")) s->kind = 8;
    else avm_die("parity_avmodel: unknown case %s", kind);
    avm_config *c = &s->cfg;
    if (avmodel_config_named(c, "tiny")) avm_die("%s", avm_error());
    const char *kv[][2] = {{"d", "16"}, {"ffn", "32"}, {"heads", "4"}, {"layers_audio", "2"},
                           {"layers_video", "1"}, {"layers_fusion", "2"}, {"audio_in", "12"},
                           {"video_in", "9"}, {"max_len", "10"}, {"dropout", "0"}, {"attn_dropout", "0"}};
    for (size_t i = 0; i < sizeof kv / sizeof *kv; i++)
        if (avmodel_config_set(c, kv[i][0], kv[i][1])) avm_die("%s", avm_error());
    if (s->kind == 1 && (avmodel_config_set(c, "modalities", "audio") || avmodel_config_set(c, "loss", "l2")))
        avm_die("%s", avm_error());
    if (clusters(s) && (avmodel_config_set(c, "target", "clusters") || avmodel_config_set(c, "num_classes", "5") ||
                        avmodel_config_set(c, "label_dim", "8")))
        avm_die("%s", avm_error());
    if (s->kind == 7 && avmodel_config_set(c, "modalities", "audio")) avm_die("%s", avm_error());
    s->uw = s->kind == 8 ? 0.5f : 0.0f;
    if (s->kind == 3 && avmodel_config_set(c, "loss", "infonce")) avm_die("%s", avm_error());
    if (avmodel_config_set(c, "fusion", s->sequence ? "sequence" : "concat")) avm_die("%s", avm_error());
    if (avmodel_init(&s->m, c, 7)) avm_die("%s", avm_error());
    /* larger weights than the 0.02 init so that every path carries signal */
    avm_rng r;
    rng_seed(&r, 99, (uint64_t)s->kind);
    avm_params *ps = &s->m.params;
    for (int i = 0; i < ps->n; i++) {
        const avm_param *p = &ps->p[i];
        int gain = strstr(p->name, "norm") && strstr(p->name, ".weight");
        for (size_t j = 0; j < p->numel; j++)
            ps->data[p->offset + j] = (float)((gain ? 1.0 : 0.0) + (gain ? 0.2 : 0.3) * rng_normal(&r));
    }
    int lens[B] = {6, 4, 5};
    memcpy(s->len, lens, sizeof lens);
    for (int i = 0; i < B * T * AIN; i++) s->audio[i] = (float)rng_normal(&r);
    for (int i = 0; i < B * T * VIN; i++) s->video[i] = (float)rng_normal(&r);
    for (int i = 0; i < B * T * AIN; i++) s->audio_target[i] = (float)rng_normal(&r);
    for (int i = 0; i < B * T * VIN; i++) s->video_target[i] = (float)rng_normal(&r);
    for (int i = 0; i < B * T * D; i++) {
        s->R[i] = (float)rng_normal(&r); s->R1[i] = (float)rng_normal(&r); s->R2[i] = (float)rng_normal(&r);
    }
    for (int i = 0; i < B * T; i++) { s->mask_a[i] = rng_uniform(&r) < 0.4; s->mask_v[i] = rng_uniform(&r) < 0.4; }
    s->mask_a[0] = s->mask_v[0] = s->mask_v[T] = s->mask_a[2 * T + 1] = 1;   /* never empty */
    if (s->kind == 0 || (s->kind >= 3 && s->kind != 7)) { s->drop_v[1] = 1; s->drop_a[2] = 1; }
    if (s->novideo) { memset(s->drop_v, 1, sizeof s->drop_v); s->drop_a[2] = 0; }
    for (int i = 0; i < B * T; i++) s->labels[i] = (int32_t)rng_below(&r, K);
    for (int b = 0; b < B; b++)             /* padded rows take no part in the branch loss */
        for (int t = s->len[b]; t < T; t++)
            for (int j = 0; j < D; j++) s->R[(b * T + t) * D + j] = s->R1[(b * T + t) * D + j] = s->R2[(b * T + t) * D + j] = 0;
}

static void write_u8(const char *dir, const char *name, const uint8_t *v, int n, int ndim, const int *shape) {
    float f[B * T];
    for (int i = 0; i < n; i++) f[i] = v[i];
    tio_write(dir, name, f, n, ndim, shape);
}

static double dot(const float *a, const float *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

int main(int argc, char **argv) {
    if (argc != 4) avm_die("usage: parity_avmodel write|check DIR av_l1|av_infonce|av_target|av_subst|audio_l2|branch[_seq]|"
                            "av_clusters|audio_clusters|av_clusters_u|av_novideo");
    const char *dir = argv[2];
    static setup s;
    make(&s, argv[3]);
    const avm_config *c = &s.cfg;
    int sa[3] = {B, T, AIN}, sv[3] = {B, T, VIN}, sd[3] = {B, T, D}, sbt[2] = {B, T}, sb[1] = {B}, sc[1] = {NCFG};
    if (!strcmp(argv[1], "write")) {
        float cfg[NCFG] = {c->d, c->heads, c->ffn, c->layers_audio, c->layers_video, c->layers_fusion,
                           c->audio_in, c->video_in, c->max_len, c->loss, c->modalities, s.kind, s.sequence,
                           c->target, c->num_classes, c->label_dim, s.uw};
        float labf[B * T];
        for (int i = 0; i < B * T; i++) labf[i] = (float)s.labels[i];
        float lenf[B];
        for (int b = 0; b < B; b++) lenf[b] = s.len[b];
        tio_write_params(dir, &s.m.params);
        tio_write(dir, "config", cfg, NCFG, 1, sc);
        if (clusters(&s)) tio_write(dir, "labels", labf, B * T, 2, sbt);
        if (s.kind >= 4) {
            tio_write(dir, "audio_target", s.audio_target, B * T * AIN, 3, sa);
            tio_write(dir, "video_target", s.video_target, B * T * VIN, 3, sv);
        }
        tio_write(dir, "len", lenf, B, 1, sb);
        tio_write(dir, "audio", s.audio, B * T * AIN, 3, sa);
        tio_write(dir, "video", s.video, B * T * VIN, 3, sv);
        write_u8(dir, "mask_audio", s.mask_a, B * T, 2, sbt);
        write_u8(dir, "mask_video", s.mask_v, B * T, 2, sbt);
        write_u8(dir, "drop_audio", s.drop_a, B, 1, sb);
        write_u8(dir, "drop_video", s.drop_v, B, 1, sb);
        tio_write(dir, "R", s.R, B * T * D, 3, sd);
        tio_write(dir, "R1", s.R1, B * T * D, 3, sd);
        tio_write(dir, "R2", s.R2, B * T * D, 3, sd);
        avmodel_free(&s.m);
        return 0;
    }
    if (strcmp(argv[1], "check")) avm_die("parity_avmodel: unknown mode %s", argv[1]);
    int ok = 1;
    const double tol = 1e-4;
    if (s.kind != 2) {
        avm_batch bt = {.B = B, .T = T, .len = s.len, .audio = s.audio, .video = s.video, .mask_audio = s.mask_a,
                        .mask_video = s.mask_v, .drop_audio = s.drop_a, .drop_video = s.drop_v};
        if (clusters(&s)) { bt.labels = s.labels; bt.unmasked_weight = s.uw; }
        else if (s.kind >= 4) { bt.audio_target = s.audio_target; bt.video_target = s.video_target; bt.video_substituted = s.kind == 5; }
        avm_loss L;
        if (avmodel_forward(&s.m, &bt, &L)) avm_die("%s", avm_error());
        avmodel_backward(&s.m);
        float lv[4] = {(float)L.total, (float)L.audio, (float)L.video, (float)L.correct_audio};
        printf("loss total %.6f audio %.6f (%d tokens, %d correct) video %.6f (%d tokens)\n", L.total, L.audio,
               L.n_audio, L.correct_audio, L.video, L.n_video);
        ok &= tio_compare(dir, "loss", lv, clusters(&s) ? 4 : 3, tol);
    } else {
        int nh = avmodel_n_hidden(&s.m);
        const float *hidden[16];
        float out[B * T * D];
        if (avmodel_audio_forward(&s.m, s.audio, s.len, B, T, out, hidden)) avm_die("%s", avm_error());
        float lv[1] = {(float)(dot(out, s.R, B * T * D) + dot(hidden[1], s.R1, B * T * D) + dot(hidden[nh - 1], s.R2, B * T * D))};
        ok &= tio_compare(dir, "loss", lv, 1, tol);
        for (int i = 0; i < B * T; i++)
            if (i % T >= s.len[i / T]) memset(out + i * D, 0, D * sizeof(float));
        ok &= tio_compare(dir, "out", out, B * T * D, tol);
        const float *dh[16] = {0};
        dh[1] = s.R1;
        dh[nh - 1] = s.R2;
        avmodel_audio_backward(&s.m, s.R, dh);
    }
    const avm_params *ps = &s.m.params;
    for (int i = 0; i < ps->n; i++) {
        char name[300];
        snprintf(name, sizeof name, "grad.%s", ps->p[i].name);
        ok &= tio_compare(dir, name, ps->grad + ps->p[i].offset, ps->p[i].numel, tol);
    }
    printf("%s: %s\n", argv[3], ok ? "all within 1e-4" : "FAILED");
    avmodel_free(&s.m);
    return ok ? 0 : 1;
}
