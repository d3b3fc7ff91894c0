/* TinyS2I's model directory: save, load, the command list, parameter counts (see tinys2i.h). */
#include "train/tinys2i.h"
#include "common/json.h"
#include "common/util.h"
#include "train/export.h"
#include <stdlib.h>
#include <string.h>

int ts_commands(ts_model *m, const char *path) {
    const avm_intents *l = &m->intents;
    free(m->cmd_intent);
    m->cmd_intent = xmalloc(((size_t)l->n + 1) * sizeof *m->cmd_intent);
    int Kc = 0;
    for (int i = 0; i < l->n; i++) {
        int c = -1;
        for (int k = 0; k < TS_CLASSES; k++) if (!strcmp(l->cls[i], ts_class_names[k])) c = k;
        if (c < 0) return avm_fail("%s:%d: intent '%s' has class '%s', not command, title or other", path, i + 1,
                                   l->name[i], l->cls[i]);
        if (c == TS_COMMAND) m->cmd_intent[Kc++] = i;
    }
    if (!Kc) return avm_fail("%s: no intent of class command", path);
    return Kc;
}

void ts_param_counts(const ts_model *m, size_t c[3]) {
    c[0] = params_values(&m->enc.params);
    c[1] = params_values(&m->head.p);
    c[2] = params_values(&m->tenc.params);
}

int ts_save(const ts_model *m, const char *dir, const char *config_json) {
    if (export_write(dir, &m->enc, config_json)) return -1;
    char *hp = path_join(dir, "tinys2i_head.h5"), *ip = path_join(dir, "intents.txt"), *jp = path_join(dir, "tinys2i.json");
    char *tp = path_join(dir, "title_encoder");
    size_t c[3];
    ts_param_counts(m, c);
    char *desc = xasprintf("{\"format\":\"%s\",\"embed_dim\":%d,\"commands\":%d,\"pooling\":\"mean\","
                           "\"title_units\":\"%s\",\"parameters\":{\"audio_encoder\":%zu,\"head\":%zu,"
                           "\"title_encoder\":%zu,\"total\":%zu}}\n",
                           TS_FORMAT, m->head.e, m->head.Kc, m->title_chars ? "char" : "word", c[0], c[1], c[2],
                           c[0] + c[1] + c[2]);
    int rc = export_head_io(&m->head.p, hp, TS_HEAD_FORMAT, 1);
    if (!rc) rc = intents_write(&m->intents, ip);
    if (!rc) rc = tl_model_save(&m->tenc, &m->vocab, tp, 0);
    if (!rc) rc = write_file_atomic(jp, desc, strlen(desc));   /* last: a complete dir has it */
    free(desc); free(hp); free(ip); free(jp); free(tp);
    return rc;
}

int ts_is_model(const char *dir) {
    char *jp = path_join(dir, "tinys2i.json");
    int yes = file_exists(jp);
    free(jp);
    return yes;
}

/* tinys2i.json's sizes against the parts (commands, embedding) and its title units (*chars;
 * words when absent, as before the key existed). */
static int read_desc(const char *path, int Kc, int e, int *chars) {
    char *text = read_file(path, NULL);
    json_value *v = text ? json_parse(text) : NULL;
    long long k = 0, ed = 0;
    int rc = text ? 0 : -1;
    if (!rc && (!v || strcmp(json_str_or(v, "format", ""), TS_FORMAT)))
        rc = avm_fail("%s: not an %s description", path, TS_FORMAT);
    if (!rc && (json_int_range(v, "commands", 1, 1 << 20, JSON_REQUIRED, &k) ||
                json_int_range(v, "embed_dim", 1, 1 << 20, JSON_REQUIRED, &ed)))
        rc = avm_fail("%s: %s", path, avm_error());
    const char *u = v ? json_str_or(v, "title_units", "word") : "word";
    if (!rc && strcmp(u, "word") && strcmp(u, "char"))
        rc = avm_fail("%s: title_units '%s' is not word or char", path, u);
    *chars = !strcmp(u, "char");
    if (!rc && k != Kc) rc = avm_fail("%s: %lld commands, but intents.txt has %d", path, k, Kc);
    if (!rc && ed != e) rc = avm_fail("%s: embed_dim %lld, but the title encoder gives %d", path, ed, e);
    json_free(v);
    free(text);
    return rc;
}

int ts_load(ts_model *m, const char *dir) {
    memset(m, 0, sizeof *m);
    char *hp = path_join(dir, "tinys2i_head.h5"), *ip = path_join(dir, "intents.txt"), *jp = path_join(dir, "tinys2i.json");
    char *tp = path_join(dir, "title_encoder");
    int rc = intents_read(&m->intents, ip), Kc = 0, have_int = !rc, have_enc = 0, have_text = 0;
    if (!rc && (Kc = ts_commands(m, ip)) < 0) rc = -1;
    if (!rc && !(rc = tl_model_load(tp, &m->tenc, &m->vocab))) have_text = 1;
    if (!rc) rc = read_desc(jp, Kc, m->tenc.cfg.d, &m->title_chars);
    if (!rc && !(rc = export_load(dir, &m->enc, &m->config))) have_enc = 1;
    if (!rc) {
        ts_head_init(&m->head, m->enc.cfg.d, m->tenc.cfg.d, Kc, 1);
        rc = export_head_io(&m->head.p, hp, TS_HEAD_FORMAT, 0);
    }
    if (rc) {
        if (have_enc) { avmodel_free(&m->enc); json_free(m->config); }
        if (have_text) { textenc_free(&m->tenc); vocab_free(&m->vocab); }
        if (have_int) intents_free(&m->intents);
        if (m->head.Kc) ts_head_free(&m->head);
        free(m->cmd_intent);
        memset(m, 0, sizeof *m);
    }
    free(hp); free(ip); free(jp); free(tp);
    return rc;
}
