/* Rebuilding a model from a checkpoint alone (for export and kmeans --source=layer), and
 * comparing a checkpoint's run configuration with this run's (--resume). */
#include "common/json.h"
#include "common/util.h"
#include "train/checkpoint.h"
#include <stdlib.h>
#include <string.h>

char *ckpt_config_diff(const char *stored, const char *mine, const char *const *keys, int n) {
    json_value *v = json_parse(stored), *m = json_parse(mine);
    char *msg = v ? NULL : xstrdup("stored configuration is not JSON");
    for (int k = 0; !msg && k < n; k++) {
        char key[160];
        if (!json_first_diff(json_path(v, keys[k]), json_path(m, keys[k]), keys[k], key, sizeof key)) continue;
        char *x = json_text(json_path(v, key)), *y = json_text(json_path(m, key));
        msg = xasprintf("%s is %s; this run: %s", key, x, y);
        free(x);
        free(y);
    }
    json_free(v);
    json_free(m);
    return msg;
}

int ckpt_load_model(const char *path, avm_model *model, avm_ckpt_meta *meta) {
    avm_ckpt_meta m;
    if (ckpt_read_meta(path, &m)) return -1;
    json_value *v = json_parse(m.config_json);
    avm_config c;
    avmodel_config_named(&c, "tiny");   /* every key is then set from the stored config */
    int rc = 0;
    if (!v) rc = avm_fail("%s: stored configuration is not JSON", path);
    else if (avmodel_config_from_json(&c, json_get(v, "model")))
        rc = avm_fail("%s: stored model configuration: %s", path, avm_error());
    json_free(v);
    ckpt_meta_free(&m);
    if (rc) return -1;
    memset(model, 0, sizeof *model);
    if (avmodel_init(model, &c, m.seed)) return -1;
    if (ckpt_load(path, &model->params, NULL, meta)) { avmodel_free(model); return -1; }
    return 0;
}
