#include "train/metrics.h"
#include "common/json.h"
#include "common/util.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int rewrite_upto(const char *path, long keep_step) {
    avm_lines r;
    if (lines_open(&r, path)) return -1;
    avm_strbuf kept = {0};
    char *line;
    while ((line = lines_next(&r))) {
        json_value *v = json_parse(line);
        long long step = -1;
        if (v && json_int_range(v, "step", 0, LONG_MAX / 2, JSON_REQUIRED, &step)) step = -1;   /* dropped */
        json_free(v);
        if (step >= 0 && step <= keep_step) { sb_add(&kept, line); sb_add(&kept, "\n"); }
    }
    if (lines_close(&r)) { sb_free(&kept); return -1; }
    int rc = write_file_atomic(path, kept.s ? kept.s : "", kept.len);
    sb_free(&kept);
    return rc;
}

FILE *metrics_open(const char *path, long keep_step) {
    if (keep_step >= 0 && file_exists(path) && rewrite_upto(path, keep_step)) return NULL;
    FILE *f = fopen(path, keep_step >= 0 ? "a" : "w");
    if (!f) avm_fail("%s: cannot write: %s", path, strerror(errno));
    return f;
}

static void emit(FILE *f, avm_strbuf *b) {
    fprintf(f, "%s\n", b->s);
    fflush(f);
    sb_free(b);
}

void metrics_train(FILE *f, const avm_train_metrics *m) {
    avm_strbuf b = {0};
    avm_jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    jw_key(&w, "step"); jw_int(&w, m->step);
    jw_key(&w, "loss"); jw_num(&w, m->loss);
    jw_key(&w, "loss_audio"); jw_num(&w, m->loss_audio);
    jw_key(&w, "loss_video"); jw_num(&w, m->loss_video);
    if (!isnan(m->acc_audio)) { jw_key(&w, "acc_audio"); jw_num(&w, m->acc_audio); }
    if (!isnan(m->loss_audio_novideo)) { jw_key(&w, "loss_audio_novideo"); jw_num(&w, m->loss_audio_novideo); }
    jw_key(&w, "lr"); jw_num(&w, m->lr);
    jw_key(&w, "grad_norm"); jw_num(&w, m->grad_norm);
    jw_key(&w, "tokens_per_s"); jw_num(&w, m->tokens_per_s);
    jw_key(&w, "seconds"); jw_num(&w, m->seconds);
    jw_obj_end(&w);
    emit(f, &b);
}

void metrics_valid(FILE *f, const avm_valid_metrics *m) {
    avm_strbuf b = {0};
    avm_jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    jw_key(&w, "step"); jw_int(&w, m->step);
    jw_key(&w, "valid_loss"); jw_num(&w, m->loss);
    jw_key(&w, "valid_loss_audio"); jw_num(&w, m->loss_audio);
    jw_key(&w, "valid_loss_video"); jw_num(&w, m->loss_video);
    if (!isnan(m->acc_audio)) { jw_key(&w, "valid_acc_audio"); jw_num(&w, m->acc_audio); }
    if (isfinite(m->audio_novideo) && isfinite(m->audio_shuffled)) {
        jw_key(&w, "valid_loss_audio_novideo"); jw_num(&w, m->audio_novideo);
        jw_key(&w, "valid_loss_audio_shuffled"); jw_num(&w, m->audio_shuffled);
        jw_key(&w, "video_gain_shuffled"); jw_num(&w, video_gain(m->loss_audio, m->audio_shuffled));
        jw_key(&w, "video_gain_dropped"); jw_num(&w, video_gain(m->loss_audio, m->audio_novideo));
    }
    jw_obj_end(&w);
    emit(f, &b);
}

void metrics_line(FILE *f, const avm_metric *m, int n) {
    avm_strbuf b = {0};
    avm_jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    for (int i = 0; i < n; i++) {
        jw_key(&w, m[i].key);
        if (m[i].is_int) jw_int(&w, (long long)m[i].v);
        else jw_num(&w, m[i].v);
    }
    jw_obj_end(&w);
    emit(f, &b);
}

double video_gain(double with_video, double control) { return (control - with_video) / control; }
