/* Options of `avmask pretrain`: the table, the checks across options, and the run
 * configuration as JSON. */
#include "common/json.h"
#include "common/opts.h"
#include "common/util.h"
#include "train/mask.h"
#include "train/pretrain.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define F(f) OPT_FIELD(avm_pretrain_opts, f)
#define MODEL_INT(NAME, ALIAS, HELP) {OPT_INT, NAME, ALIAS, .lo = 0, .hi = 1 << 24, .meta = "N", .help = HELP}
#define MODEL_ENUM(NAME, VALUES, HELP) {OPT_ENUM, NAME, .values = VALUES, .help = HELP}

static const avm_optdef table[] = {
    {OPT_TEXT, .help = "run:"},
    {OPT_INT, "max-steps", F(max_steps), .lo = 1, .hi = 1L << 40, .flags = OPT_REQ, .help = "optimiser updates"},
    {OPT_INT, "seed", F(seed), .def = "1", .lo = 0, .hi = 1L << 62,
     .help = "initialisation, batches, crops, masks, dropout"},
    OPT_THREADS("OpenMP and OpenBLAS threads per rank (default: all cores or OMP_NUM_THREADS)"),
    {OPT_FLAG, "resume", F(resume), .help = "continue from OUT/checkpoint-last.h5 (starts fresh if there is none)"},
    {OPT_INT, "log-every", F(log_every), .def = "10", .lo = 1, .hi = 1L << 40, .help = "steps between log lines"},
    {OPT_INT, "valid-every", F(valid_every), .def = "500", .lo = 1, .hi = 1L << 40, .help = "steps between validations"},
    {OPT_INT, "save-every", F(save_every), .def = "500", .lo = 1, .hi = 1L << 40,
     .help = "steps between writes of checkpoint-last.h5"},
    {OPT_TEXT, .help = "data:"},
    {OPT_STR, "feats", F(feats), .meta = "DIR", .flags = OPT_REQ, .help = "training features (avmask extract)"},
    {OPT_STR, "valid", F(valid), .meta = "DIR",
     .help = "validation features (default none: no validation, no checkpoint-best.h5)"},
    {OPT_STR, "out", F(out), .meta = "DIR", .flags = OPT_REQ, .help = "the run's directory"},
    {OPT_INT, "batch-tokens", F(batch_tokens), .def = "4000", .lo = 1, .hi = 1L << 30,
     .help = "samples x padded tokens per global batch"},
    {OPT_INT, "max-len", F(max_len), .lo = 1, .hi = 1 << 20, .meta = "TOKENS",
     .help = "random crops (default and limit: the model's max_len)"},
    {OPT_INT, "max-open-shards", F(max_open_shards), .def = "4", .lo = 1, .hi = 1024, .help = "shard files open at once"},
    {OPT_TEXT, .help = "optim:"},
    {OPT_NUM, "lr", F(sched.peak), .def = "5e-4", .min = 0, .max = INFINITY, .flags = OPT_MIN_OPEN,
     .help = "peak learning rate"},
    {OPT_INT, "warmup", F(sched.warmup), .def = "1000", .lo = 0, .hi = 1L << 40,
     .help = "steps of linear warm-up (at most --max-steps)"},
    {OPT_ENUM, "schedule", F(schedule), .def = "cosine", .values = "cosine|linear|constant", .help = "decay after warm-up"},
    {OPT_NUM, "final-lr-ratio", F(sched.final_ratio), .def = "0.01", .min = 0, .max = 1, .help = "last lr / peak lr"},
    {OPT_NUM, "beta1", F(beta1), .def = "0.9", .min = 0, .max = 1, .flags = OPT_MAX_OPEN, .help = "AdamW"},
    {OPT_NUM, "beta2", F(beta2), .def = "0.98", .min = 0, .max = 1, .flags = OPT_MAX_OPEN, .help = "AdamW"},
    {OPT_NUM, "eps", F(eps), .def = "1e-6", .min = 0, .max = INFINITY, .flags = OPT_MIN_OPEN, .help = "AdamW"},
    {OPT_NUM, "weight-decay", F(weight_decay), .def = "0.01", .min = 0, .max = INFINITY, .help = "AdamW, decoupled"},
    {OPT_NUM, "clip", F(clip), .def = "10", .min = 0, .max = INFINITY, .help = "global gradient-norm clip (0: off)"},
    {OPT_TEXT, .help = "mask:"},
    {OPT_NUM, "mask-prob-audio", F(mask_p_audio), .def = OPT_TEXTOF(MASK_DEFAULT_P_AUDIO), .min = 0, .max = 1,
     .help = "per token: probability of starting a masked span"},
    {OPT_INT, "mask-len-audio", F(mask_l_audio), .def = OPT_TEXTOF(MASK_DEFAULT_L_AUDIO), .lo = 1, .hi = 1 << 20,
     .help = "tokens per span"},
    {OPT_NUM, "mask-prob-video", F(mask_p_video), .def = OPT_TEXTOF(MASK_DEFAULT_P_VIDEO), .min = 0, .max = 1,
     .help = "the same for the video"},
    {OPT_INT, "mask-len-video", F(mask_l_video), .def = OPT_TEXTOF(MASK_DEFAULT_L_VIDEO), .lo = 1, .hi = 1 << 20,
     .help = "tokens per span"},
    /* values in avm_video_mask order */
    {OPT_ENUM, "video-mask", F(video_mask), .def = "embed", .values = "embed|substitute|none",
     .help = "a masked video token holds a learned mask vector,\n"
             "the frames of another span of the same sample (AV-HuBERT), or the video\n"
             "is never masked and only the audio is predicted"},
    {OPT_NUM, "modality-dropout-audio", F(drop_audio), .def = "0", .min = 0, .max = 1,
     .help = "per sample: drop the video with the probability of\n"
             "--modality-dropout-video, else the audio with this one"},
    {OPT_NUM, "modality-dropout-video", F(drop_video), .def = "0", .min = 0, .max = 1, .help = "see above"},
    {OPT_INT, "novideo-pass", F(novideo_pass), .def = "0", .lo = 0, .hi = 1,
     .help = "1: every step also predicts the masked audio of every sample\n"
             "with the video dropped (the exported branch's condition) and adds\n"
             "that mean loss to the objective (av only; costs a second forward\n"
             "and backward)"},
    {OPT_TEXT, .help = "noise (noisy input, clean target; validation stays clean):"},
    {OPT_STR, "noise-feats", F(noise_feats), .meta = "DIR",
     .help = "features (avmask extract) of noise recordings, mixed into the\n"
             "training audio in the mel power domain (default none: no noise)"},
    {OPT_NUM, "noise-prob", F(noise_prob), .def = "0.5", .min = 0, .max = 1,
     .help = "per sample, with --noise-feats (0: off)"},
    {OPT_STR, "noise-snr", F(noise_snr_arg), .def = "-5,20", .help = "LO,HI: SNR range in dB (uniform), with --noise-feats"},
    {OPT_TEXT, .help = "model (each key defaults to the --model config; also as written in config.json):"},
    {OPT_ENUM, "model", F(model_name), .def = "small", .values = "tiny|small|base", .help = "named configuration"},
    MODEL_ENUM("modalities", "av|audio", "audio-visual or audio-only"),
    MODEL_INT("d", NULL, "width"),
    MODEL_INT("ffn", NULL, "feed-forward width"),
    MODEL_INT("heads", NULL, "attention heads"),
    MODEL_INT("layers-audio", "layers_audio", "audio encoder layers"),
    MODEL_INT("layers-video", "layers_video", "video encoder layers"),
    MODEL_INT("layers-fusion", "layers_fusion", "fusion encoder layers"),
    MODEL_INT("audio-in", "audio_in", "audio input dim (must match the features)"),
    MODEL_INT("video-in", "video_in", "video input dim (must match the features)"),
    MODEL_INT("max-len-model", NULL, "positions (max_len in config.json)"),
    {OPT_NUM, "dropout", .min = 0, .max = 1, .flags = OPT_MAX_OPEN, .meta = "P", .help = "dropout"},
    {OPT_NUM, "attn-dropout", "attn_dropout", .min = 0, .max = 1, .flags = OPT_MAX_OPEN, .meta = "P",
     .help = "attention dropout"},
    MODEL_ENUM("loss", "l1|l2|infonce", "--target=features: reconstruction loss, or InfoNCE\n"
                                        "against the other masked positions"),
    MODEL_ENUM("fusion", "concat|sequence", "concat: per token [audio_t ; video_t] -> Linear(2d -> d),\n"
                                            "a dropped stream as zeros; sequence: fusion layers over\n"
                                            "[audio; video] along time"),
    {OPT_TEXT, .help = "target:"},
    MODEL_ENUM("target", "features|clusters", "features: reconstruct the masked features (--loss);\n"
                                              "clusters: HuBERT's cross-entropy over the codebook on\n"
                                              "masked audio tokens (default: features)"),
    {OPT_STR, "labels", F(labels), .meta = "DIR", .help = "clusters: label dir of --feats (avmask kmeans --apply)"},
    {OPT_STR, "valid-labels", F(valid_labels), .meta = "DIR", .help = "clusters with --valid: label dir of --valid"},
    {OPT_NUM, "unmasked-weight", F(unmasked_weight), .def = "0", .min = 0, .max = 1000,
     .help = "clusters: weight of the unmasked tokens' cross-entropy (HuBERT's alpha)"},
    MODEL_INT("num-classes", "num_classes", "clusters: codebook size (default: read from --labels)"),
    MODEL_INT("label-dim", "label_dim", "clusters: projection dim of the head (default: d)"),
    {OPT_TEXT, .help = "test hooks:"},
    {OPT_STR, "dump-grad", F(dump_grad), .meta = "FILE", .help = "write the averaged gradient of the first step"},
    {OPT_INT, "debug-kill-step", F(kill_step), .def = "0", .help = "SIGKILL itself after this step (0: never)"},
    {OPT_INT, "debug-nan-step", F(nan_step), .def = "0", .help = "poison the gradient at this step (0: never)"},
    {.type = OPT_END},
};

