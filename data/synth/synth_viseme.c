/* The viseme table. Values follow the articulatory facts lip-readers rely on, and
 * which noise removes from the audio first (place of articulation, rounding):
 *  - bilabials p b m close the lips completely (open 0), unlike every other consonant;
 *  - labiodentals f v put the upper teeth on the lower lip (teeth 1, open ~0);
 *  - dentals th dh show the tongue tip between the teeth;
 *  - rounded sounds (w, uw, ow, ao, oy, sh-family, r) narrow and protrude the lips;
 *  - spread vowels (iy, ih, ey, ae) widen them; open vowels (aa, ae, ah, aw, ay) drop the jaw;
 *  - velars and glottals (k g ng hh) are nearly invisible: the mouth keeps its
 *    neighbours' shape, mid-open (which is also why lip-reading alone is ambiguous). */
#include "data/synth/synth_viseme.h"
#include "data/synth/synth_phones.h"
#include "common/util.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct { const char *ph; synth_mouth m, end; } viseme;

#define V(o, w, r, t, g) {o, w, r, t, g}
static const viseme table[] = {
    /*        open  width round teeth tongue          second half (diphthongs) */
    {"aa", V(0.95, 0.55, 0.00, 0.30, 0.20), V(0, 0, 0, 0, 0)},
    {"ae", V(0.75, 0.80, 0.00, 0.50, 0.30), V(0, 0, 0, 0, 0)},
    {"ah", V(0.60, 0.55, 0.00, 0.30, 0.20), V(0, 0, 0, 0, 0)},
    {"ao", V(0.75, 0.30, 0.70, 0.20, 0.10), V(0, 0, 0, 0, 0)},
    {"aw", V(0.90, 0.55, 0.00, 0.30, 0.20), V(0.35, 0.25, 0.90, 0.10, 0.00)},
    {"ay", V(0.90, 0.60, 0.00, 0.30, 0.20), V(0.35, 0.85, 0.00, 0.80, 0.20)},
    {"b",  V(0.00, 0.50, 0.00, 0.00, 0.00), V(0, 0, 0, 0, 0)},
    {"ch", V(0.25, 0.35, 0.70, 0.80, 0.10), V(0, 0, 0, 0, 0)},
    {"d",  V(0.30, 0.60, 0.00, 0.60, 0.50), V(0, 0, 0, 0, 0)},
    {"dh", V(0.25, 0.60, 0.00, 0.70, 1.00), V(0, 0, 0, 0, 0)},
    {"eh", V(0.55, 0.70, 0.00, 0.50, 0.30), V(0, 0, 0, 0, 0)},
    {"er", V(0.35, 0.40, 0.45, 0.30, 0.20), V(0, 0, 0, 0, 0)},
    {"ey", V(0.50, 0.75, 0.00, 0.60, 0.30), V(0.35, 0.85, 0.00, 0.80, 0.20)},
    {"f",  V(0.05, 0.55, 0.00, 1.00, 0.00), V(0, 0, 0, 0, 0)},
    {"g",  V(0.40, 0.55, 0.00, 0.40, 0.10), V(0, 0, 0, 0, 0)},
    {"hh", V(0.45, 0.55, 0.00, 0.30, 0.10), V(0, 0, 0, 0, 0)},
    {"ih", V(0.40, 0.75, 0.00, 0.60, 0.30), V(0, 0, 0, 0, 0)},
    {"iy", V(0.30, 0.90, 0.00, 0.80, 0.20), V(0, 0, 0, 0, 0)},
    {"jh", V(0.25, 0.35, 0.70, 0.80, 0.10), V(0, 0, 0, 0, 0)},
    {"k",  V(0.40, 0.55, 0.00, 0.40, 0.10), V(0, 0, 0, 0, 0)},
    {"l",  V(0.40, 0.60, 0.00, 0.50, 0.70), V(0, 0, 0, 0, 0)},
    {"m",  V(0.00, 0.50, 0.00, 0.00, 0.00), V(0, 0, 0, 0, 0)},
    {"n",  V(0.30, 0.60, 0.00, 0.60, 0.50), V(0, 0, 0, 0, 0)},
    {"ng", V(0.40, 0.55, 0.00, 0.40, 0.10), V(0, 0, 0, 0, 0)},
    {"ow", V(0.55, 0.35, 0.80, 0.10, 0.10), V(0.30, 0.20, 1.00, 0.00, 0.00)},
    {"oy", V(0.70, 0.30, 0.80, 0.20, 0.10), V(0.35, 0.85, 0.00, 0.80, 0.20)},
    {"p",  V(0.00, 0.50, 0.00, 0.00, 0.00), V(0, 0, 0, 0, 0)},
    {"r",  V(0.25, 0.35, 0.60, 0.30, 0.10), V(0, 0, 0, 0, 0)},
    {"s",  V(0.15, 0.70, 0.00, 0.90, 0.10), V(0, 0, 0, 0, 0)},
    {"sh", V(0.25, 0.35, 0.70, 0.80, 0.10), V(0, 0, 0, 0, 0)},
    {"t",  V(0.30, 0.60, 0.00, 0.60, 0.50), V(0, 0, 0, 0, 0)},
    {"th", V(0.25, 0.60, 0.00, 0.70, 1.00), V(0, 0, 0, 0, 0)},
    {"uh", V(0.40, 0.35, 0.70, 0.10, 0.10), V(0, 0, 0, 0, 0)},
    {"uw", V(0.30, 0.20, 1.00, 0.00, 0.00), V(0, 0, 0, 0, 0)},
    {"v",  V(0.05, 0.55, 0.00, 1.00, 0.00), V(0, 0, 0, 0, 0)},
    {"w",  V(0.15, 0.20, 1.00, 0.00, 0.00), V(0, 0, 0, 0, 0)},
    {"y",  V(0.25, 0.80, 0.00, 0.70, 0.20), V(0, 0, 0, 0, 0)},
    {"z",  V(0.15, 0.70, 0.00, 0.90, 0.10), V(0, 0, 0, 0, 0)},
    {"zh", V(0.25, 0.35, 0.70, 0.80, 0.10), V(0, 0, 0, 0, 0)},
    {NULL, V(0, 0, 0, 0, 0), V(0, 0, 0, 0, 0)}};

