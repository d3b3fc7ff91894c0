/* Can a noise feature set be mixed into the training features? Mel bins, sample rate
 * and every fbank setting recorded by `avmask extract` must agree: a mel bin must mean
 * the same frequency band, a frame the same stretch of time. */
#include "common/json.h"
#include "common/util.h"
#include "train/noise.h"
#include <stdlib.h>
#include <string.h>

/* The compact JSON text of v ("absent" for NULL); caller frees. */
static char *as_text(const json_value *v) {
    if (!v) return xstrdup("absent");
    avm_strbuf b = {0};
    avm_jw w;
    jw_init(&w, &b);
    jw_value(&w, v);
    return b.s;
}

/* The first key under which the two settings differ, written into key; 0 if none. */
static int first_diff(const json_value *a, const json_value *b, const char *name, char *key, size_t cap) {
    char *ta = as_text(a), *tb = as_text(b);
    int differ = strcmp(ta, tb) != 0;
    free(ta); free(tb);
    if (!differ) return 0;
    if (a && b && a->type == JSON_OBJ && b->type == JSON_OBJ) {   /* name the inner key */
        for (int pass = 0; pass < 2; pass++) {
            const json_value *x = pass ? b : a, *y = pass ? a : b;
            for (int i = 0; i < x->n; i++) {
                char sub[128];
                snprintf(sub, sizeof sub, "%s.%s", name, x->keys[i]);
                if (first_diff(pass ? json_get(y, x->keys[i]) : x->items[i],
                               pass ? x->items[i] : json_get(y, x->keys[i]), sub, key, cap))
                    return 1;
            }
        }
    }
    snprintf(key, cap, "%s", name);
    return 1;
}

static int compare_configs(const avm_feats *t, const avm_feats *n, json_value *jt, json_value *jn) {
    static const char *const keys[] = {"sample_rate", "fbank"};
    for (int k = 0; k < 2; k++) {
        const json_value *a = jt ? json_get(jt, keys[k]) : NULL, *b = jn ? json_get(jn, keys[k]) : NULL;
        char key[160];
        if (!first_diff(a, b, keys[k], key, sizeof key)) continue;
        const json_value *va = json_path(jt, key), *vb = json_path(jn, key);
        char *sa = as_text(va), *sb = as_text(vb);
        avm_fail("noise features %s and training features %s differ: %s is %s vs %s", n->dir, t->dir, key, sb, sa);
        free(sa); free(sb);
        return -1;
    }
    return 0;
}

int noise_config_check(const avm_feats *train, const avm_feats *noise) {
    if (train->n_mels != noise->n_mels)
        return avm_fail("noise features %s and training features %s differ: n_mels is %d vs %d", noise->dir,
                        train->dir, noise->n_mels, train->n_mels);
    json_value *jt = train->config_json ? json_parse(train->config_json) : NULL;
    json_value *jn = noise->config_json ? json_parse(noise->config_json) : NULL;
    int rc = compare_configs(train, noise, jt, jn);
    json_free(jt);
    json_free(jn);
    return rc;
}
