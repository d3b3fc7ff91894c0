#include "data/synth/synth_noisedir.h"
#include "data/synth/synth_wav.h"
#include "common/strbuf.h"
#include "common/util.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CLIP_RMS 0.08   /* the speech target level (synth_utt.c): the mixer sets the SNR anyway */

/* Level to CLIP_RMS, then down if a sample would pass 0.99. */
static void normalise(float *x, int n) {
    double rms = sqrt(synth_power(x, 0, n));
    float g = rms > 0 ? (float)(CLIP_RMS / rms) : 1, peak = 0;
    for (int i = 0; i < n; i++) peak = fmaxf(peak, fabsf(x[i] *= g));
    if (peak > 0.99f)
        for (int i = 0; i < n; i++) x[i] *= 0.99f / peak;
}

/* The distinct speakers of the pool signals used, comma separated, in pool order
 * (pool signals are added speaker by speaker, so this is sorted). */
static void used_speakers(const synth_noisedir_spec *s, const int *used, avm_strbuf *b) {
    const char *last = NULL;
    for (int i = 0; i < s->pool->n; i++) {
        if (!used[i] || (last && !strcmp(last, s->pool_spk[i]))) continue;
        sb_printf(b, "%s%s", last ? "," : "", s->pool_spk[i]);
        last = s->pool_spk[i];
    }
}

/* Clip number j (from 0) of one kind: fills x[n] and appends its conditions. Seeded
 * by (kind, j) alone, so a clip does not depend on how many others there are. */
static int make_clip(const synth_params *p, const synth_noisedir_spec *s, synth_noise_kind kind, int j,
                     float *x, int n, avm_strbuf *cond) {
    avm_rng r;
    synth_rng(&r, p, 0xFFFFFE, (uint64_t)kind * 100000 + (uint64_t)j, SYNTH_RNG_NOISE_CLIP);
    sb_printf(cond, "noise=%s", synth_noise_name(kind));
    if (kind == NOISE_BABBLE) {
        int talkers = 3 + (int)rng_below(&r, 3), *used = xcalloc((size_t)s->pool->n + 1, sizeof *used);
        int rc = synth_babble_stream(s->pool, &r, talkers, x, n, used);
        if (rc == 0) {
            sb_printf(cond, " talkers=%d speakers=", talkers);
            used_speakers(s, used, cond);
        }
        free(used);
        if (rc) return -1;
    } else if (synth_noise_make(kind, NULL, &r, x, n)) {
        return -1;
    }
    normalise(x, n);
    return 0;
}

static int write_lists(const char *dir, avm_strbuf *files, const char *const *names, int nfiles) {
    for (int i = 0; i < nfiles; i++) {
        char *path = path_join(dir, names[i]);
        int rc = write_file_atomic(path, files[i].s ? files[i].s : "", files[i].len);
        free(path);
        if (rc) return -1;
    }
    return 0;
}

int synth_noisedir_write(const char *root, const synth_params *p, const synth_noisedir_spec *s) {
    static const char *const names[] = {"wav.scp", "utt2spk", "spk2utt", "conditions"};
    char *dir = path_join(root, "noise"), *media = path_join(root, "media/noise");
    int rc = mkdir_p(dir) || mkdir_p(media) ? -1 : 0;
    int n = (int)lround(s->seconds * p->rate);
    float *x = xmalloc((size_t)n * sizeof *x);
    avm_strbuf f[4] = {{0}};
    synth_noise_kind kinds[2];       /* babble before stationary: ids sort by kind */
    int nk = 0;
    for (int kind = NOISE_BABBLE; kind <= NOISE_STATIONARY; kind++)
        for (int i = 0; i < s->nkinds; i++)
            if (s->kinds[i] == (synth_noise_kind)kind) { kinds[nk++] = (synth_noise_kind)kind; break; }
    for (int k = 0; k < nk && rc == 0; k++) {
        const char *kn = synth_noise_name(kinds[k]);
        int count = s->clips / nk + (k < s->clips % nk);
        if (count) sb_printf(&f[2], "%s", kn);     /* the kind is the "speaker" */
        for (int j = 0; j < count && rc == 0; j++) {
            char id[48];
            snprintf(id, sizeof id, "%s-%04d", kn, j + 1);
            sb_printf(&f[3], "%s ", id);
            if (make_clip(p, s, kinds[k], j, x, n, &f[3])) { rc = -1; break; }
            sb_add(&f[3], "\n");
            char *wav = xasprintf("%s/%s.wav", media, id);
            rc = synth_wav_write(wav, x, n, p->rate);
            free(wav);
            sb_printf(&f[0], "%s ../media/noise/%s.wav\n", id, id);
            sb_printf(&f[1], "%s %s\n", id, kn);
            sb_printf(&f[2], " %s", id);
        }
        if (count) sb_add(&f[2], "\n");
    }
    if (rc == 0) rc = write_lists(dir, f, names, 4);
    for (int i = 0; i < 4; i++) sb_free(&f[i]);
    free(x); free(dir); free(media);
    return rc;
}
