#include "data/synth/synth_datadir.h"
#include "data/synth/synth_phones.h"
#include "common/util.h"
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *file_name(const synth_datadir *d, int i) {
    return i < d->nfiles ? d->names[i] : i == d->nfiles ? "utt2spk" : "spk2utt";
}

int synth_datadir_open(synth_datadir *d, const char *dir, const char *const *names, int n) {
    memset(d, 0, sizeof *d);
    d->dir = xstrdup(dir);
    d->names = names;
    d->nfiles = n;
    d->f = xcalloc((size_t)n + 2, sizeof *d->f);
    if (mkdir_p(dir)) return -1;
    for (int i = 0; i < n + 2; i++) {
        char *p = path_join(dir, file_name(d, i));
        d->f[i] = fopen(p, "w");
        int e = errno;
        free(p);
        if (!d->f[i]) return avm_fail("%s/%s: cannot create: %s", dir, file_name(d, i), strerror(e));
    }
    return 0;
}

void synth_datadir_printf(synth_datadir *d, int i, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfprintf(d->f[i], fmt, ap);
    va_end(ap);
    fputc('\n', d->f[i]);
}

void synth_datadir_phones(synth_datadir *d, int ip, int ic, const char *utt, const synth_seg *seg, int nseg) {
    FILE *ph = d->f[ip];
    fprintf(ph, "%s", utt);
    for (int i = 0; i < nseg; i++) fprintf(ph, " %s", synth_phone_name(seg[i].phone));
    fputc('\n', ph);
    for (int i = 0; i < nseg; i++)
        synth_datadir_printf(d, ic, "%s 1 %.3f %.3f %s", utt, seg[i].start, seg[i].end - seg[i].start,
                             synth_phone_name(seg[i].phone));
}

static void flush_spk(synth_datadir *d) {
    if (d->spk[0]) fprintf(d->f[d->nfiles + 1], "%s%s\n", d->spk, d->spk_utts.s);
    d->spk_utts.len = 0;
    if (d->spk_utts.s) d->spk_utts.s[0] = 0;
}

int synth_datadir_add(synth_datadir *d, const char *utt, const char *spk) {
    fprintf(d->f[d->nfiles], "%s %s\n", utt, spk);
    if (strcmp(d->spk, spk)) {
        flush_spk(d);
        snprintf(d->spk, sizeof d->spk, "%s", spk);
    }
    sb_printf(&d->spk_utts, " %s", utt);
    d->nutt++;
    for (int i = 0; i < d->nfiles + 2; i++)
        if (ferror(d->f[i])) return avm_fail("%s/%s: write error", d->dir, file_name(d, i));
    return 0;
}

int synth_datadir_close(synth_datadir *d) {
    int rc = 0;
    if (d->f && d->f[d->nfiles + 1]) flush_spk(d);
    for (int i = 0; d->f && i < d->nfiles + 2; i++)
        if (d->f[i] && (ferror(d->f[i]) | fclose(d->f[i])) && rc == 0)
            rc = avm_fail("%s/%s: write error", d->dir, file_name(d, i));
    sb_free(&d->spk_utts);
    free(d->f);
    free(d->dir);
    memset(d, 0, sizeof *d);
    return rc;
}

enum { AV_SCP, AV_TEXT, AV_PHONES, AV_COND, AV_CROPS, AV_CTM, AV_NFILES };
static const char *const av_names[AV_NFILES] = {"media.scp", "text", "phones", "conditions", "crops", "phones.ctm"};

int synth_datadir_open_av(synth_datadir *d, const char *dir) {
    return synth_datadir_open(d, dir, av_names, AV_NFILES);
}

int synth_datadir_add_av(synth_datadir *d, const synth_entry *e) {
    synth_datadir_printf(d, AV_SCP, "%s %s", e->utt, e->media);
    synth_datadir_printf(d, AV_TEXT, "%s %s", e->utt, e->text);
    synth_datadir_phones(d, AV_PHONES, AV_CTM, e->utt, e->seg, e->nseg);
    synth_datadir_printf(d, AV_COND, "%s %s", e->utt, e->conditions);
    synth_datadir_printf(d, AV_CROPS, "%s %d %d %d %d", e->utt, e->crop[0], e->crop[1], e->crop[2], e->crop[3]);
    return synth_datadir_add(d, e->utt, e->spk);
}
