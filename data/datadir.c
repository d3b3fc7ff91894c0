/* Kaldi-style data directories: parsing with file:line errors. */
#include "data/datadir.h"
#include "common/util.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Each id must sort strictly after the previous one (C locale). */
static int check_order(const avm_lines *r, const char *prev, const char *id) {
    if (!prev) return 0;
    int c = strcmp(prev, id);
    if (c == 0) return avm_fail("%s:%d: duplicate utt-id '%s'", r->path, r->lineno, id);
    if (c > 0)
        return avm_fail("%s:%d: utt-id '%s' is out of order (after '%s'; sort with LC_ALL=C sort)",
                        r->path, r->lineno, id, prev);
    return 0;
}

/* Ids and paths go into the shards' UTF-8 string datasets (/utt_ids, /failed) and text
 * into char units: every line of a data dir must be UTF-8. */
static int check_utf8(const avm_lines *r, const char *line) {
    if (utf8_valid(line)) return 0;
    return avm_fail("%s:%d: not valid UTF-8 (data dir files must be UTF-8)", r->path, r->lineno);
}

/* End of reading: a NUL byte or read error stops lines_next like the end of the file. */
static int finish_lines(avm_lines *r, int rc) {
    return lines_close(r) && !rc ? -1 : rc;
}

static int parse_num(const char *s, double *v) {
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return errno || end == s || *end ? -1 : 0;
}

static int parse_int(const char *s, int *v) {
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (errno || end == s || *end || x < -1000000000L || x > 1000000000L) return -1;
    *v = (int)x;
    return 0;
}

static void kv_push(avm_kv *kv, int *cap, const char *k, const char *v) {
    if (kv->n == *cap) {
        *cap = *cap ? 2 * *cap : 64;
        kv->keys = xrealloc(kv->keys, *cap * sizeof *kv->keys);
        kv->vals = xrealloc(kv->vals, *cap * sizeof *kv->vals);
    }
    kv->keys[kv->n] = xstrdup(k);
    kv->vals[kv->n] = xstrdup(v);
    kv->n++;
}

int kv_read(avm_kv *kv, const char *path, int allow_empty) {
    memset(kv, 0, sizeof *kv);
    avm_lines r;
    if (lines_open(&r, path)) return -1;
    int cap = 0, rc = 0;
    char *line;
    while ((line = lines_next(&r))) {
        char *s = line;
        if ((rc = check_utf8(&r, line))) break;
        while (*s == ' ' || *s == '\t') s++;
        if (!*s) { rc = avm_fail("%s:%d: empty line", path, r.lineno); break; }
        char *id = s;
        while (*s && *s != ' ' && *s != '\t') s++;
        if (*s) *s++ = 0;
        while (*s == ' ' || *s == '\t') s++;
        if (!*s && !allow_empty) { rc = avm_fail("%s:%d: expected '<utt-id> <value>'", path, r.lineno); break; }
        if ((rc = check_order(&r, kv->n ? kv->keys[kv->n - 1] : NULL, id))) break;
        kv_push(kv, &cap, id, s);
    }
    rc = finish_lines(&r, rc);
    if (rc) kv_free(kv);
    return rc;
}

static int kv_find(const avm_kv *kv, const char *key) {
    int lo = 0, hi = kv->n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, c = strcmp(kv->keys[mid], key);
        if (!c) return mid;
        if (c < 0) lo = mid + 1; else hi = mid - 1;
    }
    return -1;
}

const char *kv_get(const avm_kv *kv, const char *key) {
    int i = kv_find(kv, key);
    return i < 0 ? NULL : kv->vals[i];
}

void kv_free(avm_kv *kv) {
    for (int i = 0; i < kv->n; i++) { free(kv->keys[i]); free(kv->vals[i]); }
    free(kv->keys);
    free(kv->vals);
    memset(kv, 0, sizeof *kv);
}

/* The scp: "<id> <path>" with exactly two fields. */
static int read_scp(avm_kv *kv, const char *path) {
    memset(kv, 0, sizeof *kv);
    avm_lines r;
    if (lines_open(&r, path)) return -1;
    int cap = 0, rc = 0;
    char *line, *f[3];
    while ((line = lines_next(&r))) {
        if ((rc = check_utf8(&r, line))) break;
        int nf = split_ws(line, f, 3);
        if (nf != 2) {
            rc = avm_fail("%s:%d: expected '<utt-id> <path>' (2 fields, got %d%s)", path, r.lineno,
                          nf, nf > 2 ? "; pipes and paths with blanks are not supported" : "");
            break;
        }
        if ((rc = check_order(&r, kv->n ? kv->keys[kv->n - 1] : NULL, f[0]))) break;
        kv_push(kv, &cap, f[0], f[1]);
    }
    rc = finish_lines(&r, rc);
    if (!rc && kv->n == 0) rc = avm_fail("%s: no utterances", path);
    if (rc) kv_free(kv);
    return rc;
}

static avm_utt *utt_push(avm_datadir *d, int *cap) {
    if (d->n == *cap) {
        *cap = *cap ? 2 * *cap : 64;
        d->u = xrealloc(d->u, *cap * sizeof *d->u);
    }
    avm_utt *u = &d->u[d->n++];
    memset(u, 0, sizeof *u);
    return u;
}

