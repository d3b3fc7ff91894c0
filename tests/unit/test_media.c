/* data/media: error paths (each reason names the file), segments, crop box, audio-only
 * files, the shared clock with and without video. Inputs are written here: a 16 kHz
 * WAV by hand (exact expected samples) and small clips by the ffmpeg CLI. */
#include "check.h"
#include "common/util.h"
#include "data/media.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define WAV_RATE 16000
#define WAV_N 32000

static int16_t wav_sample(int i) {
    return (int16_t)lrint(12000.0 * sin(2 * M_PI * 440.0 * i / WAV_RATE) + 3000.0 * sin(0.01 * i));
}

static void put_le(FILE *f, uint32_t v, int bytes) {
    for (int i = 0; i < bytes; i++) fputc((int)((v >> (8 * i)) & 0xff), f);
}

/* 2 s of 16 kHz mono s16 PCM: decoding needs no resampling, so samples are exact. */
static void write_wav(const char *path) {
    FILE *f = fopen(path, "wb");
    fwrite("RIFF", 1, 4, f); put_le(f, 36 + 2 * WAV_N, 4); fwrite("WAVEfmt ", 1, 8, f);
    put_le(f, 16, 4); put_le(f, 1, 2); put_le(f, 1, 2); put_le(f, WAV_RATE, 4);
    put_le(f, 2 * WAV_RATE, 4); put_le(f, 2, 2); put_le(f, 16, 2);
    fwrite("data", 1, 4, f); put_le(f, 2 * WAV_N, 4);
    for (int i = 0; i < WAV_N; i++) put_le(f, (uint16_t)wav_sample(i), 2);
    fclose(f);
}

static void write_bytes(const char *path, const char *src, long n) {
    size_t len = 0;
    char *d = src ? read_file(src, &len) : NULL;
    FILE *f = fopen(path, "wb");
    if (n > (long)len) n = (long)len;
    if (n > 0) fwrite(d, 1, (size_t)n, f);
    fclose(f);
    free(d);
}

static int ffmpeg(const char *args) {
    char *cmd = xasprintf("ffmpeg -hide_banner -nostdin -loglevel error -y %s", args);
    int rc = system(cmd);
    free(cmd);
    return rc;
}

/* Decoding fails with a reason that names the file and contains `why`. */
static void expect_fail(const char *path, const avm_media_opts *o, const char *why) {
    avm_media m;
    int rc = media_decode(path, o, &m);
    CHECK_MSG(rc == -1, "%s decoded", path);
    CHECK_MSG(strstr(avm_error(), path) && strstr(avm_error(), why), "%s: reason '%s'", path, avm_error());
    CHECK(m.pcm == NULL && m.frames == NULL && m.n_samples == 0);
}

static void test_errors(void) {
    avm_media_opts o;
    media_default_opts(&o);
    expect_fail("no-such-file.mp4", &o, "No such file");
    write_bytes("empty.mp4", NULL, 0);
    expect_fail("empty.mp4", &o, "empty file");
    FILE *f = fopen("text.mp4", "w");
    fputs("this is a text file, not a video\n", f);
    fclose(f);
    expect_fail("text.mp4", &o, "cannot open as media");
    /* moov at the end (ffmpeg's default): half the file has no moov atom at all */
    size_t len = 0;
    free(read_file("av.mp4", &len));
    write_bytes("cut-moov.mp4", "av.mp4", (long)len / 2);
    expect_fail("cut-moov.mp4", &o, "moov atom not found");
    /* moov first, media cut off right after it: less than 0.1 s of audio decodes */
    write_bytes("cut-early.mp4", "fast.mp4", 9000);
    expect_fail("cut-early.mp4", &o, "truncated or corrupt");
    expect_fail("video-only.mp4", &o, "no audio stream");
    o.start = 1.0; o.end = 0.5;
    expect_fail("av.mp4", &o, "bad segment");
    o.start = 5.0; o.end = 6.0;   /* after the end of the file */
    expect_fail("tone.wav", &o, "no audio in the segment");
}

