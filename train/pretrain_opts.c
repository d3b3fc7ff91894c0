/* Options of `avmask pretrain`, their checks, and the run configuration as JSON. */
#include "common/json.h"
#include "common/opts.h"
#include "common/util.h"
#include "train/mask.h"
#include "train/pretrain.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *usage =
    "usage: avmask pretrain --feats=DIR --out=DIR [--valid=DIR] [--config=FILE] [options]\n"
    "Masked audio-visual feature prediction (models/README.md). Writes OUT/checkpoint-last.h5,\n"
    "checkpoint-best.h5 (lowest validation loss), config.json, train.log, metrics.jsonl.\n\n"
    "run:    --max-steps=N (required) --seed=1 --threads=N --resume (continue from\n"
    "        OUT/checkpoint-last.h5; starts fresh if there is none)\n"
    "        --log-every=10 --valid-every=500 --save-every=500\n"
    "data:   --batch-tokens=4000 (samples x padded tokens per global batch)\n"
    "        --max-len=TOKENS (random crops; default and limit: the model's max_len)\n"
    "        --max-open-shards=4\n"
    "optim:  --lr=5e-4 --warmup=1000 --schedule=cosine|linear|constant --final-lr-ratio=0.01\n"
    "        --beta1=0.9 --beta2=0.98 --eps=1e-6 --weight-decay=0.01 --clip=10 (0: off)\n"
    "mask:   --mask-prob-audio=0.08 --mask-len-audio=10 --mask-prob-video=0.06 --mask-len-video=5\n"
    "        --video-mask=embed|substitute|none (a masked video token holds a learned mask vector,\n"
    "        the frames of another span of the same sample as in AV-HuBERT, or the video is never\n"
    "        masked and only the audio is predicted)\n"
    "        --modality-dropout-audio=0 --modality-dropout-video=0 (per sample: drop the video\n"
    "        with the second probability, else the audio with the first)\n"
    "noise:  --noise-feats=DIR (features by `avmask extract` of noise recordings, mixed into the\n"
    "        training audio in the mel power domain; the target stays clean; validation is clean)\n"
    "        --noise-prob=0.5 (per sample; 0: off) --noise-snr=-5,20 (dB range, uniform)\n"
    "model:  --model=tiny|small|base (named config, default small), --modalities=av|audio,\n"
    "        overrides --d --ffn --heads --layers-audio --layers-video --layers-fusion\n"
    "        --max-len-model (positions) --dropout --attn-dropout --loss=l1|l2|infonce\n"
    "        --fusion=concat|sequence (concat: per token [audio_t ; video_t] -> Linear(2d -> d),\n"
    "        a dropped stream as zeros; sequence: fusion layers over [audio; video] along time)\n"
    "target: --target=features|clusters (features: reconstruct the masked features, --loss;\n"
    "        clusters: HuBERT's cross-entropy over the codebook on masked audio tokens)\n"
    "        --labels=DIR (clusters: label dir of --feats by `avmask kmeans --apply`)\n"
    "        --valid-labels=DIR (clusters with --valid: label dir of --valid, same codebook)\n"
    "        --unmasked-weight=0 (weight of the unmasked tokens' cross-entropy, HuBERT's alpha)\n"
    "        --label-dim=D (projection dim of the cluster head; default the model's d)\n"
    "Files given with --config hold the same options, one per line (conf/*.conf).\n";

/* Model keys are accepted with dashes (--layers-audio) or as written (--layers_audio);
 * --max_len/--max-len-model set the model's positions since --max-len is the crop. */
