/* avmask synth: generates the synthetic audio-visual corpus (see data/synth/README.md).
 * Speakers 1..S-H train; of the H held-out speakers the first half make dev/, the
 * rest the test sets. Every test condition gets its own MP4 (same video, its own
 * noisy audio). Output appears all at once (data/synth/synth_output.h). */
#include "data/synth/synth_datadir.h"
#include "data/synth/synth_mux.h"
#include "data/synth/synth_noisedir.h"
#include "data/synth/synth_options.h"
#include "data/synth/synth_output.h"
#include "data/synth/synth_phones.h"
#include "data/synth/synth_text.h"
#include "data/synth/synth_utt.h"
#include "common/json.h"
#include "common/progress.h"
#include "common/util.h"
#include "common/version.h"
#include <libavutil/log.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { SET_TRAIN, SET_DEV, SET_TEST };

typedef struct {
    const synth_config *c;
    const char *root;                /* temporary output dir */
    synth_speaker *spk;
    int *set;                        /* per speaker: SET_* */
    synth_datadir train, dev, test[MAX_TEST];
    synth_datadir train_twin, dev_twin;  /* --clean-twins: train_clean/, dev_clean/ */
    synth_babble babble;
    int babble_ready;
    synth_babble train_pool;         /* training speech: the babble of noise/ */
    const char **pool_spk;           /* speaker of each train_pool signal */
    int pool_per_spk;                /* utterances of each training speaker in it */
    double seconds;                  /* audio written, all files */
    int files;
} corpus;


/* Speaker i gets voice combination perm[i]: distinct (accent, variant) pairs while
 * there are enough of them; pitch, rate and the face make every speaker distinct. */
static void make_speakers(corpus *k) {
    const synth_config *c = k->c;
    int ncomb = c->nacc * c->nvar, *perm = xmalloc((size_t)ncomb * sizeof *perm);
    for (int i = 0; i < ncomb; i++) perm[i] = i;
    avm_rng r;
    synth_rng(&r, &c->p, 0xFFFFFF, 0xFFFFFF, 1);
    rng_shuffle(&r, perm, ncomb);
    k->spk = xcalloc((size_t)c->speakers, sizeof *k->spk);
    k->set = xcalloc((size_t)c->speakers, sizeof *k->set);
    int ntrain = c->speakers - c->heldout, ndev = c->heldout / 2;
    for (int i = 0; i < c->speakers; i++) {
        int comb = perm[i % ncomb];
        synth_speaker_make(&c->p, i, c->accent[comb / c->nvar], c->variant[comb % c->nvar], &k->spk[i]);
        snprintf(k->spk[i].id, sizeof k->spk[i].id, "spk%03d", i + 1);
        k->set[i] = i < ntrain ? SET_TRAIN : i < ntrain + ndev ? SET_DEV : SET_TEST;
    }
    free(perm);
}

/* Babble talkers: voices of people outside the corpus, made when first needed. */
static int ensure_babble(corpus *k) {
    if (k->babble_ready) return 0;
    const synth_config *c = k->c;
    if (synth_babble_talkers(&c->p, c->accent, c->nacc, c->variant, c->nvar, &k->babble)) return -1;
    k->babble_ready = 1;
    return 0;
}

/* A line of a conditions file (after the utterance id): the noise, then speaker s's voice. */
static void condition_line(const synth_speaker *s, const char *noise, char *cond, size_t size) {
    const synth_voice *v = &s->voice;
    snprintf(cond, size, "%s voice=%s%s%s pitch=%d range=%d rate=%d wordgap=%d", noise, v->accent,
             v->variant[0] ? "+" : "", v->variant, v->pitch, v->range, v->rate, v->wordgap);
}

/* Adds utterance id of speaker si to data dir d, its media at media/<spk>/<file>.mp4:
 * muxed from pcm and the encoded video unless write is 0 (the file exists). */
static int add_media(corpus *k, int si, const synth_utt *u, const synth_video *vid, synth_datadir *d, const char *id,
                     const char *file, const float *pcm, const char *cond, int write) {
    const synth_speaker *s = &k->spk[si];
    char *rel = xasprintf("media/%s/%s.mp4", s->id, file), *abs = path_join(k->root, rel);
    char *scp = xasprintf("../%s", rel);
    int box[4];
    synth_face_mouth_box(&s->face, box);
    synth_entry e = {id, s->id, scp, u->text, cond, u->seg, u->nseg, box};
    int rc = write ? synth_mux_write(abs, vid, pcm, u->nsamples, k->c->p.rate) : 0;
    if (rc == 0) rc = synth_datadir_add_av(d, &e);
    if (write) {
        k->seconds += (double)u->nsamples / k->c->p.rate;
        k->files++;
    }
    free(rel); free(abs); free(scp);
    return rc;
}