/* A file readable up to some point keeps what decoded (>= 0.1 s of audio). */
static void test_truncated_readable(void) {
    avm_media_opts o;
    media_default_opts(&o);
    size_t len = 0;
    free(read_file("fast.mp4", &len));
    write_bytes("cut-half.mp4", "fast.mp4", (long)len / 2);
    avm_media m;
    int rc = media_decode("cut-half.mp4", &o, &m);
    CHECK_MSG(rc == 0, "%s", avm_error());
    if (rc) return;
    CHECK(m.n_samples >= 1600 && m.n_samples < 30000);
    CHECK(m.has_video && m.n_frames > 0 && m.n_frames < 50);
    media_free(&m);
}

/* Garbage in the middle of the media data: bad packets are skipped, the rest decodes,
 * and the audio keeps its length (skipped packets become silence, see test_gap). */
static void test_corrupt_middle(void) {
    avm_media_opts o;
    media_default_opts(&o);
    size_t len = 0;
    char *d = read_file("fast.mp4", &len);
    if (!d) { CHECK_MSG(0, "%s", avm_error()); return; }
    for (size_t i = len / 2; i < len / 2 + 4000 && i < len; i++) d[i] = (char)(i * 2654435761u >> 13);
    FILE *f = fopen("corrupt.mp4", "wb");
    fwrite(d, 1, len, f);
    fclose(f);
    free(d);
    avm_media m, ref;
    if (media_decode("fast.mp4", &o, &ref) < 0) { CHECK_MSG(0, "%s", avm_error()); return; }
    int rc = media_decode("corrupt.mp4", &o, &m);
    CHECK_MSG(rc == 0, "%s", avm_error());
    if (rc == 0) {
        CHECK_MSG(llabs(m.n_samples - ref.n_samples) <= 400, "%lld vs %lld samples",
                  (long long)m.n_samples, (long long)ref.n_samples);
        CHECK(m.n_frames == ref.n_frames);
        media_free(&m);
    }
    media_free(&ref);
}

static void test_audio_only(void) {
    avm_media_opts o;
    media_default_opts(&o);
    avm_media m;
    int rc = media_decode("tone.wav", &o, &m);
    CHECK_MSG(rc == 0, "%s", avm_error());
    if (rc) return;
    CHECK(m.has_audio == 1 && m.has_video == 0 && m.n_frames == 0 && m.frames == NULL);
    CHECK(m.n_samples == WAV_N && m.sample_rate == 16000 && m.audio_start == 0);
    CHECK(m.src_sample_rate == WAV_RATE && m.src_channels == 1);
    double maxd = 0;
    for (int i = 0; i < WAV_N && i < m.n_samples; i++)
        maxd = fmax(maxd, fabs(m.pcm[i] - wav_sample(i) / 32768.0));
    CHECK_NEAR(maxd, 0, 1e-7);   /* s16 -> float is exact; no resampling at 16 kHz */

    /* segment 0.5..1.25 s: exactly the samples 8000..19999 */
    o.start = 0.5; o.end = 1.25;
    avm_media s;
    rc = media_decode("tone.wav", &o, &s);
    CHECK_MSG(rc == 0, "%s", avm_error());
    if (rc == 0) {
        CHECK(s.n_samples == 12000);
        double d = 0;
        for (int64_t i = 0; i < s.n_samples && i < 12000; i++) d = fmax(d, fabs(s.pcm[i] - m.pcm[8000 + i]));
        CHECK_NEAR(d, 0, 1e-7);
        media_free(&s);
    }
    media_free(&m);
}

/* Segment times that overflowed the time -> sample conversions (a segfault, an "out of
 * memory" abort, or a silently wrong decode): each must be one error for this file, or
 * for an end past the recording, a decode to the end of the file. */
