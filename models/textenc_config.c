/* Text encoder configuration: defaults, checks, JSON round trip. */
#include "models/textenc.h"
#include "common/log.h"
#include <string.h>

void textenc_config_default(avm_text_config *c) {
    avm_text_config x = {.vocab = 0, .d = 128, .ffn = 512, .heads = 4, .layers = 2, .max_len = 64,
                         .dropout = 0.1f, .attn_dropout = 0.1f, .mlm_head = 1};
    *c = x;
}

int textenc_config_check(const avm_text_config *c) {
    if (c->vocab <= AVM_TEXT_SPECIALS) return avm_fail("text model: vocab %d holds no word", c->vocab);
    if (c->d < 1 || c->ffn < 1 || c->heads < 1 || c->layers < 1 || c->max_len < 2)
        return avm_fail("text model: d, ffn, heads and layers must be positive, max_len at least 2");
    if (c->d % c->heads) return avm_fail("text model: d %d is not a multiple of heads %d", c->d, c->heads);
    if (!(c->dropout >= 0 && c->dropout < 1) || !(c->attn_dropout >= 0 && c->attn_dropout < 1))
        return avm_fail("text model: dropout probabilities must be in [0, 1)");
    /* a configuration read from a file must not make textenc_init allocate without bound */
    double d = c->d, n = c->layers * (4 * d * d + 2 * d * c->ffn + c->ffn + 9 * d) + d * (c->vocab + c->max_len) +
                         d * d + c->vocab + 6 * d;
    if (n > (double)(1 << 30))
        return avm_fail("text model: about %.3g parameters: more than 2^30, not a configuration avmask builds", n);
    return 0;
}

void textenc_config_json(const avm_text_config *c, avm_jw *w) {
    jw_obj_begin(w);
    jw_key(w, "vocab"); jw_int(w, c->vocab);
    jw_key(w, "d"); jw_int(w, c->d);
    jw_key(w, "ffn"); jw_int(w, c->ffn);
    jw_key(w, "heads"); jw_int(w, c->heads);
    jw_key(w, "layers"); jw_int(w, c->layers);
    jw_key(w, "max_len"); jw_int(w, c->max_len);
    jw_key(w, "dropout"); jw_num(w, c->dropout);
    jw_key(w, "attn_dropout"); jw_num(w, c->attn_dropout);
    jw_obj_end(w);
}

int textenc_config_from_json(avm_text_config *c, const json_value *obj) {
    if (!obj || obj->type != JSON_OBJ) return avm_fail("text model config: not a JSON object");
    static const char *const keys[] = {"vocab", "d", "ffn", "heads", "layers", "max_len", "dropout", "attn_dropout"};
    for (int i = 0; i < obj->n; i++) {
        int known = 0;
        for (int k = 0; k < 8; k++) known |= !strcmp(obj->keys[i], keys[k]);
        if (!known) return avm_fail("text model config: unknown key '%s'", obj->keys[i]);
    }
    int *ints[] = {&c->vocab, &c->d, &c->ffn, &c->heads, &c->layers, &c->max_len};
    for (int k = 0; k < 6; k++) {
        long long v;
        if (json_int_range(obj, keys[k], 0, 1 << 24, JSON_REQUIRED, &v)) return avm_fail("text model config: %s", avm_error());
        *ints[k] = (int)v;
    }
    float *probs[] = {&c->dropout, &c->attn_dropout};
    for (int k = 0; k < 2; k++) {
        const json_value *v = json_get(obj, keys[6 + k]);
        if (!v || v->type != JSON_NUM) return avm_fail("text model config: '%s' must be a number", keys[6 + k]);
        *probs[k] = (float)v->num;
    }
    return textenc_config_check(c);
}
