/* Phone alignments read from a CTM (see ali.h). */
#include "data/ali.h"
#include "common/json.h"
#include "common/util.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int phone_id(avm_ali *a, const char *p) {
    for (int i = 0; i < a->nph; i++)
        if (!strcmp(a->phones[i], p)) return i;
    if (a->nph == a->ph_cap) a->phones = xrealloc(a->phones, sizeof(char *) * (a->ph_cap = 2 * a->ph_cap + 64));
    a->phones[a->nph] = xstrdup(p);
    return a->nph++;
}

static int seg_cmp(const void *x, const void *y) {
    const avm_ali_seg *s = x, *t = y;
    int c = strcmp(s->utt, t->utt);
    return c ? c : (s->start > t->start) - (s->start < t->start);
}

int ali_read(avm_ali *a, const char *path) {
    memset(a, 0, sizeof *a);
    phone_id(a, ALI_SIL);
    avm_lines r;
    if (lines_open(&r, path)) return -1;
    char *line, *f[6], *end;
    int rc = 0;
    while (!rc && (line = lines_next(&r))) {
        if (split_ws(line, f, 6) != 5) { rc = avm_fail("%s:%d: expected <utt> <channel> <start> <dur> <phone>", path, r.lineno); break; }
        double st = strtod(f[2], &end), du = *end ? NAN : strtod(f[3], &end);
        if (*end || !isfinite(st) || !isfinite(du) || st < 0 || du < 0) { rc = avm_fail("%s:%d: bad start or duration", path, r.lineno); break; }
        if (a->n == a->cap) a->seg = xrealloc(a->seg, sizeof *a->seg * (a->cap = 2 * a->cap + 1024));
        a->seg[a->n++] = (avm_ali_seg){xstrdup(f[0]), st, st + du, phone_id(a, f[4])};
    }
    if (lines_close(&r) && !rc) rc = -1;
    if (!rc && a->n == 0) rc = avm_fail("%s: no phone segments", path);
    if (!rc) qsort(a->seg, a->n, sizeof *a->seg, seg_cmp);
    return rc;
}

void ali_free(avm_ali *a) {
    for (int i = 0; i < a->n; i++) free(a->seg[i].utt);
    for (int i = 0; i < a->nph; i++) free(a->phones[i]);
    free(a->seg);
    free(a->phones);
    memset(a, 0, sizeof *a);
}

int ali_find(const avm_ali *a, const char *utt) {
    int lo = 0, hi = a->n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (strcmp(a->seg[mid].utt, utt) < 0) lo = mid + 1; else hi = mid;
    }
    return lo < a->n && !strcmp(a->seg[lo].utt, utt) ? lo : -1;
}

int ali_tokens(const avm_ali *a, const char *utt, int T, double token_s, int32_t *y) {
    int s = ali_find(a, utt);
    if (s < 0) return -1;
    for (int t = 0; t < T; t++) {
        double ctr = (t + 0.5) * token_s;
        while (s < a->n && !strcmp(a->seg[s].utt, utt) && a->seg[s].end <= ctr) s++;
        y[t] = s < a->n && !strcmp(a->seg[s].utt, utt) && a->seg[s].start <= ctr ? a->seg[s].phone : 0;
    }
    return 0;
}

double ali_end(const avm_ali *a, const char *utt) {
    int s = ali_find(a, utt);
    if (s < 0) return -1;
    double end = 0;
    for (; s < a->n && !strcmp(a->seg[s].utt, utt); s++)
        if (a->seg[s].end > end) end = a->seg[s].end;
    return end;
}

double ali_token_seconds(const avm_feats *fe) {
    json_value *v = fe->config_json ? json_parse(fe->config_json) : NULL;
    double fps = json_num_or(v, "audio_frames_per_second", 100);
    json_free(v);
    return fps > 0 ? fe->stack / fps : 0.04;
}
