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
    test_errors();
    test_kv();
    return check_done("test_datadir");
}