/* Without segments: one utterance per scp line. */
static void utts_from_scp(avm_datadir *d, const avm_kv *scp) {
    int cap = 0;
    for (int i = 0; i < scp->n; i++) {
        avm_utt *u = utt_push(d, &cap);
        u->id = xstrdup(scp->keys[i]);
        u->path = path_join(d->dir, scp->vals[i]);
    }
}

/* Segment times: finite, 0 <= start < end, or end -1 (to the end of the recording).
 * isfinite first: NaN compares false with everything and would slip through. */
static int parse_times(const char *a, const char *b, double *st, double *en) {
    if (parse_num(a, st) || parse_num(b, en) || !isfinite(*st) || !isfinite(*en)) return -1;
    return *st < 0 || (*en <= *st && *en != -1) ? -1 : 0;
}

/* segments: "<utt-id> <rec-id> <start> <end>"; end -1 means to the end of the recording. */
static int read_segments(avm_datadir *d, const char *path, const avm_kv *scp) {
    avm_lines r;
    if (lines_open(&r, path)) return -1;
    int cap = 0, rc = 0;
    char *line, *f[5];
    while ((line = lines_next(&r))) {
        if ((rc = check_utf8(&r, line))) break;
        int nf = split_ws(line, f, 5);
        double st, en;
        if (nf != 4) { rc = avm_fail("%s:%d: expected '<utt-id> <recording-id> <start> <end>'", path, r.lineno); break; }
        if (parse_times(f[2], f[3], &st, &en)) {
            rc = avm_fail("%s:%d: bad times '%s %s' (need finite seconds 0 <= start < end, or end -1)",
                          path, r.lineno, f[2], f[3]);
            break;
        }
        if ((rc = check_order(&r, d->n ? d->u[d->n - 1].id : NULL, f[0]))) break;
        const char *rec = kv_get(scp, f[1]);
        if (!rec) { rc = avm_fail("%s:%d: recording '%s' is not in the scp", path, r.lineno, f[1]); break; }
        avm_utt *u = utt_push(d, &cap);
        u->id = xstrdup(f[0]);
        u->path = path_join(d->dir, rec);
        u->start = st;
        u->end = en == -1 ? 0 : en;
    }
    rc = finish_lines(&r, rc);
    if (!rc && d->n == 0) rc = avm_fail("%s: no utterances", path);
    return rc;
}

static int find_utt(const avm_datadir *d, const char *id) {
    int lo = 0, hi = d->n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, c = strcmp(d->u[mid].id, id);
        if (!c) return mid;
        if (c < 0) lo = mid + 1; else hi = mid - 1;
    }
    return -1;
}

/* crops: "<utt-id> x y w h" for utterances of this dir. */
static int read_crops(avm_datadir *d, const char *path) {
    avm_lines r;
    if (lines_open(&r, path)) return -1;
    int rc = 0;
    char *line, *f[6], *prev = NULL;
    while ((line = lines_next(&r))) {
        if ((rc = check_utf8(&r, line))) break;
        int nf = split_ws(line, f, 6), b[4];
        if (nf != 5) { rc = avm_fail("%s:%d: expected '<utt-id> x y w h'", path, r.lineno); break; }
        int bad = 0;
        for (int k = 0; k < 4; k++) bad |= parse_int(f[k + 1], &b[k]);
        if (bad || b[0] < 0 || b[1] < 0 || b[2] <= 0 || b[3] <= 0) {
            rc = avm_fail("%s:%d: bad crop box (need integers x, y >= 0 and w, h > 0)", path, r.lineno);
            break;
        }
        if ((rc = check_order(&r, prev, f[0]))) break;
        int i = find_utt(d, f[0]);
        if (i < 0) { rc = avm_fail("%s:%d: utt-id '%s' is not in the data dir", path, r.lineno, f[0]); break; }
        memcpy(d->u[i].crop, b, sizeof b);
        prev = d->u[i].id;
    }
    rc = finish_lines(&r, rc);
    return rc;
}

int datadir_read(avm_datadir *d, const char *dir) {
    memset(d, 0, sizeof *d);
    if (!dir_exists(dir)) return avm_fail("%s: no such data directory", dir);
    /* the resolved paths (dir/path) are stored in the shards' UTF-8 /failed */
    if (!utf8_valid(dir)) return avm_fail("%s: the data directory's name is not valid UTF-8", dir);
    d->dir = xstrdup(dir);
    char *media = path_join(dir, "media.scp"), *wav = path_join(dir, "wav.scp");
    char *seg = path_join(dir, "segments"), *crops = path_join(dir, "crops");
    const char *scp_path = file_exists(media) ? media : wav;
    int rc = 0;
    avm_kv scp = {0};
    if (!file_exists(scp_path)) {
        rc = avm_fail("%s: no media.scp or wav.scp in the data directory", dir);
    } else {
        d->audio_only = scp_path == wav;
        rc = read_scp(&scp, scp_path);
    }
    if (!rc && file_exists(seg)) {
        d->has_segments = 1;
        rc = read_segments(d, seg, &scp);
    } else if (!rc) {
        utts_from_scp(d, &scp);
    }
    if (!rc && file_exists(crops)) {
        d->has_crops = 1;
        rc = read_crops(d, crops);
    }
    kv_free(&scp);
    free(media); free(wav); free(seg); free(crops);
    if (rc) datadir_free(d);
    return rc;
}

void datadir_free(avm_datadir *d) {
    for (int i = 0; i < d->n; i++) { free(d->u[i].id); free(d->u[i].path); }
    free(d->u);
    free(d->dir);
    memset(d, 0, sizeof *d);
}