/* Silence: lips together, relaxed. */
static const synth_mouth rest = {0.0f, 0.50f, 0.0f, 0.0f, 0.0f};

synth_mouth synth_viseme(int phone, int end) {
    if (phone < 0 || phone >= SYNTH_NPHONES) return rest;
    const char *name = synth_phone_name(phone);
    for (int i = 0; table[i].ph; i++)
        if (!strcmp(table[i].ph, name)) {
            int diph = table[i].end.width > 0;
            return end && diph ? table[i].end : table[i].m;
        }
    return rest;
}

#define STEP 0.005   /* seconds between target samples */

void synth_mouth_track(const synth_seg *seg, int nseg, int nframes, double fps, double sigma_ms,
                       synth_mouth *out) {
    int n = (int)ceil(nframes / fps / STEP) + 1;
    synth_mouth *tg = xmalloc((size_t)n * sizeof *tg);
    for (int i = 0; i < n; i++) tg[i] = rest;
    for (int s = 0; s < nseg; s++) {
        int a = (int)lround(seg[s].start / STEP), b = (int)lround(seg[s].end / STEP);
        int mid = (a + b) / 2;
        for (int i = a < 0 ? 0 : a; i < b && i < n; i++) tg[i] = synth_viseme(seg[s].phone, i >= mid);
    }
    double sg = sigma_ms / 1000.0 / STEP;
    int half = (int)ceil(3 * sg);
    for (int f = 0; f < nframes; f++) {
        double c = (f + 0.5) / fps / STEP;   /* frame centre in target samples */
        double acc[5] = {0}, wsum = 0;
        for (int i = (int)c - half; i <= (int)c + half + 1; i++) {
            int k = i < 0 ? 0 : i >= n ? n - 1 : i;
            double d = (i - c) / (sg > 0 ? sg : 1), w = exp(-0.5 * d * d);
            acc[0] += w * tg[k].open; acc[1] += w * tg[k].width; acc[2] += w * tg[k].round;
            acc[3] += w * tg[k].teeth; acc[4] += w * tg[k].tongue;
            wsum += w;
        }
        out[f] = (synth_mouth){(float)(acc[0] / wsum), (float)(acc[1] / wsum), (float)(acc[2] / wsum),
                               (float)(acc[3] / wsum), (float)(acc[4] / wsum)};
    }
    free(tg);
}
