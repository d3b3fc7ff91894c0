/* Base files of the binary-format fuzz targets (fuzzmodel.h). */
#include "fuzz.h"
#include "fuzzmodel.h"
#include "common/util.h"
#include "train/asr.h"
#include "train/export.h"
#include "train/s2i.h"
#include "train/checkpoint.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(void) { fprintf(stderr, "fuzz: base files: %s\n", avm_error()); abort(); }

void fuzz_micro_config(avm_config *c, int audio_only) {
    avmodel_config_named(c, "tiny");
    static const char *kv[][2] = {{"d", "8"}, {"ffn", "8"}, {"heads", "2"}, {"layers_audio", "1"},
                                  {"layers_video", "1"}, {"layers_fusion", "1"}, {"audio_in", "8"},
                                  {"video_in", "4"}, {"max_len", "4"}};
    for (size_t i = 0; i < sizeof kv / sizeof *kv; i++)
        if (avmodel_config_set(c, kv[i][0], kv[i][1])) die();
    if (audio_only) {   /* an export's model: the encoder alone */
        c->modalities = AVM_MOD_AUDIO;
        c->encoder_only = 1;
    }
}

const avm_model *fuzz_base_model(int audio_only) {
    static avm_model m[2];
    static int have[2];
    if (!have[audio_only]) {
        avm_config c;
        fuzz_micro_config(&c, audio_only);
        if (avmodel_init(&m[audio_only], &c, 1)) die();
        have[audio_only] = 1;
    }
    return &m[audio_only];
}

int fuzz_same_params(const avm_params *a, int audio_only, int (*keep)(const char *)) {
    const avm_params *b = &fuzz_base_model(audio_only)->params;
    if (a->n != b->n) return 0;
    for (int i = 0; i < a->n; i++) {
        const avm_param *p = &a->p[i], *q = &b->p[i];
        if (keep && !keep(p->name)) continue;
        if (strcmp(p->name, q->name) || p->numel != q->numel ||
            memcmp(a->data + p->offset, b->data + q->offset, p->numel * sizeof(float)))
            return 0;
    }
    return 1;
}

static char *model_json(const avm_config *c) {
    avm_strbuf b = {0};
    avm_jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    jw_key(&w, "model");
    avmodel_config_json(c, &w);
    jw_obj_end(&w);
    return b.s;
}

const char *fuzz_base_ckpt(void) {
    static char *path;
    if (path) return path;
    path = xasprintf("%s/base.ckpt.h5", fuzz_dir());
    const avm_model *m = fuzz_base_model(0);
    char *cj = model_json(&m->cfg);
    avm_ckpt_meta meta = {.step = 3, .epoch = 0, .epoch_pos = 1, .seed = 1, .best_valid = 1.5, .config_json = cj};
    if (ckpt_save(path, &m->params, NULL, &meta)) die();
    free(cj);
    return path;
}

static char *export_json(const avm_config *c) {
    double mean[2] = {0.5, -1}, var[2] = {2, 0.25};
    return export_config_json(c, NULL, mean, var, 2, "checkpoint", "fuzz", 3);
}

const char *fuzz_base_export(void) {
    static char *dir;
    if (dir) return dir;
    dir = xasprintf("%s/base-export", fuzz_dir());
    const avm_model *m = fuzz_base_model(1);
    char *cj = export_json(&m->cfg);
    if (export_write(dir, m, cj)) die();
    free(cj);
    return dir;
}

const char *fuzz_base_asr(void) {
    static char *dir;
    if (dir) return dir;
    dir = xasprintf("%s/base-asr", fuzz_dir());
    const avm_model *m = fuzz_base_model(1);
    char *cj = export_json(&m->cfg);
    if (export_write(dir, m, cj)) die();
    free(cj);
    static const char units[] = "<blank> 0\n<unk> 1\na 2\nb 3\n";
    char *p = path_join(dir, "units.txt");
    if (write_file_atomic(p, units, sizeof units - 1)) die();
    free(p);
    avm_ctc_head h;
    ctc_head_init(&h, m->cfg.d, 4, 0, 1);
    p = path_join(dir, "ctc_head.h5");
    if (ctc_head_save(&h, p)) die();
    free(p);
    ctc_head_free(&h);
    static const char asr[] = "{\"format\":\"" ASR_FORMAT "\",\"units\":\"char\",\"vocab\":4,\"layer_weights\":0,\"layer_norm\":0}\n";
    p = path_join(dir, "asr.json");
    if (write_file_atomic(p, asr, sizeof asr - 1)) die();
    free(p);
    return dir;
}

const char *fuzz_base_s2i(void) {
    static char *dir;
    if (dir) return dir;
    dir = xasprintf("%s/base-s2i", fuzz_dir());
    if (mkdir_p(dir)) die();
    static const char list[] = "play title\nstop command\nweather other\n";
    char *p = path_join(dir, "intents.txt");
    if (write_file_atomic(p, list, sizeof list - 1)) die();
    s2i_model m = {0};
    m.enc = *fuzz_base_model(1);            /* a shallow copy: only written */
    if (intents_read(&m.intents, p)) die();
    free(p);
    s2i_head_init(&m.head, m.enc.cfg.d, 4, 3, 1);
    char *cj = export_json(&m.enc.cfg);
    if (s2i_save(&m, dir, cj)) die();
    free(cj);
    s2i_head_free(&m.head);
    intents_free(&m.intents);
    return dir;
}

static void copy(const char *from_dir, const char *to_dir, const char *name) {
    char *a = path_join(from_dir, name), *b = path_join(to_dir, name);
    size_t n;
    uint8_t *d = fuzz_slurp(a, &n);
    if (!d || write_file_atomic(b, d, n)) die();
    free(d); free(a); free(b);
}

const char *fuzz_export_with(const char *name, const char *file, const unsigned char *data, size_t size) {
    static char dir[600];
    const char *base = fuzz_base_export();
    snprintf(dir, sizeof dir, "%s/%s", fuzz_dir(), name);
    static const char *files[] = {"config.json", "audio_encoder.h5", "model.safetensors"};
    if (!dir_exists(dir)) {
        if (mkdir_p(dir)) die();
        for (int i = 0; i < 3; i++) copy(base, dir, files[i]);
    }
    char *p = path_join(dir, file);
    FILE *f = fopen(p, "wb");   /* no fsync: thousands of inputs a second */
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f)) die();
    free(p);
    return dir;
}