static void model_overrides(avm_pretrain_opts *po, avm_opts *o) {
    for (int i = 0; avmodel_config_keys[i]; i++) {
        const char *k = avmodel_config_keys[i];
        char dash[64];
        snprintf(dash, sizeof dash, "%s", k);
        for (char *c = dash; *c; c++) if (*c == '_') *c = '-';
        if (!strcmp(k, "max_len")) snprintf(dash, sizeof dash, "max-len-model");
        const char *v = opt_str(o, dash, NULL);
        if (strcmp(k, "max_len")) { const char *u = opt_str(o, k, NULL); if (u) v = u; }
        if (!v) continue;
        if (avmodel_config_set(&po->model, k, v)) avm_die("pretrain: %s", avm_error());
        if (!strcmp(k, "audio_in")) po->model_in_set[0] = 1;
        if (!strcmp(k, "video_in")) po->model_in_set[1] = 1;
        if (!strcmp(k, "num_classes")) po->model_in_set[2] = 1;
    }
}

static double prob(avm_opts *o, const char *key, double def, int below_one) {
    double p = opt_num(o, key, def);
    if (p < 0 || p > 1 || (below_one && p >= 1))
        avm_die("pretrain: --%s=%g must be a probability in [0, %s", key, p, below_one ? "1)" : "1]");
    return p;
}

/* Noise mixing (train/noise.h); --noise-prob and --noise-snr only mean something with a noise set. */
static void noise_opts(avm_pretrain_opts *po, avm_opts *o) {
    po->noise_feats = opt_str(o, "noise-feats", NULL);
    if (po->noise_feats && !po->noise_feats[0]) po->noise_feats = NULL;   /* --noise-feats= : none */
    if (!po->noise_feats && (opt_has(o, "noise-prob") || opt_has(o, "noise-snr")))
        avm_die("pretrain: --noise-prob and --noise-snr need --noise-feats=DIR");
    if (!po->noise_feats) return;
    po->noise_prob = prob(o, "noise-prob", 0.5, 0);
    const char *s = opt_str(o, "noise-snr", "-5,20");
    char *end;
    double lo = strtod(s, &end), hi = NAN;
    if (*end == ',') hi = strtod(end + 1, &end);
    if (*end || !(lo >= -100 && hi <= 100 && lo <= hi))
        avm_die("pretrain: --noise-snr=%s must be LO,HI in dB with -100 <= LO <= HI <= 100", s);
    po->noise_snr[0] = lo;
    po->noise_snr[1] = hi;
}

