/* data/synth/: phone set and espeak-ng mapping over the whole vocabulary in every
 * default accent, the viseme table's articulatory facts, coarticulation, sentence
 * generator, noise mixing at an exact SNR, and the face renderer (the mouth moves
 * only inside the mouth box, and opening it darkens the box). */
#include "check.h"
#include "data/synth/synth_face.h"
#include "data/synth/synth_noise.h"
#include "data/synth/synth_phones.h"
#include "data/synth/synth_speech.h"
#include "data/synth/synth_text.h"
#include "data/synth/synth_viseme.h"
#include "common/util.h"
#include <stdlib.h>
#include <string.h>

static void test_phone_set(void) {
    for (int i = 0; i < SYNTH_NPHONES; i++) {
        CHECK(synth_phone_id(synth_phone_name(i)) == i);
        for (int j = 0; j < i; j++) CHECK(strcmp(synth_phone_name(i), synth_phone_name(j)));
    }
    CHECK(synth_phone_from_espeak("t#") == synth_phone_id("t"));
    CHECK(synth_phone_from_espeak("r-") == synth_phone_id("r"));
    CHECK(synth_phone_from_espeak("aI@") == synth_phone_id("ay"));
    CHECK(synth_phone_from_espeak("_:") == SYNTH_SIL);
    CHECK(synth_phone_from_espeak("Q9") == -2);
}

/* Every word of the vocabulary, in every default accent, maps onto the phone set
 * and phone times are ordered and inside the audio. */
static void test_vocab_speech(void) {
    static const char *const accents[] = {"en-us", "en", "en-gb-scotland", "en-gb-x-rp", "en-029",
                                          "en-us-nyc", "en-gb-x-gbclan", "en-gb-x-gbcwmd"};
    int nw;
    const char *const *w = synth_vocab(&nw);
    CHECK_MSG(nw >= 250 && nw <= 600, "vocabulary of %d words", nw);
    avm_strbuf text = {0};
    for (int i = 0; i < nw; i++) sb_printf(&text, "%s%s", i ? " " : "", w[i]);
    CHECK_MSG(synth_speech_init() == 0, "%s", avm_error());
    for (int a = 0; a < 8; a++) {
        synth_voice v = {.pitch = 50, .range = 50, .rate = 450, .wordgap = 0};
        snprintf(v.accent, sizeof v.accent, "%s", accents[a]);
        synth_audio au;
        int rc = synth_speak(&v, text.s, 16000, &au);
        CHECK_MSG(rc == 0, "%s: %s", accents[a], avm_error());
        if (rc) continue;
        CHECK_MSG(au.nseg > nw, "%s: %d phones for %d words", accents[a], au.nseg, nw);
        int ordered = 1;
        for (int i = 0; i < au.nseg; i++)
            ordered &= au.seg[i].start <= au.seg[i].end && (i == 0 || au.seg[i - 1].end <= au.seg[i].start + 1e-9) &&
                       au.seg[i].end <= (double)au.n / 16000 + 1e-9 && au.seg[i].phone >= 0 && au.seg[i].phone < SYNTH_NPHONES;
        CHECK_MSG(ordered, "%s: phone segments out of order or range", accents[a]);
        synth_audio_free(&au);
    }
    sb_free(&text);
    CHECK(synth_voice_check("en-us", "f2") == 0);
    CHECK(synth_voice_check("en-xx-nosuch", "") == -1 && strstr(avm_error(), "en-xx-nosuch"));
    CHECK(synth_voice_check("en-us", "nosuchvariant") == -1 && strstr(avm_error(), "nosuchvariant"));
    synth_speech_close();
}

static synth_mouth vis(const char *ph) { return synth_viseme(synth_phone_id(ph), 0); }

/* The facts lip-readers use (see the table's comment in data/synth/synth_viseme.c). */
static void test_visemes(void) {
    const char *bilabial[] = {"p", "b", "m"}, *rounded[] = {"uw", "w", "ow"}, *spread[] = {"iy", "ih", "ae"};
    for (int i = 0; i < 3; i++) {
        CHECK(vis(bilabial[i]).open == 0 && vis(bilabial[i]).teeth == 0);
        CHECK(vis(rounded[i]).round >= 0.8f && vis(rounded[i]).width <= 0.35f);
        CHECK(vis(spread[i]).round == 0 && vis(spread[i]).width >= 0.75f);
    }
    CHECK(vis("f").teeth == 1 && vis("v").teeth == 1 && vis("f").open < 0.1f);
    CHECK(vis("th").tongue == 1 && vis("dh").tongue == 1);
    CHECK(vis("aa").open > vis("iy").open && vis("aa").open > vis("uw").open);
    for (int i = 0; i < SYNTH_NPHONES; i++) {
        synth_mouth m = synth_viseme(i, 0), e = synth_viseme(i, 1);
        CHECK_MSG(m.width > 0 && e.width > 0, "phone %s has no viseme", synth_phone_name(i));
    }
    /* diphthongs move: ay ends spread, aw ends rounded */
    CHECK(synth_viseme(synth_phone_id("ay"), 1).width > synth_viseme(synth_phone_id("ay"), 0).width);
    CHECK(synth_viseme(synth_phone_id("aw"), 1).round > 0.8f);
}