/* Writes utterance ui of speaker si under one condition into data dir d: mixes the
 * noise (if any), muxes media/<spk>/<utt><suffix>.mp4 and adds the data dir lines. */
static int write_version(corpus *k, int si, int ui, const synth_utt *u, const synth_video *vid,
                         synth_datadir *d, int clean, double snr, uint64_t purpose, const char *suffix) {
    const synth_config *c = k->c;
    float *pcm = u->pcm, *mixed = NULL;
    char noise[64] = "snr=clean noise=none", cond[256], id[80];
    snprintf(id, sizeof id, "%s%s", u->id, suffix);
    if (!clean) {
        avm_rng r;
        synth_rng(&r, &c->p, (uint64_t)si, (uint64_t)ui, purpose);
        synth_noise_kind kind = c->kinds[rng_below(&r, (uint32_t)c->nkinds)];
        if ((kind == NOISE_BABBLE && ensure_babble(k)) || synth_utt_mix(u, kind, &k->babble, &r, snr, &mixed))
            return -1;
        pcm = mixed;
        snprintf(noise, sizeof noise, "snr=%g noise=%s", snr, synth_noise_name(kind));
    }
    condition_line(&k->spk[si], noise, cond, sizeof cond);
    int rc = add_media(k, si, u, vid, d, id, id, pcm, cond, 1);
    free(mixed);
    return rc;
}

/* --clean-twins: utterance u of a train or dev speaker, under its own id, with its audio
 * before the noise into twin data dir d: a clean utterance's entry names its own file, a
 * noisy one's twin is media/<spk>/<utt>-clean.mp4 (the same video). */
static int write_twin(corpus *k, int si, const synth_utt *u, const synth_video *vid, synth_datadir *d, int clean) {
    char cond[256], file[80];
    condition_line(&k->spk[si], "snr=clean noise=none", cond, sizeof cond);
    snprintf(file, sizeof file, "%s%s", u->id, clean ? "" : "-clean");
    return add_media(k, si, u, vid, d, u->id, file, u->pcm, cond, !clean);
}

/* The first pool_per_spk utterances of each training speaker (their active speech,
 * noise floor included) are the babble sources of noise/: held-out voices never are. */
static void pool_add(corpus *k, int si, int ui, const synth_utt *u) {
    if (k->set[si] != SET_TRAIN || ui >= k->pool_per_spk) return;
    synth_babble *b = &k->train_pool;
    synth_babble_add(b, u->pcm + u->active[0], u->active[1] - u->active[0]);
    k->pool_spk = xrealloc(k->pool_spk, (size_t)b->n * sizeof *k->pool_spk);
    k->pool_spk[b->n - 1] = k->spk[si].id;
}

/* Train and dev: clean with probability --train-clean, else a random SNR in [0, 20]. */
static int do_utt(corpus *k, int si, int ui) {
    const synth_config *c = k->c;
    synth_utt u;
    if (synth_utt_make(&c->p, &k->spk[si], si, ui, &u)) return -1;
    pool_add(k, si, ui, &u);
    synth_frames fr = {u.yuv, u.nframes, c->p.size, c->p.fps, c->p.crf};
    synth_video *vid;
    if (synth_video_encode(&fr, u.id, &vid)) { synth_utt_free(&u); return -1; }
    int rc = 0;
    if (k->set[si] != SET_TEST) {
        avm_rng r;
        synth_rng(&r, &c->p, (uint64_t)si, (uint64_t)ui, SYNTH_RNG_COND);
        int clean;
        double snr;
        synth_train_snr(&r, c->train_clean, &clean, &snr);
        int train = k->set[si] == SET_TRAIN;
        rc = write_version(k, si, ui, &u, vid, train ? &k->train : &k->dev, clean, snr, SYNTH_RNG_NOISE, "");
        if (rc == 0 && c->clean_twins) rc = write_twin(k, si, &u, vid, train ? &k->train_twin : &k->dev_twin, clean);
    } else {
        for (int i = 0; i < c->ntest && rc == 0; i++) {
            char suffix[40];
            snprintf(suffix, sizeof suffix, "%s%s", c->test[i].clean ? "" : "-", c->test[i].clean ? "" : c->test[i].name);
            rc = write_version(k, si, ui, &u, vid, &k->test[i], c->test[i].clean, c->test[i].snr,
                               SYNTH_RNG_NOISE + 1 + (uint64_t)i, suffix);
        }
    }
    synth_video_free(&vid);
    synth_utt_free(&u);
    return rc;
}

