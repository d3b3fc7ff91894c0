/* step_train with a noise set (train/step.c + train/noise.h): the model gets the noisy
 * audio as input and the clean audio as target. Checked by recomputing the step's audio
 * loss with the step's own masks from each possible (input, target) pairing: only
 * (noisy, clean) gives it. At -100 dB SNR the noisy audio is the noise, so the pairings
 * differ (the target clearly; the input less, an untrained model looking little at it).
 * With probability 0 the step is the clean one. */
#include "check.h"
#include "common/util.h"
#include "train/pretrain.h"
#include <stdlib.h>
#include <string.h>

static void mkfeats(const char *dir, const char *extra) {
    const char *b = getenv("AVMASK_BUILD") ? getenv("AVMASK_BUILD") : "build";
    char *cmd = xasprintf("%s/tools/train_mkfeats --out=%s --no-video %s", b, dir, extra);
    CHECK_MSG(system(cmd) == 0, "%s", cmd);
    free(cmd);
}

/* The audio loss of one forward with the stepper's current masks. */
static double loss_of(avm_stepper *s, const avm_batch_data *d, const float *in, const float *target) {
    avm_batch b = {0};
    b.B = d->B;
    b.T = d->T;
    b.len = d->len;
    b.audio = in;
    b.audio_target = target;
    b.mask_audio = s->mask_a;
    b.drop_audio = s->drop_a;
    b.drop_video = s->drop_v;
    avm_loss l;
    CHECK(avmodel_forward(&s->model, &b, &l) == 0);
    return l.audio;
}

int main(void) {
    mkfeats("tr", "--n=12 --min-tokens=10 --max-tokens=30");
    mkfeats("nz", "--n=4 --seed=3 --min-tokens=5 --max-tokens=20");
    avm_pretrain_opts po;
    memset(&po, 0, sizeof po);
    po.seed = 5;
    po.mask_p_audio = 0.3;
    po.mask_l_audio = 3;
    CHECK(avmodel_config_named(&po.model, "tiny") == 0);
    po.model.d = 32; po.model.ffn = 64; po.model.heads = 2;
    po.model.modalities = AVM_MOD_AUDIO;
    po.model.dropout = po.model.attn_dropout = 0;
    avm_loader L;
    CHECK(loader_open(&L, "tr", "tr", 0, 30, 400, 5, 1, 2) == 0);
    loader_plan(&L, 0);
    avm_batch_data d = {0};
    CHECK(loader_get(&L, 0, 0, 1, &d) == 0);
    avm_stepper s;
    memset(&s, 0, sizeof s);
    s.dist.world = 1;
    CHECK_MSG(avmodel_init(&s.model, &po.model, 5) == 0, "%s", avm_error());
    avm_noise N;
    CHECK_MSG(noise_open(&N, "nz", &L, 1, -100, -100, 5, 2) == 0, "%s", avm_error());
    s.noise = &N;

    avm_step_stats st;
    CHECK(step_train(&s, &po, &d, 3, &st) == 0);
    double step_loss = stats_audio(&st);
    const float *noisy = noise_mix(&N, &d, 3);   /* the same key: the step's noisy input */
    double noisy_clean = loss_of(&s, &d, noisy, d.audio), noisy_noisy = loss_of(&s, &d, noisy, NULL);
    double clean_clean = loss_of(&s, &d, d.audio, NULL);
    printf("step loss %.6f; recomputed: noisy->clean %.6f, noisy->noisy %.6f, clean->clean %.6f\n", step_loss,
           noisy_clean, noisy_noisy, clean_clean);
    CHECK_NEAR(step_loss, noisy_clean, 1e-6 * step_loss);
    CHECK(fabs(step_loss - noisy_noisy) > 1e-3 * step_loss);
    /* an untrained model's predictions at masked tokens depend little on the unmasked input
     * (5.7e-4 relative here), but far above the 1e-6 of the equality */
    CHECK(fabs(step_loss - clean_clean) > 1e-4 * step_loss);

    N.prob = 0;   /* nothing drawn: the clean step */
    CHECK(step_train(&s, &po, &d, 3, &st) == 0);
    CHECK_NEAR(stats_audio(&st), clean_clean, 1e-6 * clean_clean);

    noise_close(&N);
    stepper_free(&s);
    batch_data_free(&d);
    loader_close(&L);
    return check_done("test_noise_step");
}