void pretrain_parse(avm_pretrain_opts *po, avm_opts *o, int argc, char **argv) {
    memset(po, 0, sizeof *po);
    opts_parse(o, "pretrain", usage, argc, argv);
    if (o->npos) avm_die("pretrain: unexpected argument '%s' (options are --key=value)", o->pos[0]);
    po->feats = opt_req(o, "feats");
    po->out = opt_req(o, "out");
    po->valid = opt_str(o, "valid", NULL);
    if (po->valid && !po->valid[0]) po->valid = NULL;   /* --valid= : none */
    po->max_steps = opt_int_range(o, "max-steps", 0, 1, 1L << 40);
    if (!opt_has(o, "max-steps")) avm_die("pretrain: --max-steps is required (see --help)");
    po->seed = (uint64_t)opt_int_range(o, "seed", 1, 0, 1L << 62);
    po->resume = opt_bool(o, "resume", 0);
    po->threads = opts_threads(o);
    po->log_every = opt_int_range(o, "log-every", 10, 1, 1L << 40);
    po->valid_every = opt_int_range(o, "valid-every", 500, 1, 1L << 40);
    po->save_every = opt_int_range(o, "save-every", 500, 1, 1L << 40);
    po->batch_tokens = opt_int_range(o, "batch-tokens", 4000, 1, 1L << 30);
    po->max_open_shards = (int)opt_int_range(o, "max-open-shards", 4, 1, 1024);

    const char *name = opt_str(o, "model", "small");
    if (avmodel_config_named(&po->model, name)) avm_die("pretrain: --model: %s", avm_error());
    model_overrides(po, o);
    po->max_len = (int)opt_int_range(o, "max-len", po->model.max_len, 1, 1 << 20);
    if (po->max_len > po->model.max_len)
        avm_die("pretrain: --max-len=%d exceeds the model's %d positions (--max-len-model)", po->max_len,
                po->model.max_len);
    if (po->batch_tokens < po->max_len)
        avm_die("pretrain: --batch-tokens=%ld is smaller than --max-len=%d: a long sample would not fit",
                po->batch_tokens, po->max_len);

    po->sched.peak = opt_num(o, "lr", 5e-4);
    po->sched.warmup = opt_int_range(o, "warmup", 1000, 0, 1L << 40);
    po->sched.total = po->max_steps;
    po->sched.final_ratio = opt_num(o, "final-lr-ratio", 0.01);
    if (sched_parse_kind(opt_str(o, "schedule", "cosine"), &po->sched.kind)) avm_die("pretrain: --schedule: %s", avm_error());
    if (po->sched.warmup > po->max_steps) po->sched.warmup = po->max_steps;   /* short runs: warm up throughout */
    if (sched_check(&po->sched)) avm_die("pretrain: %s", avm_error());
    po->beta1 = prob(o, "beta1", 0.9, 1);
    po->beta2 = prob(o, "beta2", 0.98, 1);
    po->eps = opt_num(o, "eps", 1e-6);
    po->weight_decay = opt_num(o, "weight-decay", 0.01);
    po->clip = opt_num(o, "clip", 10.0);
    if (!(po->eps > 0) || po->weight_decay < 0 || po->clip < 0)
        avm_die("pretrain: --eps must be > 0, --weight-decay and --clip >= 0");

    po->mask_p_audio = prob(o, "mask-prob-audio", MASK_DEFAULT_P_AUDIO, 0);
    po->mask_p_video = prob(o, "mask-prob-video", MASK_DEFAULT_P_VIDEO, 0);
    po->mask_l_audio = (int)opt_int_range(o, "mask-len-audio", MASK_DEFAULT_L_AUDIO, 1, 1 << 20);
    po->mask_l_video = (int)opt_int_range(o, "mask-len-video", MASK_DEFAULT_L_VIDEO, 1, 1 << 20);
    const char *vm = opt_str(o, "video-mask", "embed");
    if (!strcmp(vm, "embed")) po->video_mask = VMASK_EMBED;
    else if (!strcmp(vm, "substitute")) po->video_mask = VMASK_SUBSTITUTE;
    else if (!strcmp(vm, "none")) po->video_mask = VMASK_NONE;
    else avm_die("pretrain: --video-mask=%s: not one of embed, substitute, none", vm);
    po->drop_audio = prob(o, "modality-dropout-audio", 0, 0);
    po->drop_video = prob(o, "modality-dropout-video", 0, 0);
    if (po->drop_audio + po->drop_video > 1)
        avm_die("pretrain: --modality-dropout-audio + --modality-dropout-video must not exceed 1");
    int video_masked = po->model.modalities == AVM_MOD_AV && po->video_mask != VMASK_NONE && po->mask_p_video > 0 &&
                       po->model.target == AVM_TARGET_FEATURES;
    if (po->mask_p_audio == 0 && !video_masked)
        avm_die("pretrain: every mask probability is 0: nothing to predict%s",
                po->model.target == AVM_TARGET_CLUSTERS ? " (--target=clusters predicts masked audio only)" : "");
    noise_opts(po, o);
    targets_parse(po, o);

    po->dump_grad = opt_str(o, "dump-grad", NULL);
    po->kill_step = opt_int(o, "debug-kill-step", 0);
    po->nan_step = opt_int(o, "debug-nan-step", 0);
    opts_finish(o);
}

/* Absolute, so that export and fine-tuning find it from any directory. */
static char *abs_path(const char *dir, const char *file) {
    char *real = realpath(dir, NULL), *p = path_join(real ? real : dir, file);
    free(real);
    return p;
}