static int open_sets(corpus *k) {
    const synth_config *c = k->c;
    int has[3] = {0, 0, 0};
    for (int i = 0; i < c->speakers; i++) has[k->set[i]] = 1;
    char *p;
    int rc = 0;
    if (has[SET_TRAIN]) { p = path_join(k->root, "train"); rc |= synth_datadir_open_av(&k->train, p); free(p); }
    if (has[SET_DEV] && !rc) { p = path_join(k->root, "dev"); rc |= synth_datadir_open_av(&k->dev, p); free(p); }
    if (c->clean_twins && has[SET_TRAIN] && !rc) {
        p = path_join(k->root, "train_clean"); rc |= synth_datadir_open_av(&k->train_twin, p); free(p);
    }
    if (c->clean_twins && has[SET_DEV] && !rc) {
        p = path_join(k->root, "dev_clean"); rc |= synth_datadir_open_av(&k->dev_twin, p); free(p);
    }
    for (int i = 0; i < c->ntest && has[SET_TEST] && !rc; i++) {
        p = xasprintf("%s/test_%s", k->root, c->test[i].name);
        rc |= synth_datadir_open_av(&k->test[i], p);
        free(p);
    }
    return rc;
}

static int close_sets(corpus *k) {
    int rc = 0;
    if (k->train.dir) rc |= synth_datadir_close(&k->train);
    if (k->dev.dir) rc |= synth_datadir_close(&k->dev);
    if (k->train_twin.dir) rc |= synth_datadir_close(&k->train_twin);
    if (k->dev_twin.dir) rc |= synth_datadir_close(&k->dev_twin);
    for (int i = 0; i < MAX_TEST; i++)
        if (k->test[i].dir) rc |= synth_datadir_close(&k->test[i]);
    return rc;
}

/* phones.txt (the phone set), words.txt (the vocabulary), speakers.tsv, synth.json. */
static int write_meta(corpus *k) {
    const synth_config *c = k->c;
    avm_strbuf b = {0};
    for (int i = 0; i < SYNTH_NPHONES; i++) sb_printf(&b, "%s\n", synth_phone_name(i));
    char *p = path_join(k->root, "phones.txt");
    int rc = write_file_atomic(p, b.s, b.len);
    free(p);
    b.len = 0;
    int nw;
    const char *const *w = synth_vocab(&nw);
    for (int i = 0; i < nw; i++) sb_printf(&b, "%s\n", w[i]);
    p = path_join(k->root, "words.txt");
    rc |= write_file_atomic(p, b.s, b.len);
    free(p);
    b.len = 0;
    static const char *const setname[] = {"train", "dev", "test"};
    sb_add(&b, "speaker\tset\taccent\tvariant\tpitch\trange\trate\twordgap\tmouth_box\n");
    for (int i = 0; i < c->speakers; i++) {
        const synth_speaker *s = &k->spk[i];
        int box[4];
        synth_face_mouth_box(&s->face, box);
        sb_printf(&b, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d,%d,%d,%d\n", s->id, setname[k->set[i]], s->voice.accent,
                  s->voice.variant, s->voice.pitch, s->voice.range, s->voice.rate, s->voice.wordgap,
                  box[0], box[1], box[2], box[3]);
    }
    p = path_join(k->root, "speakers.tsv");
    rc |= write_file_atomic(p, b.s, b.len);
    free(p);
    b.len = 0;
    avm_jw j;
    jw_init(&j, &b);
    jw_obj_begin(&j);
    jw_key(&j, "generator"); jw_str(&j, "avmask synth " AVMASK_VERSION);
    jw_key(&j, "seed"); jw_int(&j, (long long)c->p.seed);
    jw_key(&j, "speakers"); jw_int(&j, c->speakers);
    jw_key(&j, "utts_per_speaker"); jw_int(&j, c->utts);
    jw_key(&j, "heldout_speakers"); jw_int(&j, c->heldout);
    synth_json_conditions(&j, c->test, c->ntest, c->kinds, c->nkinds, c->train_clean);
    jw_key(&j, "clean_twins"); jw_bool(&j, c->clean_twins);
    jw_key(&j, "noise_dir"); jw_obj_begin(&j);
    jw_key(&j, "clips"); jw_int(&j, c->noise_clips);
    jw_key(&j, "clip_seconds"); jw_num(&j, c->noise_seconds);
    jw_key(&j, "babble_sources"); jw_int(&j, k->train_pool.n);
    jw_obj_end(&j);
    jw_key(&j, "noise_floor_db_below_speech"); jw_arr_begin(&j);
    jw_num(&j, SYNTH_FLOOR_DB_MIN); jw_num(&j, SYNTH_FLOOR_DB_MAX);
    jw_arr_end(&j);
    jw_key(&j, "video"); jw_obj_begin(&j);
    jw_key(&j, "codec"); jw_str(&j, "h264");
    jw_key(&j, "width"); jw_int(&j, c->p.size);
    jw_key(&j, "height"); jw_int(&j, c->p.size);
    jw_key(&j, "fps"); jw_int(&j, c->p.fps);
    jw_key(&j, "crf"); jw_int(&j, c->p.crf);
    jw_key(&j, "coartic_ms"); jw_num(&j, c->p.coartic_ms);
    jw_obj_end(&j);
    jw_key(&j, "audio"); jw_obj_begin(&j);
    jw_key(&j, "codec"); jw_str(&j, "aac");
    jw_key(&j, "sample_rate"); jw_int(&j, c->p.rate);
    jw_obj_end(&j);
    jw_key(&j, "phones"); jw_int(&j, SYNTH_NPHONES);
    jw_key(&j, "words"); jw_int(&j, nw);
    jw_obj_end(&j);
    sb_add(&b, "\n");
    p = path_join(k->root, "synth.json");
    rc |= write_file_atomic(p, b.s, b.len);
    free(p);
    sb_free(&b);
    return rc;
}

