/* What the menu decoders (decode_tinys2i.c, decode_ctcmenu.c) share: the menu's utterances
 * checked against the features, and OUT/hyp, OUT/title_rank and OUT/decode.json written
 * alike, so that avmask eval --unit=tinys2i and the report read both systems the same way. */
#include "eval/decode.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/util.h"
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void decode_menus_check(const avm_menus *mn, const char *path, const avm_feats *f) {
    for (int i = 0, j = 0; i < mn->n; i++) {   /* both lists sorted by utt-id */
        while (j < f->n && strcmp(f->e[j].utt_id, mn->m[i].utt) < 0) j++;
        if (j == f->n || strcmp(f->e[j].utt_id, mn->m[i].utt))
            avm_die("decode: %s:%d: utterance '%s' is not in %s", path, i + 1, mn->m[i].utt, f->dir);
    }
}

static long file_bytes(const char *dir, const char *name) {
    char *p = path_join(dir, name);
    struct stat st;
    long n = stat(p, &st) ? 0 : (long)st.st_size;
    free(p);
    return n;
}

static void write_json(const char *out, int n, const decode_stats *st) {
    size_t total = 0;
    long fb = 0;
    for (int k = 0; st->part[k]; k++) total += st->count[k];
    for (int k = 0; st->file[k]; k++) fb += file_bytes(st->model, st->file[k]);
    avm_strbuf b = {0};
    avm_jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    jw_key(&w, "decoder"); jw_str(&w, st->decoder);
    jw_key(&w, "model"); jw_str(&w, st->model);
    jw_key(&w, "menu"); jw_str(&w, st->menu);
    if (st->extra_key) { jw_key(&w, st->extra_key); jw_str(&w, st->extra); }
    if (st->conf) { jw_key(&w, "defer_below"); jw_num(&w, st->defer_below); }
    jw_key(&w, "utterances"); jw_int(&w, n);
    jw_key(&w, "threads"); jw_int(&w, st->threads);
    jw_key(&w, "system"); jw_str(&w, st->sys);
    jw_key(&w, "ms_per_utterance"); jw_num(&w, st->ms);
    jw_key(&w, "parameters"); jw_obj_begin(&w);
    for (int k = 0; st->part[k]; k++) { jw_key(&w, st->part[k]); jw_int(&w, (long long)st->count[k]); }
    jw_key(&w, "total"); jw_int(&w, (long long)total);
    jw_obj_end(&w);
    jw_key(&w, "parameter_bytes"); jw_int(&w, (long long)(4 * total));
    jw_key(&w, "file_bytes"); jw_int(&w, fb);
    jw_obj_end(&w);
    sb_add(&b, "\n");
    char *path = path_join(out, "decode.json");
    if (write_file_atomic(path, b.s, b.len)) avm_die("decode: %s", avm_error());
    free(path);
    sb_free(&b);
}

void decode_menu_write(const char *out, const avm_feats *f, char **hyp, char **rank, const decode_stats *st) {
    avm_strbuf h = {0}, r = {0}, c = {0};
    for (int i = 0; i < f->n; i++) {
        sb_printf(&h, "%s %s\n", f->e[i].utt_id, hyp[i] ? hyp[i] : "defer");
        if (rank[i]) sb_printf(&r, "%s %s\n", f->e[i].utt_id, rank[i]);
        if (st->conf) sb_printf(&c, "%s %.9g\n", f->e[i].utt_id, st->conf[i]);
    }
    char *hp = path_join(out, "hyp"), *rp = path_join(out, "title_rank"), *cp = path_join(out, "confidence");
    if (mkdir_p(out) || write_file_atomic(hp, h.s ? h.s : "", h.len) || write_file_atomic(rp, r.s ? r.s : "", r.len) ||
        (st->conf && write_file_atomic(cp, c.s ? c.s : "", c.len)))
        avm_die("decode: %s", avm_error());
    write_json(out, f->n, st);
    printf("decode: %d utterances -> %s (%.2f ms per utterance)\n", f->n, hp, st->ms);
    free(hp); free(rp); free(cp);
    sb_free(&h); sb_free(&r); sb_free(&c);
}