static void test_mouth_track(void) {
    /* 0.5 s silence, 0.4 s "aa", 0.06 s "p", 0.4 s "aa", silence to 2 s */
    synth_seg seg[] = {{synth_phone_id("aa"), 0.5, 0.9}, {synth_phone_id("p"), 0.9, 0.96},
                       {synth_phone_id("aa"), 0.96, 1.36}};
    synth_mouth m[50];
    synth_mouth_track(seg, 3, 50, 25, 20, m);
    CHECK_NEAR(m[2].open, 0, 1e-6);                       /* silence: closed */
    CHECK_NEAR(m[17].open, vis("aa").open, 0.01);           /* 0.7 s: inside the first vowel */
    CHECK_NEAR(m[45].open, 0, 1e-6);
    CHECK(m[23].open < 0.6f * vis("aa").open);              /* 0.93 s: the bilabial closes the lips... */
    CHECK(m[23].open > 0.02f);                              /* ...but a 60 ms closure is coarticulated */
    CHECK(m[12].open > 0.1f && m[12].open < m[14].open);    /* onset is smooth (0.5 s = frame 12.5) */
    for (int f = 0; f < 50; f++) CHECK(m[f].open >= 0 && m[f].open <= 1);
}

static void test_sentences(void) {
    int nw;
    const char *const *w = synth_vocab(&nw);
    avm_rng a, b;
    rng_seed(&a, 5, 1);
    rng_seed(&b, 5, 1);
    int distinct = 0, in_vocab = 1;
    char prev[512] = "";
    for (int i = 0; i < 200; i++) {
        avm_strbuf s = {0}, t = {0};
        synth_sentence(&a, &s);
        synth_sentence(&b, &t);
        CHECK(!strcmp(s.s, t.s));
        distinct += strcmp(prev, s.s) != 0;
        snprintf(prev, sizeof prev, "%s", s.s);
        CHECK_MSG(s.len > 0 && s.s[0] != ' ' && s.s[s.len - 1] != ' ' && !strstr(s.s, "  "), "'%s'", s.s);
        char *tok, *save, *copy = xstrdup(s.s);
        for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
            int found = 0;
            for (int k = 0; k < nw && !found; k++) found = !strcmp(w[k], tok);
            if (!found) { in_vocab = 0; fprintf(stderr, "word '%s' not in vocabulary\n", tok); }
        }
        free(copy);
        sb_free(&s);
        sb_free(&t);
    }
    CHECK(in_vocab);
    CHECK(distinct > 150);
    for (int i = 1; i < nw; i++) CHECK(strcmp(w[i - 1], w[i]) < 0);
}

static void test_noise(void) {
    int n = 16000;
    float *sp = xmalloc(n * sizeof *sp), *no = xmalloc(n * sizeof *no), *out = xmalloc(n * sizeof *out);
    avm_rng r;
    rng_seed(&r, 3, 0);
    for (int i = 0; i < n; i++) sp[i] = i >= 4000 && i < 12000 ? 0.1f * (float)rng_normal(&r) : 0;
    synth_babble b = {0};
    CHECK(synth_noise_make(NOISE_BABBLE, &b, &r, no, n) == -1);    /* empty pool */
    synth_babble_add(&b, sp + 4000, 8000);
    for (int kind = 0; kind < 2; kind++) {
        CHECK(synth_noise_make(kind, &b, &r, no, n) == 0);
        CHECK(synth_power(no, 0, n) > 0);
        for (double snr = 0; snr <= 10; snr += 5) {
            synth_mix(sp, no, n, 4000, 12000, synth_power(sp, 4000, 12000), snr, out);
            for (int i = 0; i < n; i++) out[i] -= sp[i];          /* the added noise */
            double got = 10 * log10(synth_power(sp, 4000, 12000) / synth_power(out, 4000, 12000));
            CHECK_NEAR(got, snr, 1e-3);
        }
    }
    synth_babble_free(&b);
    free(sp); free(no); free(out);
}

