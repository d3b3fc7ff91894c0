#include "data/synth/synth_datadir.h"
#include "data/synth/synth_phones.h"
#include "common/util.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[DD_NFILES] = {"media.scp", "text", "phones", "utt2spk", "spk2utt",
                                             "conditions", "crops", "phones.ctm"};

int synth_datadir_open(synth_datadir *d, const char *dir) {
    memset(d, 0, sizeof *d);
    d->dir = xstrdup(dir);
    if (mkdir_p(dir)) return -1;
    for (int i = 0; i < DD_NFILES; i++) {
        char *p = path_join(dir, names[i]);
        d->f[i] = fopen(p, "w");
        int e = errno;
        free(p);
        if (!d->f[i]) return avm_fail("%s/%s: cannot create: %s", dir, names[i], strerror(e));
    }
    return 0;
}

static void flush_spk(synth_datadir *d) {
    if (d->spk[0]) fprintf(d->f[DD_SPK2UTT], "%s%s\n", d->spk, d->spk_utts.s);
    d->spk_utts.len = 0;
    if (d->spk_utts.s) d->spk_utts.s[0] = 0;
}

int synth_datadir_add(synth_datadir *d, const synth_entry *e) {
    fprintf(d->f[DD_SCP], "%s %s\n", e->utt, e->media);
    fprintf(d->f[DD_TEXT], "%s %s\n", e->utt, e->text);
    fprintf(d->f[DD_PHONES], "%s", e->utt);
    for (int i = 0; i < e->nseg; i++) fprintf(d->f[DD_PHONES], " %s", synth_phone_name(e->seg[i].phone));
    fputc('\n', d->f[DD_PHONES]);
    for (int i = 0; i < e->nseg; i++)
        fprintf(d->f[DD_CTM], "%s 1 %.3f %.3f %s\n", e->utt, e->seg[i].start,
                e->seg[i].end - e->seg[i].start, synth_phone_name(e->seg[i].phone));
    fprintf(d->f[DD_UTT2SPK], "%s %s\n", e->utt, e->spk);
    fprintf(d->f[DD_COND], "%s %s\n", e->utt, e->conditions);
    fprintf(d->f[DD_CROPS], "%s %d %d %d %d\n", e->utt, e->crop[0], e->crop[1], e->crop[2], e->crop[3]);
    if (strcmp(d->spk, e->spk)) {
        flush_spk(d);
        snprintf(d->spk, sizeof d->spk, "%s", e->spk);
    }
    sb_printf(&d->spk_utts, " %s", e->utt);
    d->nutt++;
    for (int i = 0; i < DD_NFILES; i++)
        if (ferror(d->f[i])) return avm_fail("%s/%s: write error", d->dir, names[i]);
    return 0;
}

int synth_datadir_close(synth_datadir *d) {
    int rc = 0;
    if (d->f[DD_SPK2UTT]) flush_spk(d);
    for (int i = 0; i < DD_NFILES; i++)
        if (d->f[i] && (ferror(d->f[i]) | fclose(d->f[i])) && rc == 0)
            rc = avm_fail("%s/%s: write error", d->dir, names[i]);
    sb_free(&d->spk_utts);
    free(d->dir);
    memset(d, 0, sizeof *d);
    return rc;
}