const avm_optspec pretrain_optspec = {
    "pretrain",
    "usage: avmask pretrain --feats=DIR --out=DIR --max-steps=N [--valid=DIR] [--config=FILE] [options]\n"
    "Masked audio-visual feature prediction (models/README.md). Writes OUT/checkpoint-last.h5,\n"
    "checkpoint-best.h5 (lowest validation loss), config.json, train.log, metrics.jsonl.\n"
    "Files given with --config hold the same options, one per line (conf/*.conf).\n",
    table, NULL, NULL,
};

/* The model keys given as options (the key with dashes, or as written in config.json;
 * max_len is --max-len-model since --max-len is the crop) override the named config. */
static void model_overrides(avm_pretrain_opts *po, const avm_opts *o) {
    for (int i = 0; avmodel_config_keys[i]; i++) {
        const char *k = avmodel_config_keys[i];
        char dash[64];
        snprintf(dash, sizeof dash, "%s", strcmp(k, "max_len") ? k : "max-len-model");
        for (char *c = dash; *c; c++) if (*c == '_') *c = '-';
        const char *v = opts_get(o, dash);
        if (!v) continue;
        if (avmodel_config_set(&po->model, k, v)) avm_die("pretrain: %s", avm_error());
        if (!strcmp(k, "audio_in")) po->model_in_set[0] = 1;
        if (!strcmp(k, "video_in")) po->model_in_set[1] = 1;
        if (!strcmp(k, "num_classes")) po->model_in_set[2] = 1;
    }
}