static void test_extreme_times(void) {
    avm_media_opts o;
    media_default_opts(&o);
    o.start = NAN; o.end = 0;
    expect_fail("tone.wav", &o, "bad segment");
    o.start = 0; o.end = NAN;
    expect_fail("tone.wav", &o, "bad segment");
    o.start = INFINITY; o.end = 0;
    expect_fail("tone.wav", &o, "bad segment");
    o.start = 1e308; o.end = 0;
    expect_fail("tone.wav", &o, "segment");
    expect_fail("av.mp4", &o, "segment");
    o.start = 1e12; o.end = 2e12;
    expect_fail("av.mp4", &o, "segment");
    const char *files[] = {"tone.wav", "av.mp4"};
    for (int k = 0; k < 2; k++) {
        avm_media whole, seg;
        media_default_opts(&o);
        o.start = 1;
        int rc = media_decode(files[k], &o, &whole);
        CHECK_MSG(rc == 0, "%s", avm_error());
        o.end = 1e300;     /* past the recording: to its end, as with end = 0 */
        int rc2 = media_decode(files[k], &o, &seg);
        CHECK_MSG(rc2 == 0, "%s: end 1e300: %s", files[k], avm_error());
        if (!rc && !rc2) {
            CHECK_MSG(seg.n_samples == whole.n_samples && whole.n_samples >= 15000, "%s: %lld vs %lld samples",
                      files[k], (long long)seg.n_samples, (long long)whole.n_samples);
            CHECK(seg.n_frames == whole.n_frames && (k == 0 || seg.n_frames >= 20));
            CHECK(!memcmp(seg.pcm, whole.pcm, (size_t)seg.n_samples * sizeof(float)));
        }
        if (!rc) media_free(&whole);
        if (!rc2) media_free(&seg);
    }
}

/* A segment is a slice of the whole-file decode on the same clock. Audio: the 44.1 kHz
 * AAC source is resampled from a different starting packet after the seek, so the
 * resampler phase may differ by up to half an output sample; for the 440 Hz sine at
 * amplitude 1/8 that bounds the difference by 2*pi*440/8/32000 = 0.0108. */
static void test_segment(void) {
    avm_media_opts o;
    media_default_opts(&o);
    avm_media full, seg;
    if (media_decode("av.mp4", &o, &full) < 0) { CHECK_MSG(0, "%s", avm_error()); return; }
    CHECK(full.n_frames == 50 && full.has_video && full.video_start == 0);
    o.start = 0.8; o.end = 1.6;   /* 0.8 s = video slot 20 */
    int rc = media_decode("av.mp4", &o, &seg);
    CHECK_MSG(rc == 0, "%s", avm_error());
    if (rc == 0) {
        CHECK(seg.n_samples == 12800 && seg.n_frames == 20 && seg.video_start == 0);
        double d = 0;
        for (int64_t i = 0; i < seg.n_samples && i < 12800; i++)
            d = fmax(d, fabs(seg.pcm[i] - full.pcm[12800 + i]));
        CHECK_NEAR(d, 0, 0.0108);
        size_t fs = 32 * 32;
        CHECK(seg.n_frames == 20 && !memcmp(seg.frames, full.frames + 20 * fs, 20 * fs));
        media_free(&seg);
    }
    /* without video the audio is the same, on the same clock */
    media_default_opts(&o);
    o.want_video = 0;
    rc = media_decode("av.mp4", &o, &seg);
    CHECK_MSG(rc == 0, "%s", avm_error());
    if (rc == 0) {
        CHECK(seg.has_video == 0 && seg.n_frames == 0);
        CHECK(seg.n_samples == full.n_samples &&
              !memcmp(seg.pcm, full.pcm, (size_t)full.n_samples * sizeof(float)));
        media_free(&seg);
    }
    media_free(&full);
}

static double mean_u8(const uint8_t *p, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += p[i];
    return s / (double)n;
}

/* box.avi: black 96x64 with a white right half (x >= 48). */
static void test_crop(void) {
    avm_media_opts o;
    media_default_opts(&o);
    o.width = 16; o.height = 8;
    avm_media m;
    int crops[3][4] = {{48, 0, 48, 64}, {0, 0, 40, 64}, {0, 0, 0, 0}};
    double lo[3] = {245, 0, 120}, hi[3] = {255, 10, 135};
    for (int k = 0; k < 3; k++) {
        memcpy(o.crop, crops[k], sizeof o.crop);
        int rc = media_decode("box.avi", &o, &m);
        CHECK_MSG(rc == 0, "%s", avm_error());
        if (rc) continue;
        CHECK(m.n_frames == 25 && m.width == 16 && m.height == 8);
        double mu = mean_u8(m.frames, (size_t)m.n_frames * 16 * 8);
        CHECK_MSG(mu >= lo[k] && mu <= hi[k], "crop %d: mean %.1f", k, mu);
        media_free(&m);
    }
    int bad[4] = {60, 0, 40, 64};   /* 60 + 40 > 96 */
    memcpy(o.crop, bad, sizeof o.crop);
    expect_fail("box.avi", &o, "crop box");
}