/* Babble streams for long clips: sentences back to back (many pool draws, each
 * counted), no gap of silence, empty pool refused. */
static void test_babble_stream(void) {
    int n = 16000, len = 700;
    float *sig = xmalloc(len * sizeof *sig), *out = xmalloc(n * sizeof *out);
    for (int i = 0; i < len; i++) sig[i] = 0.1f;
    synth_babble b = {0};
    avm_rng r;
    rng_seed(&r, 4, 0);
    CHECK(synth_babble_stream(&b, &r, 3, out, n, NULL) == -1);
    synth_babble_add(&b, sig, len);
    synth_babble_add(&b, sig, len);
    int used[2] = {0, 0};
    CHECK(synth_babble_stream(&b, &r, 3, out, n, used) == 0);
    CHECK(used[0] + used[1] >= 3 * (n / len));          /* each talker crosses many sentences */
    CHECK(synth_babble_stream(&b, &r, 1, out, n, NULL) == 0);
    int silent = 0;
    for (int i = 0; i < n; i++) silent += out[i] < 0.1f * 0.5f - 1e-6f;
    CHECK(silent == 0);                                  /* one talker covers every sample */
    synth_babble_free(&b);
    free(sig); free(out);
}

/* Room tone: unit power, the same draws give the same samples, and low-passed
 * (rumble dominates: neighbouring samples correlate strongly, unlike white noise). */
static void test_floor(void) {
    int n = 32000;
    float *a = xmalloc(n * sizeof *a), *b = xmalloc(n * sizeof *b);
    for (int seed = 0; seed < 8; seed++) {
        avm_rng r;
        rng_seed(&r, (uint64_t)seed, 5);
        synth_floor_make(&r, 16000, a, n);
        rng_seed(&r, (uint64_t)seed, 5);
        synth_floor_make(&r, 16000, b, n);
        CHECK(memcmp(a, b, n * sizeof *a) == 0);
        CHECK_NEAR(synth_power(a, 0, n), 1.0, 1e-4);
        double lag1 = 0;
        for (int i = 1; i < n; i++) lag1 += (double)a[i] * a[i - 1];
        CHECK(lag1 / (n - 1) > 0.7);
    }
    free(a); free(b);
}

/* Renders a face with the mouth shut and wide open at the extreme head poses:
 * every changed pixel lies inside the mouth box, and the box gets darker. */
static void test_face(void) {
    for (int seed = 0; seed < 20; seed++) {
        avm_rng r;
        rng_seed(&r, (uint64_t)seed, 9);
        synth_face f;
        int size = seed % 2 ? 96 : 128;
        synth_face_random(&r, size, &f);
        int box[4];
        synth_face_mouth_box(&f, box);
        CHECK(box[0] >= 0 && box[1] >= 0 && box[0] + box[2] <= size && box[1] + box[3] <= size && box[2] == box[3]);
        size_t np = (size_t)size * size, fsz = np * 3 / 2;
        uint8_t *a = xmalloc(fsz), *b = xmalloc(fsz);
        synth_mouth shut = {0, 0.5f, 0, 0, 0}, open = {1, 1, 0, 0, 0}, round = {0.3f, 0.2f, 1, 0, 0};
        float dx[] = {-f.motion, f.motion}, dy[] = {-0.5f * f.motion, 0.5f * f.motion};
        int outside = 0;
        for (int k = 0; k < 4; k++) {
            synth_pose p = {dx[k % 2], dy[k / 2], 1};
            synth_face_render(&f, &p, &shut, a, a + np, a + np + np / 4);
            synth_face_render(&f, &p, k % 2 ? &round : &open, b, b + np, b + np + np / 4);
            double da = 0, db = 0;
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++) {
                    int in = x >= box[0] && x < box[0] + box[2] && y >= box[1] && y < box[1] + box[3];
                    size_t i = (size_t)y * size + x;
                    if (!in && a[i] != b[i]) outside++;
                    if (in) { da += a[i]; db += b[i]; }
                }
            if (k % 2 == 0) CHECK_MSG(db < da - 2.0 * box[2] * box[3] / 100, "seed %d: open mouth not darker (%g vs %g)", seed, db, da);
        }
        CHECK_MSG(outside == 0, "seed %d: %d pixels changed outside the mouth box", seed, outside);
        free(a);
        free(b);
    }
}

int main(void) {
    test_phone_set();
    test_visemes();
    test_mouth_track();
    test_sentences();
    test_noise();
    test_floor();
    test_babble_stream();
    test_face();
    test_vocab_speech();
    return check_done("test_synth");
}
