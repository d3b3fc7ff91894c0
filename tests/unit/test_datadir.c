/* data/datadir: Kaldi data dir parsing, errors with file:line. */
#include "check.h"
#include "common/util.h"
#include "data/datadir.h"
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void put(const char *dir, const char *name, const char *text) {
    mkdir(dir, 0777);
    char *p = path_join(dir, name);
    FILE *f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
    free(p);
}

/* Writes len bytes (the text may hold NUL bytes). */
static void put_n(const char *dir, const char *name, const char *text, size_t len) {
    mkdir(dir, 0777);
    char *p = path_join(dir, name);
    FILE *f = fopen(p, "wb");
    fwrite(text, 1, len, f);
    fclose(f);
    free(p);
}

/* datadir_read must fail and the message must contain want. */
static void expect_fail(const char *dir, const char *want) {
    avm_datadir d;
    int rc = datadir_read(&d, dir);
    CHECK_MSG(rc == -1, "%s parsed but should fail", dir);
    CHECK_MSG(strstr(avm_error(), want) != NULL, "error '%s' lacks '%s'", avm_error(), want);
}

static void test_good(void) {
    put("good", "media.scp", "a1 clips/a1.mp4\na2 /abs/a2.mp4\nb1\tclips/b1.mkv\n");
    put("good", "crops", "a2 1 2 30 40\n");
    avm_datadir d;
    CHECK(datadir_read(&d, "good") == 0);
    CHECK(d.n == 3 && !d.audio_only && !d.has_segments && d.has_crops);
    if (d.n == 3) {
        CHECK(!strcmp(d.u[0].id, "a1") && !strcmp(d.u[0].path, "good/clips/a1.mp4"));
        CHECK(!strcmp(d.u[1].path, "/abs/a2.mp4"));           /* absolute stays */
        CHECK(!strcmp(d.u[2].id, "b1") && !strcmp(d.u[2].path, "good/clips/b1.mkv"));
        CHECK(d.u[0].crop[2] == 0 && d.u[0].end <= 0);
        CHECK(d.u[1].crop[0] == 1 && d.u[1].crop[1] == 2 && d.u[1].crop[2] == 30 && d.u[1].crop[3] == 40);
    }
    datadir_free(&d);
    put("wav", "wav.scp", "u1 x.wav\n");
    CHECK(datadir_read(&d, "wav") == 0 && d.audio_only && d.n == 1);
    datadir_free(&d);
}

static void test_segments(void) {
    put("seg", "media.scp", "recA a.mp4\nrecB b.mp4\n");
    put("seg", "segments", "recA-0 recA 0 1.5\nrecA-1 recA 1.5 3.25\nrecB-0 recB 0.5 -1\n");
    avm_datadir d;
    CHECK(datadir_read(&d, "seg") == 0);
    CHECK(d.n == 3 && d.has_segments);
    if (d.n == 3) {
        CHECK(!strcmp(d.u[1].id, "recA-1") && !strcmp(d.u[1].path, "seg/a.mp4"));
        CHECK_NEAR(d.u[1].start, 1.5, 0);
        CHECK_NEAR(d.u[1].end, 3.25, 0);
        CHECK(!strcmp(d.u[2].path, "seg/b.mp4") && d.u[2].end == 0);   /* -1: to the end */
    }
    datadir_free(&d);
    put("seg2", "media.scp", "recA a.mp4\n");
    put("seg2", "segments", "u1 recA 0 1\nu2 recX 0 1\n");
    expect_fail("seg2", "seg2/segments:2: recording 'recX'");
    put("seg3", "media.scp", "recA a.mp4\n");
    put("seg3", "segments", "u1 recA 2 1\n");
    expect_fail("seg3", "seg3/segments:1: bad times");
}

/* Times that are not finite, negative or empty segments are refused with file:line
 * (nan compares false with everything, so a plain "start < 0" test let it through). */