char *pretrain_config_json(const avm_pretrain_opts *po, const avm_feats *f) {
    avm_strbuf b = {0};
    avm_jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    jw_key(&w, "model"); avmodel_config_json(&po->model, &w);
    jw_key(&w, "train"); jw_obj_begin(&w);
    jw_key(&w, "feats"); jw_str(&w, po->feats);
    jw_key(&w, "valid"); if (po->valid) jw_str(&w, po->valid); else jw_null(&w);
    jw_key(&w, "max_steps"); jw_int(&w, po->max_steps);
    jw_key(&w, "seed"); jw_int(&w, (long long)po->seed);
    jw_key(&w, "batch_tokens"); jw_int(&w, po->batch_tokens);
    jw_key(&w, "max_len"); jw_int(&w, po->max_len);
    jw_key(&w, "lr"); jw_num(&w, po->sched.peak);
    jw_key(&w, "warmup"); jw_int(&w, po->sched.warmup);
    jw_key(&w, "schedule"); jw_str(&w, po->sched.kind == SCHED_COSINE ? "cosine" : po->sched.kind == SCHED_LINEAR ? "linear" : "constant");
    jw_key(&w, "final_lr_ratio"); jw_num(&w, po->sched.final_ratio);
    jw_key(&w, "beta1"); jw_num(&w, po->beta1);
    jw_key(&w, "beta2"); jw_num(&w, po->beta2);
    jw_key(&w, "eps"); jw_num(&w, po->eps);
    jw_key(&w, "weight_decay"); jw_num(&w, po->weight_decay);
    jw_key(&w, "clip"); jw_num(&w, po->clip);
    jw_key(&w, "mask_prob_audio"); jw_num(&w, po->mask_p_audio);
    jw_key(&w, "mask_len_audio"); jw_int(&w, po->mask_l_audio);
    jw_key(&w, "mask_prob_video"); jw_num(&w, po->mask_p_video);
    jw_key(&w, "mask_len_video"); jw_int(&w, po->mask_l_video);
    jw_key(&w, "video_mask"); jw_str(&w, po->video_mask == VMASK_EMBED ? "embed" : po->video_mask == VMASK_SUBSTITUTE ? "substitute" : "none");
    jw_key(&w, "modality_dropout_audio"); jw_num(&w, po->drop_audio);
    jw_key(&w, "modality_dropout_video"); jw_num(&w, po->drop_video);
    jw_key(&w, "noise_feats"); if (po->noise_feats) jw_str(&w, po->noise_feats); else jw_null(&w);
    jw_key(&w, "noise_prob"); jw_num(&w, po->noise_prob);
    jw_key(&w, "noise_snr"); jw_arr_begin(&w); jw_num(&w, po->noise_snr[0]); jw_num(&w, po->noise_snr[1]); jw_arr_end(&w);
    jw_key(&w, "threads"); jw_int(&w, po->threads);
    targets_config_json(po, &w);
    jw_obj_end(&w);
    jw_key(&w, "features"); jw_obj_begin(&w);
    jw_key(&w, "n_mels"); jw_int(&w, f->n_mels);
    jw_key(&w, "stack"); jw_int(&w, AVM_STACK);
    jw_key(&w, "height"); jw_int(&w, f->height);
    jw_key(&w, "width"); jw_int(&w, f->width);
    jw_key(&w, "has_video"); jw_bool(&w, f->has_video);
    char *cmvn = abs_path(po->feats, "cmvn.h5");
    jw_key(&w, "cmvn"); jw_str(&w, cmvn);
    free(cmvn);
    json_value *x = f->config_json ? json_parse(f->config_json) : NULL;
    jw_key(&w, "extract");
    if (x) jw_value(&w, x); else jw_str(&w, f->config_json ? f->config_json : "");
    json_free(x);
    jw_obj_end(&w);
    jw_obj_end(&w);
    return b.s;
}
