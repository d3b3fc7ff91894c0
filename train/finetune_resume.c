/* Can this fine-tuning run continue OUT/checkpoint-last.h5 (see finetune.h)? The checkpoint
 * must hold this layout (none of the parameters fine-tuning carried untrained before its
 * encoder was the export alone) and this encoder's architecture (the head's shape is
 * checked when the parameters are read). */
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

void ft_check_resume(avm_trainer *t, const char *path, const avm_ckpt_meta *m) {
    ft_run *r = t->task;
    char *msg = layout_problem(path);   /* each message built first: nothing is left allocated when the run dies */
    json_value *v = msg ? NULL : json_parse(m->config_json), *mine = json_parse(r->run_json);
    if (!msg && !v) msg = xasprintf("%s: stored configuration is not JSON", path);
    if (!msg) msg = model_problem(path, v, mine);
    json_free(v);
    json_free(mine);
    if (msg) {
        avm_fail("%s", msg);   /* the thread's error buffer outlives msg */
        free(msg);
        avm_die("finetune: %s", avm_error());
    }
}