static int generate(corpus *k) {
    const synth_config *c = k->c;
    if (open_sets(k)) return -1;
    avm_progress pr;
    progress_start(&pr, "synth", (double)c->speakers * c->utts);
    for (int si = 0; si < c->speakers; si++) {
        char *dir = xasprintf("%s/media/%s", k->root, k->spk[si].id);
        int rc = mkdir_p(dir);
        free(dir);
        if (rc) return -1;
        for (int ui = 0; ui < c->utts; ui++) {
            if (do_utt(k, si, ui)) return -1;
            progress_update(&pr, (double)si * c->utts + ui + 1, "%d files", k->files);
        }
    }
    progress_end(&pr, "%d files, %.1f s of media", k->files, k->seconds);
    if (c->noise_clips) {
        synth_noisedir_spec ns = {c->noise_clips, c->noise_seconds, c->kinds, c->nkinds, &k->train_pool,
                                  k->pool_spk};
        if (synth_noisedir_write(k->root, &c->p, &ns)) return -1;
    }
    if (close_sets(k) || write_meta(k)) return -1;
    return 0;
}

int cmd_synth(int argc, char **argv) {
    synth_config c;
    const char *out;
    int overwrite;
    synth_parse_options(argc, argv, &c, &out, &overwrite);
    av_log_set_level(AV_LOG_FATAL);   /* failures are reported once, by us */
    /* every file opens fresh encoders with large zeroed contexts; keeping freed memory
     * in the heap instead of unmapping it saves a page fault per page, per file */
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    if (synth_speech_init()) avm_die("synth: %s", avm_error());
    synth_check_voices("synth", c.accent, c.nacc, c.variant, c.nvar);
    double t0 = now_sec();
    corpus k = {.c = &c};
    make_speakers(&k);
    /* about 32 babble sources, as many training speakers as there are */
    int ntrain = c.speakers - c.heldout, want = (32 + ntrain - 1) / ntrain;
    k.pool_per_spk = c.noise_clips == 0 ? 0 : want < c.utts ? want : c.utts;
    if (!(k.root = synth_out_begin(out, overwrite))) avm_die("synth: %s", avm_error());
    if (generate(&k)) avm_die("synth: %s", avm_error());
    if (synth_out_commit()) avm_die("synth: %s", avm_error());
    double dt = now_sec() - t0;
    avm_info("synth: %d speakers (%d held out), %d utterances, %d media files (%.1f s) and %d noise clips (%.0f s) in %s,"
             " %.1f s (%.0fx real time)", c.speakers, c.heldout, c.speakers * c.utts, k.files, k.seconds,
             c.noise_clips, c.noise_clips * c.noise_seconds, out, dt, dt > 0 ? k.seconds / dt : 0);
    close_sets(&k);
    synth_babble_free(&k.babble);
    synth_babble_free(&k.train_pool);
    free(k.pool_spk);
    free(k.spk);
    free(k.set);
    for (int i = 0; i < c.nacc; i++) free(c.accent[i]);
    for (int i = 0; i < c.nvar; i++) free(c.variant[i]);
    free((char *)out);
    synth_speech_close();
    return 0;
}
