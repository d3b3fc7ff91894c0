/* data/shard: writer/reader round trips (video and audio-only), shard summaries,
 * index.tsv, feats_open errors, the bounded reader cache, cmvn.h5. */
#include "check.h"
#include "common/util.h"
#include "data/shard.h"
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { NM = 5, H = 3, W = 4 };

/* Deterministic content: utterance u, frame t, dim j. */
static float fval(int s, int u, int t, int j) { return (float)(s * 1000 + u * 100 + t) + 0.125f * j; }
static uint8_t pval(int s, int u, int t, int p) { return (uint8_t)((s * 31 + u * 17 + t * 5 + p) & 255); }

static void fill(int s, int u, int na, int nv, float *fb, uint8_t *vid) {
    for (int t = 0; t < na; t++)
        for (int j = 0; j < NM; j++) fb[t * NM + j] = fval(s, u, t, j);
    for (int t = 0; t < nv; t++)
        for (int p = 0; p < H * W; p++) vid[t * H * W + p] = pval(s, u, t, p);
}

/* The shards' feature configuration: extract records the stacking, feats_open reads it. */
#define CFG "{\"test\":1,\"audio_frames_per_video_frame\":4}"
static const char *shard_cfg = CFG;

/* Shard s holds 3 utterances "s<s>u<u>" with 8+4u audio and 2+u video frames. */
static int write_shard(const char *dir, int s, int video, avm_index_entry *idx, int *n) {
    char *p = shard_path(dir, s);
    avm_shard_writer *w = shard_writer_open(p, shard_cfg, NM, video, H, W);
    CHECK_MSG(w != NULL, "%s", avm_error());
    if (!w) { free(p); return -1; }
    float fb[100 * NM];
    uint8_t vid[100 * H * W];
    for (int u = 0; u < 3; u++) {
        int na = 8 + 4 * u, nv = video ? 2 + u : 0;
        fill(s, u, na, nv, fb, vid);
        char id[32];
        snprintf(id, sizeof id, "s%du%d", s, u);
        CHECK(shard_writer_add(w, id, fb, na, video ? vid : NULL, nv) == 0);
        idx[*n] = (avm_index_entry){xstrdup(id), s, u, na, nv};
        (*n)++;
    }
    shard_writer_add_failure(w, "s_bad", "/x/bad.mp4", "no audio stream");
    char *tmp = xasprintf("%s.tmp", p);
    CHECK(file_exists(tmp) && !file_exists(p));     /* written under the temporary name */
    CHECK(shard_writer_close(w) == 0);
    CHECK(!file_exists(tmp) && file_exists(p));
    free(tmp);
    free(p);
    return 0;
}

static void test_meta(const char *dir) {
    char *p = shard_path(dir, 1);
    CHECK(strstr(p, "shard-00001.h5") != NULL);
    avm_shard_meta m;
    CHECK_MSG(shard_meta_read(p, &m) == 0, "%s", avm_error());
    CHECK(m.n == 3 && m.n_failed == 1 && m.n_mels == NM && m.has_video && m.height == H && m.width == W);
    if (m.n == 3) {
        CHECK(!strcmp(m.utt_ids[2], "s1u2") && m.a_frames[2] == 16 && m.v_frames[2] == 4);
        CHECK(!strcmp(m.failed[0], "s_bad /x/bad.mp4 no audio stream"));
        CHECK(!strcmp(m.config_json, CFG));
        /* stats: sums over every row written */
        double sum0 = 0, cnt = 0, psum = 0, pcnt = 0;
        for (int u = 0; u < 3; u++) {
            for (int t = 0; t < 8 + 4 * u; t++) sum0 += fval(1, u, t, 0), cnt++;
            for (int t = 0; t < 2 + u; t++)
                for (int q = 0; q < H * W; q++) psum += pval(1, u, t, q), pcnt++;
        }
        CHECK_NEAR(m.stats.count, cnt, 0);
        CHECK_NEAR(m.stats.sum[0], sum0, 1e-9);
        CHECK_NEAR(m.stats.pix_sum, psum, 0);
        CHECK_NEAR(m.stats.pix_count, pcnt, 0);
    }
    shard_meta_free(&m);
    free(p);
}