/* gap.mkv lacks the audio packets of 0.8..1.0 s (timestamps jump): the gap is filled
 * with silence so that later samples stay where their timestamps put them. PCM at
 * 16 kHz decodes exactly, so the rest must equal the file without the gap (437 Hz has
 * no whole number of periods in 0.2 s, so a shifted tail would differ). */
static void test_gap(void) {
    avm_media_opts o;
    media_default_opts(&o);
    avm_media g, n;
    if (media_decode("nogap.mkv", &o, &n) < 0) { CHECK_MSG(0, "%s", avm_error()); return; }
    int rc = media_decode("gap.mkv", &o, &g);
    CHECK_MSG(rc == 0, "%s", avm_error());
    if (rc == 0) {
        CHECK(g.n_samples == n.n_samples && n.n_samples == 32000);
        double before = 0, gap = 0, after = 0;
        for (int64_t i = 0; i < g.n_samples && i < n.n_samples; i++) {
            double d = fabs(g.pcm[i] - n.pcm[i]);
            if (i < 12800) before = fmax(before, d);
            else if (i < 16000) gap = fmax(gap, fabs(g.pcm[i]));
            else after = fmax(after, d);
        }
        CHECK_NEAR(before, 0, 1e-7);
        CHECK_NEAR(gap, 0, 1e-7);
        CHECK_NEAR(after, 0, 1e-7);
        media_free(&g);
    }
    media_free(&n);
}

/* extract decodes several files at once from threads: results must not depend on it. */
static void test_threads(void) {
    avm_media_opts o;
    media_default_opts(&o);
    avm_media ref, m[4];
    if (media_decode("av.mp4", &o, &ref) < 0) { CHECK_MSG(0, "%s", avm_error()); return; }
    int rc[4];
    const char *paths[4] = {"av.mp4", "text.mp4", "av.mp4", "av.mp4"};
    #pragma omp parallel for num_threads(2) schedule(static, 1)
    for (int i = 0; i < 4; i++) rc[i] = media_decode(paths[i], &o, &m[i]);
    CHECK(rc[0] == 0 && rc[1] == -1 && rc[2] == 0 && rc[3] == 0);
    for (int i = 0; i < 4; i++) {
        if (rc[i] || i == 1) continue;
        CHECK(m[i].n_samples == ref.n_samples && m[i].n_frames == ref.n_frames);
        CHECK(m[i].n_samples == ref.n_samples &&
              !memcmp(m[i].pcm, ref.pcm, (size_t)ref.n_samples * sizeof(float)));
        CHECK(m[i].n_frames == ref.n_frames &&
              !memcmp(m[i].frames, ref.frames, (size_t)ref.n_frames * 32 * 32));
        media_free(&m[i]);
    }
    media_free(&ref);
}

int main(void) {
    write_wav("tone.wav");
    const char *sources = "-f lavfi -i sine=f=440:d=2:r=44100 -f lavfi -i testsrc2=s=96x96:r=30:d=2 "
                          "-c:v libx264 -pix_fmt yuv420p -c:a aac";
    char *a = xasprintf("%s av.mp4", sources), *b = xasprintf("%s -movflags +faststart fast.mp4", sources);
    int rc = ffmpeg(a) | ffmpeg(b) |
             ffmpeg("-f lavfi -i testsrc2=s=96x96:r=30:d=1 -c:v libx264 video-only.mp4") |
             ffmpeg("-f lavfi -i color=c=black:s=96x64:r=25:d=1,drawbox=x=48:y=0:w=48:h=64:c=white:t=fill "
                    "-f lavfi -i sine=d=1 -c:v mjpeg -q:v 2 -c:a pcm_s16le box.avi") |
             ffmpeg("-f lavfi -i sine=f=437:d=2:r=16000:samples_per_frame=160 -c:a pcm_s16le nogap.mkv "
                    "-af \"aselect='not(between(t\\,0.8\\,0.999))'\" -c:a pcm_s16le gap.mkv");
    free(a); free(b);
    CHECK_MSG(rc == 0, "ffmpeg could not make the test inputs");
    if (rc) return check_done("test_media");
    test_errors();
    test_truncated_readable();
    test_corrupt_middle();
    test_audio_only();
    test_segment();
    test_extreme_times();
    test_crop();
    test_gap();
    test_threads();
    return check_done("test_media");
}
