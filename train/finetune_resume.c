/* Can this fine-tuning run continue OUT/checkpoint-last.h5 (see finetune.h)? The checkpoint
 * must hold this layout (none of the parameters fine-tuning carried untrained before its
 * encoder was the export alone), this encoder's architecture (the head's shape is checked
 * when the parameters are read), and have been trained on the same data and units: their
 * fingerprints are in the run configuration, which checksum_meta covers. */
#include "train/finetune.h"
#include "common/json.h"
#include "common/util.h"
#include <stdlib.h>
#include <string.h>

/* What fine-tuning carried, with zero gradient, while its encoder was a whole audio model. */
static const char *const old_layout[] = {"mask_emb_audio", "audio_head.weight", "audio_head.bias"};

static char *layout_problem(const char *path) {
    for (size_t i = 0; i < sizeof old_layout / sizeof *old_layout; i++) {
        int has = ckpt_has_param(path, old_layout[i]);
        if (has < 0) return xasprintf("%s", avm_error());
        if (has)
            return xasprintf("%s was written before fine-tuning carried the encoder alone (it holds %s, which the "
                             "export leaves out and fine-tuning no longer trains): it cannot be resumed; use another --out",
                             path, old_layout[i]);
    }
    return NULL;
}

static char *model_problem(const char *path, const json_value *v, const json_value *mine) {
    char key[160];
    if (!json_first_diff(json_get(v, "model"), json_get(mine, "model"), "model", key, sizeof key)) return NULL;
    char *a = json_text(json_path(v, key)), *b = json_text(json_path(mine, key));
    char *msg = xasprintf("%s holds a checkpoint of another encoder (%s is %s; this run: %s); use another --out",
                          path, key, a, b);
    free(a);
    free(b);
    return msg;
}

/* finetune.<what>_fingerprint of the checkpoint against this run's; `mine` says what this
 * run's fingerprint was taken of. */
static char *fingerprint_problem(const char *path, const json_value *v, const json_value *run, const char *what,
                                 const char *mine) {
    char key[64];
    snprintf(key, sizeof key, "finetune.%s_fingerprint", what);
    const char *a = json_str_or(v, key, NULL), *b = json_str_or(run, key, "");
    if (a && !strcmp(a, b)) return NULL;
    return xasprintf("%s was trained on other %s (fingerprint %s; this run's, of %s: %s); resume with the same %s "
                     "or use another --out", path, what, a ? a : "not recorded", mine, b, what);
}

void ft_check_resume(avm_trainer *t, const char *path, const avm_ckpt_meta *m) {
    ft_run *r = t->task;
    const ft_opts *f = &r->f;
    char *msg = layout_problem(path);   /* each message built first: nothing is left allocated when the run dies */
    json_value *v = msg ? NULL : json_parse(m->config_json), *mine = json_parse(r->run_json);
    if (!msg && !v) msg = xasprintf("%s: stored configuration is not JSON", path);
    if (!msg) msg = model_problem(path, v, mine);
    if (!msg) {
        char *data = xasprintf("the utterances of %s with %s/%s", f->feats, f->data, units_source(f->kind));
        msg = fingerprint_problem(path, v, mine, "data", data);
        free(data);
    }
    if (!msg) {
        char *units = f->units_file ? xasprintf("--units-file=%s", f->units_file)
                                    : xasprintf("the units of %s/%s", f->data, units_source(f->kind));
        msg = fingerprint_problem(path, v, mine, "units", units);
        free(units);
    }
    json_free(v);
    json_free(mine);
    if (msg) {
        avm_fail("%s", msg);   /* the thread's error buffer outlives msg */
        free(msg);
        avm_die("finetune: %s", avm_error());
    }
}