/* Noise mixing (train/noise.h); --noise-prob and --noise-snr only mean something with a noise set. */
static void noise_opts(avm_pretrain_opts *po, const avm_opts *o) {
    if (po->noise_feats && !po->noise_feats[0]) po->noise_feats = NULL;   /* --noise-feats= : none */
    if (!po->noise_feats && (opts_given(o, "noise-prob") || opts_given(o, "noise-snr")))
        avm_die("pretrain: --noise-prob and --noise-snr need --noise-feats=DIR");
    if (!po->noise_feats) {
        po->noise_prob = 0;
        return;
    }
    const char *s = po->noise_snr_arg;
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
    opts_parse(o, &pretrain_optspec, po, argc, argv);
    if (po->valid && !po->valid[0]) po->valid = NULL;   /* --valid= : none */
    po->threads = opts_threads(o);

    if (avmodel_config_named(&po->model, po->model_name)) avm_die("pretrain: --model: %s", avm_error());
    model_overrides(po, o);
    if (!opts_given(o, "max-len")) po->max_len = po->model.max_len;
    if (po->max_len > po->model.max_len)
        avm_die("pretrain: --max-len=%d exceeds the model's %d positions (--max-len-model)", po->max_len,
                po->model.max_len);
    if (po->batch_tokens < po->max_len)
        avm_die("pretrain: --batch-tokens=%ld is smaller than --max-len=%d: a long sample would not fit",
                po->batch_tokens, po->max_len);

    po->sched.total = po->max_steps;
    if (sched_parse_kind(po->schedule, &po->sched.kind)) avm_die("pretrain: --schedule: %s", avm_error());
    if (po->sched.warmup > po->max_steps) po->sched.warmup = po->max_steps;   /* short runs: warm up throughout */
    if (sched_check(&po->sched)) avm_die("pretrain: %s", avm_error());

    if (po->drop_audio + po->drop_video > 1)
        avm_die("pretrain: --modality-dropout-audio + --modality-dropout-video must not exceed 1");
    if (po->novideo_pass && po->model.modalities != AVM_MOD_AV)
        avm_die("pretrain: --novideo-pass=1 needs --modalities=av (an audio-only model has no video to drop)");
    int video_masked = po->model.modalities == AVM_MOD_AV && po->video_mask != VMASK_NONE && po->mask_p_video > 0 &&
                       po->model.target == AVM_TARGET_FEATURES;
    if (po->mask_p_audio == 0 && !video_masked)
        avm_die("pretrain: every mask probability is 0: nothing to predict%s",
                po->model.target == AVM_TARGET_CLUSTERS ? " (--target=clusters predicts masked audio only)" : "");
    noise_opts(po, o);
    targets_parse(po, o);
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
    jw_key(&w, "novideo_pass"); jw_int(&w, po->novideo_pass);
    jw_key(&w, "noise_feats"); if (po->noise_feats) jw_str(&w, po->noise_feats); else jw_null(&w);
    jw_key(&w, "noise_prob"); jw_num(&w, po->noise_prob);
    jw_key(&w, "noise_snr"); jw_arr_begin(&w); jw_num(&w, po->noise_snr[0]); jw_num(&w, po->noise_snr[1]); jw_arr_end(&w);
    jw_key(&w, "threads"); jw_int(&w, po->threads);
    targets_config_json(po, &w);
    jw_obj_end(&w);
    jw_key(&w, "features"); jw_obj_begin(&w);
    jw_key(&w, "n_mels"); jw_int(&w, f->n_mels);
    jw_key(&w, "stack"); jw_int(&w, f->stack);
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