static void test_segment_times(void) {
    static const struct { const char *times, *want; } bad[] = {
        {"nan 1", "segments:2: bad times 'nan 1'"},
        {"0 nan", "segments:2: bad times '0 nan'"},
        {"inf -1", "segments:2: bad times 'inf -1'"},
        {"0 inf", "segments:2: bad times '0 inf'"},
        {"-0.5 1", "segments:2: bad times"},
        {"2 2", "segments:2: bad times"},
        {"0 -2", "segments:2: bad times"},
        {"1e999 -1", "segments:2: bad times"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        char *text = xasprintf("u0 recA 0 1\nu1 recA %s\n", bad[k].times);
        put("segt", "media.scp", "recA a.mp4\n");
        put("segt", "segments", text);
        expect_fail("segt", bad[k].want);
        free(text);
    }
    /* huge but finite times are the media code's business (an end past the recording
     * extracts to its end); the parser keeps them */
    put("segt", "segments", "u0 recA 1 1e300\nu1 recA 1e308 -1\n");
    avm_datadir d;
    CHECK(datadir_read(&d, "segt") == 0 && d.n == 2);
    if (d.n == 2) CHECK(d.u[0].end == 1e300 && d.u[1].start == 1e308 && d.u[1].end == 0);
    datadir_free(&d);
}

/* Ids and paths end up in the shards' UTF-8 /utt_ids and /failed: other bytes are refused. */
static void test_utf8(void) {
    put("u8", "media.scp", "a x.mp4\nb\xff y.mp4\n");
    expect_fail("u8", "u8/media.scp:2: not valid UTF-8");
    put("u8p", "media.scp", "a x.mp4\nb caf\xe9.mp4\n");
    expect_fail("u8p", "u8p/media.scp:2: not valid UTF-8");
    put("u8s", "media.scp", "rec x.mp4\n");
    put("u8s", "segments", "u\xc3 rec 0 1\n");
    expect_fail("u8s", "u8s/segments:1: not valid UTF-8");
    put("u8ok", "media.scp", "caf\xc3\xa9 \xe6\x97\xa5.mp4\n");   /* valid: café 日.mp4 */
    avm_datadir d;
    CHECK(datadir_read(&d, "u8ok") == 0 && d.n == 1);
    datadir_free(&d);
    put("u8o", "media.scp", "a \xc0\xaf.mp4\n");                      /* overlong '/' */
    expect_fail("u8o", "u8o/media.scp:1: not valid UTF-8");
    put("d\xe9", "media.scp", "a x.mp4\n");                           /* Latin-1 dir name */
    expect_fail("d\xe9", "name is not valid UTF-8");
    put("u8k", "text", "a ok\nb \xed\xa0\x80\n");                  /* a UTF-16 surrogate */
    avm_kv kv;
    CHECK(kv_read(&kv, "u8k/text", 0) == -1 && strstr(avm_error(), "u8k/text:2: not valid UTF-8"));
}

/* A NUL byte would silently cut the line (C strings): refused with file:line. */
static void test_nul(void) {
    put_n("nul", "media.scp", "a x.mp4\nb y.mp4\0 junk\nc z.mp4\n", 29);
    expect_fail("nul", "nul/media.scp:2: NUL byte");
    put_n("nulk", "text", "a hello\0world\n", 15);
    avm_kv kv;
    CHECK(kv_read(&kv, "nulk/text", 0) == -1 && strstr(avm_error(), "nulk/text:1: NUL byte"));
}

static void test_errors(void) {
    put("unsorted", "media.scp", "a x\nc y\nb z\n");
    expect_fail("unsorted", "unsorted/media.scp:3: utt-id 'b' is out of order");
    put("dup", "media.scp", "a x\nb y\nb z\n");
    expect_fail("dup", "dup/media.scp:3: duplicate utt-id 'b'");
    put("malformed", "media.scp", "a x\nb\nc z\n");
    expect_fail("malformed", "malformed/media.scp:2: expected '<utt-id> <path>'");
    put("pipe", "wav.scp", "a sox x.wav -t wav - |\n");
    expect_fail("pipe", "pipe/wav.scp:1:");
    put("empty", "media.scp", "");
    expect_fail("empty", "no utterances");
    expect_fail("no-such-dir", "no-such-dir: no such data directory");
    mkdir("noscp", 0777);
    expect_fail("noscp", "noscp: no media.scp or wav.scp");
    put("badcrop", "media.scp", "a x\nb y\n");
    put("badcrop", "crops", "a 0 0 10 10\nb 0 0 0 10\n");
    expect_fail("badcrop", "badcrop/crops:2: bad crop box");
    put("cropid", "media.scp", "a x\n");
    put("cropid", "crops", "zz 0 0 10 10\n");
    expect_fail("cropid", "cropid/crops:1: utt-id 'zz' is not in the data dir");
}

static void test_kv(void) {
    put("kv", "text", "a hello world\nb\nc  spaced   words \n");
    avm_kv kv;
    CHECK(kv_read(&kv, "kv/text", 1) == 0 && kv.n == 3);
    CHECK(kv_get(&kv, "a") && !strcmp(kv_get(&kv, "a"), "hello world"));
    CHECK(kv_get(&kv, "b") && !strcmp(kv_get(&kv, "b"), ""));
    CHECK(kv_get(&kv, "c") && !strcmp(kv_get(&kv, "c"), "spaced   words "));
    CHECK(kv_get(&kv, "d") == NULL);
    kv_free(&kv);
    CHECK(kv_read(&kv, "kv/text", 0) == -1 && strstr(avm_error(), "kv/text:2:"));
    put("kv", "utt2spk", "b s1\na s1\n");
    CHECK(kv_read(&kv, "kv/utt2spk", 0) == -1 && strstr(avm_error(), "kv/utt2spk:2: utt-id 'a' is out of order"));
}

int main(void) {
    test_good();
    test_segments();
    test_segment_times();
    test_utf8();
    test_nul();
    test_errors();
    test_kv();
    return check_done("test_datadir");
}