/* Every utterance read back equals what was written. */
static void check_all(const avm_feats *fe, int max_open, int video) {
    avm_shard_reader *r = shard_reader_new(fe, max_open);
    float fb[100 * NM], want_fb[100 * NM];
    uint8_t vid[100 * H * W], want_v[100 * H * W];
    /* Visit shards back and forth so the cache must evict. */
    for (int pass = 0; pass < 2; pass++)
        for (int k = 0; k < fe->n; k++) {
            int i = pass ? fe->n - 1 - k : k;
            const avm_index_entry *e = &fe->e[i];
            CHECK_MSG(shard_reader_get(r, i, fb, video ? vid : NULL) == 0, "%s", avm_error());
            fill(e->shard, e->row, e->a_frames, e->v_frames, want_fb, want_v);
            CHECK(!memcmp(fb, want_fb, sizeof(float) * e->a_frames * NM));
            if (video) CHECK(!memcmp(vid, want_v, (size_t)e->v_frames * H * W));
            CHECK(shard_reader_open_count(r) <= max_open);
            /* a range of frames: the same values as the whole read */
            int64_t a = e->a_frames / 3, n = e->a_frames - a - 1;
            memset(fb, 0, sizeof fb);
            CHECK_MSG(shard_reader_get_audio(r, i, a, n, fb) == 0, "%s", avm_error());
            CHECK(!memcmp(fb, want_fb + a * NM, sizeof(float) * n * NM));
            CHECK(shard_reader_get_audio(r, i, a, e->a_frames - a + 1, fb) == -1);
        }
    CHECK(shard_reader_get(r, fe->n, fb, NULL) == -1);
    CHECK(shard_reader_get_audio(r, 0, -1, 1, fb) == -1);
    shard_reader_free(r);
}

static void test_feats(void) {
    mkdir("f1", 0777);
    avm_index_entry idx[32];
    int n = 0;
    for (int s = 0; s < 5; s++) write_shard("f1", s, 1, idx, &n);
    test_meta("f1");
    CHECK(index_write("f1/index.tsv", idx, n) == 0);
    avm_index_entry *back;
    int nb;
    CHECK(index_read("f1/index.tsv", &back, &nb) == 0 && nb == n);
    for (int i = 0; i < n && nb == n; i++)
        CHECK(!strcmp(back[i].utt_id, idx[i].utt_id) && back[i].shard == idx[i].shard && back[i].row == idx[i].row &&
              back[i].a_frames == idx[i].a_frames && back[i].v_frames == idx[i].v_frames);
    index_free(back, nb);
    avm_feats fe;
    CHECK_MSG(feats_open(&fe, "f1") == 0, "%s", avm_error());
    CHECK(fe.n == 15 && fe.n_mels == NM && fe.has_video && fe.height == H && fe.width == W && fe.stack == 4);
    CHECK(fe.config_json && !strcmp(fe.config_json, CFG));
    check_all(&fe, 2, 1);
    check_all(&fe, 1, 0);   /* video skipped */
    feats_close(&fe);

    unlink("f1/shard-00003.h5");
    CHECK(feats_open(&fe, "f1") == -1 && strstr(avm_error(), "f1/shard-00003.h5"));
    FILE *f = fopen("f1/index.tsv", "a");
    fputs("bad line\n", f);
    fclose(f);
    CHECK(feats_open(&fe, "f1") == -1 && strstr(avm_error(), "f1/index.tsv:16:"));
    CHECK(feats_open(&fe, "nowhere") == -1 && strstr(avm_error(), "nowhere"));
    for (int i = 0; i < n; i++) free(idx[i].utt_id);
}

