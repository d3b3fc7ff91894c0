/* Can a noise feature set be mixed into the training features? Mel bins, sample rate
 * and every fbank setting recorded by `avmask extract` must agree: a mel bin must mean
 * the same frequency band, a frame the same stretch of time. */
#include "common/json.h"
#include "common/util.h"
#include "train/noise.h"
#include <stdlib.h>
#include <string.h>

static int compare_configs(const avm_feats *t, const avm_feats *n, json_value *jt, json_value *jn) {
    static const char *const keys[] = {"sample_rate", "fbank"};
    for (int k = 0; k < 2; k++) {
        const json_value *a = jt ? json_get(jt, keys[k]) : NULL, *b = jn ? json_get(jn, keys[k]) : NULL;
        char key[160];
        if (!json_first_diff(a, b, keys[k], key, sizeof key)) continue;
        const json_value *va = json_path(jt, key), *vb = json_path(jn, key);
        char *sa = json_text(va), *sb = json_text(vb);
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