/* A configuration without the stacking, or an impossible one, is refused naming the shard. */
static void test_stack_refused(void) {
    const char *bad[] = {"{\"test\":1}", "{\"audio_frames_per_video_frame\":0}", "{\"audio_frames_per_video_frame\":2.5}"};
    for (int k = 0; k < 3; k++) {
        char dir[16];
        snprintf(dir, sizeof dir, "fs%d", k);
        mkdir(dir, 0777);
        avm_index_entry idx[4];
        int n = 0;
        shard_cfg = bad[k];
        write_shard(dir, 0, 1, idx, &n);
        char *ix = path_join(dir, "index.tsv");
        CHECK(index_write(ix, idx, n) == 0);
        avm_feats fe;
        CHECK(feats_open(&fe, dir) == -1 && strstr(avm_error(), "shard-00000.h5: feature configuration: 'audio_frames_per_video_frame'"));
        for (int i = 0; i < n; i++) free(idx[i].utt_id);
        free(ix);
    }
    shard_cfg = CFG;
}

static void test_audio_only(void) {
    mkdir("f2", 0777);
    avm_index_entry idx[8];
    int n = 0;
    write_shard("f2", 7, 0, idx, &n);
    CHECK(index_write("f2/index.tsv", idx, n) == 0);
    avm_feats fe;
    CHECK_MSG(feats_open(&fe, "f2") == 0, "%s", avm_error());
    CHECK(!fe.has_video && fe.n == 3);
    check_all(&fe, 1, 0);
    feats_close(&fe);
    for (int i = 0; i < n; i++) free(idx[i].utt_id);

    /* a shard whose utterances all failed is still a valid shard */
    avm_shard_writer *w = shard_writer_open("f2/shard-00008.h5", "{}", NM, 1, H, W);
    shard_writer_add_failure(w, "x", "x.mp4", "empty file");
    CHECK(shard_writer_close(w) == 0);
    avm_shard_meta m;
    CHECK_MSG(shard_meta_read("f2/shard-00008.h5", &m) == 0, "%s", avm_error());
    CHECK(m.n == 0 && m.n_failed == 1 && m.stats.count == 0);
    shard_meta_free(&m);

    /* abort leaves nothing behind */
    w = shard_writer_open("f2/shard-00009.h5", "{}", NM, 0, 0, 0);
    float fb[4 * NM] = {0};
    CHECK(shard_writer_add(w, "y", fb, 4, NULL, 0) == 0);
    CHECK(shard_writer_add(w, "z", fb, 4, NULL, 2) == -1);   /* video into an audio-only shard */
    shard_writer_abort(w);
    CHECK(!file_exists("f2/shard-00009.h5") && !file_exists("f2/shard-00009.h5.tmp"));
    CHECK(shard_meta_read("f2/shard-00009.h5", &m) == -1 && strstr(avm_error(), "shard-00009.h5"));
}

static void test_cmvn(void) {
    avm_cmvn_acc a;
    cmvn_acc_init(&a, 3);
    float x[4 * 3] = {1, 2, 3, 3, 2, 1, 5, 2, 0, -1, 2, 4};
    cmvn_acc_add(&a, x, 4);
    uint8_t px[4] = {0, 10, 20, 30};
    cmvn_acc_add_pixels(&a, px, 4);
    CHECK(cmvn_write("cmvn.h5", &a) == 0);
    avm_cmvn c;
    CHECK_MSG(cmvn_read("cmvn.h5", &c) == 0, "%s", avm_error());
    CHECK(c.dim == 3 && c.count == 4);
    CHECK_NEAR(c.mean[0], 2.0, 1e-12);     /* (1+3+5-1)/4 */
    CHECK_NEAR(c.var[0], 5.0, 1e-12);      /* (1+9+25+1)/4 - 4 */
    CHECK_NEAR(c.var[1], 0.0, 1e-12);
    CHECK_NEAR(c.pix_mean, 15.0, 1e-12);
    CHECK_NEAR(c.pix_std, sqrt(125.0), 1e-9);
    cmvn_free(&c);
    cmvn_acc_free(&a);
    CHECK(!file_exists("cmvn.h5.tmp"));
    CHECK(cmvn_read("none.h5", &c) == -1 && strstr(avm_error(), "none.h5"));
}

int main(void) {
    test_feats();
    test_audio_only();
    test_stack_refused();
    test_cmvn();
    return check_done("test_shard");
}
