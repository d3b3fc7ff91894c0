/* avmask synth-slu: generates the spoken-command corpus (data/synth/README.md). Speakers
 * are visited in the order of their ids and their commands in order, so every data dir
 * is written sorted; a test command gets one WAV per condition. Output appears all at once
 * (data/synth/synth_output.h). */
#include "data/synth/synth_slu.h"
#include "data/synth/synth_output.h"
#include "data/synth/synth_wav.h"
#include "common/progress.h"
#include "common/util.h"
#include <stdlib.h>
#include <string.h>

const char *const slu_set_names[SLU_NSETS] = {"train", "dev", "test"};

/* Files of every data dir, then one menuN file per menu size (dev and test). */
enum { F_SCP, F_TEXT, F_INTENT, F_SLOTS, F_PARA, F_COND, F_PHONES, F_CTM, F_MENU };
#define SLU_RNG_MENU 48   /* + menu index: after the noise purposes of synth_utt.h */

static int cmp_spk(const void *a, const void *b) {
    return strcmp(((const slu_speaker *)a)->id, ((const slu_speaker *)b)->id);
}

/* Speaker k of every family in use; espeak speakers take distinct (accent, variant)
 * pairs while there are enough, as in the audio-visual corpus. */
static void make_speakers(slu_corpus *k) {
    const slu_config *c = k->c;
    int ncomb = c->nacc * c->nvar, *perm = xmalloc((size_t)ncomb * sizeof *perm);
    for (int i = 0; i < ncomb; i++) perm[i] = i;
    avm_rng r;
    synth_rng(&r, &c->p, 0xFFFFFF, 0xFFFFFF, 1);
    rng_shuffle(&r, perm, ncomb);
    k->spk = xcalloc((size_t)SLU_NFAMILIES * c->per_family, sizeof *k->spk);
    for (int f = 0; f < SLU_NFAMILIES; f++)
        for (int i = 0; c->use[f] && i < c->per_family; i++) {
            int comb = perm[i % ncomb];
            slu_speaker_make(&c->p, f, i, c->accent[comb / c->nvar], c->variant[comb % c->nvar], &k->spk[k->nspk++]);
        }
    free(perm);
    qsort(k->spk, (size_t)k->nspk, sizeof *k->spk, cmp_spk);
    k->set = xcalloc((size_t)k->nspk, sizeof *k->set);
    int ntrain = c->per_family - c->dev_per_family - c->test_per_family;
    for (int i = 0; i < k->nspk; i++) {
        const slu_speaker *s = &k->spk[i];
        k->set[i] = s->family == c->heldout ? SLU_TEST : s->k < ntrain ? SLU_TRAIN
                  : s->k < ntrain + c->dev_per_family ? SLU_DEV : SLU_TEST;
    }
}

/* "<utt> t1|t2|..": the command's title and menu - 1 other titles of the list, in random
 * order; seeded by the utterance, so its noisy copies share it. */
static void menu_line(const slu_corpus *k, const slu_speaker *s, int ui, int mi, char *const *titles, int n,
                      avm_strbuf *b) {
    int m = k->c->menu[mi], *idx = xmalloc((size_t)n * sizeof *idx), ni = 0;
    for (int i = 0; i < n; i++)
        if (i != k->cmd.title) idx[ni++] = i;
    avm_rng r;
    synth_rng(&r, &k->c->p, (uint64_t)s->rng_spk, (uint64_t)ui, SLU_RNG_MENU + (uint64_t)mi);
    for (int i = 0; i < m - 1; i++) {
        int j = i + (int)rng_below(&r, (uint32_t)(ni - i)), t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    int pos = (int)rng_below(&r, (uint32_t)m);
    idx[m - 1] = idx[pos];
    idx[pos] = k->cmd.title;
    b->len = 0;
    for (int i = 0; i < m; i++) sb_printf(b, "%s%s", i ? "|" : "", titles[idx[i]]);
    free(idx);
}

static int ensure_babble(slu_corpus *k) {
    const slu_config *c = k->c;
    if (k->babble_ready) return 0;
    if (synth_babble_talkers(&c->p, c->accent, c->nacc, c->variant, c->nvar, &k->babble)) return -1;
    k->babble_ready = 1;
    return 0;
}

/* Writes one version of utterance u (clean, or mixed at snr) as wav/<spk>/<id>.wav and
 * its data dir lines; menus[] are its menu lines (NULL: none). */
static int write_version(slu_corpus *k, int si, int ui, const synth_utt *u, synth_datadir *d, int clean, double snr,
                         uint64_t purpose, const char *suffix, const avm_strbuf *menus) {
    const slu_config *c = k->c;
    const slu_speaker *s = &k->spk[si];
    const slu_command *cmd = &k->cmd;
    float *mixed = NULL;
    avm_strbuf cond = {0};
    if (clean) {
        sb_add(&cond, "snr=clean noise=none");
    } else {
        avm_rng r;
        synth_rng(&r, &c->p, (uint64_t)s->rng_spk, (uint64_t)ui, purpose);
        synth_noise_kind kind = c->kinds[rng_below(&r, (uint32_t)c->nkinds)];
        if ((kind == NOISE_BABBLE && ensure_babble(k)) || synth_utt_mix(u, kind, &k->babble, &r, snr, &mixed)) {
            sb_free(&cond);
            return -1;
        }
        sb_printf(&cond, "snr=%g noise=%s", snr, synth_noise_name(kind));
    }
    int n;
    const slu_intent *in = slu_intents(&n) + cmd->intent;
    const char *para = cmd->unseen ? "unseen" : "seen";
    sb_printf(&cond, " paraphrase=%s class=%s ", para, slu_class_name(in->cls));
    slu_speaker_describe(s, &cond);
    char id[80];
    snprintf(id, sizeof id, "%s%s", u->id, suffix);
    char *rel = xasprintf("wav/%s/%s.wav", s->id, id), *abs = path_join(k->root, rel);
    int rc = synth_wav_write(abs, mixed ? mixed : u->pcm, u->nsamples, c->p.rate);
    synth_datadir_printf(d, F_SCP, "%s ../%s", id, rel);
    synth_datadir_printf(d, F_TEXT, "%s %s", id, cmd->text.s);
    synth_datadir_printf(d, F_INTENT, "%s %s", id, in->name);
    synth_datadir_printf(d, F_SLOTS, "%s %s", id, cmd->slots.s);
    synth_datadir_printf(d, F_PARA, "%s %s", id, para);
    synth_datadir_printf(d, F_COND, "%s %s", id, cond.s);
    synth_datadir_phones(d, F_PHONES, F_CTM, id, u->seg, u->nseg);
    for (int i = 0; menus && i < c->nmenu; i++) synth_datadir_printf(d, F_MENU + i, "%s %s", id, menus[i].s);
    if (rc == 0) rc = synth_datadir_add(d, id, s->id);
    k->seconds += (double)u->nsamples / c->p.rate;
    k->files++;
    free(rel); free(abs); free(mixed);
    sb_free(&cond);
    return rc;
}

/* Test conditions in the order of their utterance ids ("" for clean, then "-snrN"). */
static void condition_order(const slu_config *c, int *order) {
    for (int i = 0; i < c->ntest; i++) order[i] = i;
    for (int i = 1; i < c->ntest; i++)   /* insertion sort by name; clean first */
        for (int j = i; j > 0; j--) {
            const synth_condition *a = &c->test[order[j - 1]], *b = &c->test[order[j]];
            if (a->clean || (!b->clean && strcmp(a->name, b->name) <= 0)) break;
            int t = order[j]; order[j] = order[j - 1]; order[j - 1] = t;
        }
}

static int do_utt(slu_corpus *k, int si, int ui) {
    const slu_config *c = k->c;
    const slu_speaker *s = &k->spk[si];
    int set = k->set[si];
    char *const *titles = set == SLU_TEST ? k->titles.test : k->titles.train;
    int ntitles = set == SLU_TEST ? k->titles.ntest : k->titles.ntrain;
    avm_rng r;
    synth_rng(&r, &c->p, (uint64_t)s->rng_spk, (uint64_t)ui, SYNTH_RNG_TEXT);
    slu_draw(&r, titles, ntitles, set == SLU_TEST ? c->unseen : 0, &k->cmd);
    synth_audio a;
    if (slu_speak(s, k->cmd.text.s, c->p.rate, (unsigned)rng_u64(&r), &a)) return avm_fail("%s-u%04d: %s", s->id, ui + 1, avm_error());
    synth_utt u;
    memset(&u, 0, sizeof u);
    synth_utt_audio(&c->p, s->gain, s->rng_spk, ui, 1, &a, &u);
    snprintf(u.id, sizeof u.id, "%s-u%04d", s->id, ui + 1);
    avm_strbuf menus[SLU_MAX_MENUS] = {{0}};
    int with_menus = set != SLU_TRAIN && k->cmd.title >= 0;
    for (int i = 0; with_menus && i < c->nmenu; i++) menu_line(k, s, ui, i, titles, ntitles, &menus[i]);
    int rc = 0;
    k->utts[set]++;
    if (set != SLU_TEST) {
        int clean;
        double snr;
        synth_rng(&r, &c->p, (uint64_t)s->rng_spk, (uint64_t)ui, SYNTH_RNG_COND);
        synth_train_snr(&r, c->train_clean, &clean, &snr);
        rc = write_version(k, si, ui, &u, &k->dd[set], clean, snr, SYNTH_RNG_NOISE, "", with_menus ? menus : NULL);
    } else {
        k->play_test += k->cmd.title >= 0;
        k->unseen_test += k->cmd.unseen;
        int order[MAX_TEST];
        condition_order(c, order);
        for (int j = 0; j < c->ntest && rc == 0; j++) {
            const synth_condition *t = &c->test[order[j]];
            char suffix[40];
            snprintf(suffix, sizeof suffix, "%s%s", t->clean ? "" : "-", t->clean ? "" : t->name);
            rc = write_version(k, si, ui, &u, &k->dd[SLU_TEST], t->clean, t->snr,
                               SYNTH_RNG_NOISE + 1 + (uint64_t)order[j], suffix, with_menus ? menus : NULL);
        }
    }
    for (int i = 0; i < SLU_MAX_MENUS; i++) sb_free(&menus[i]);
    synth_utt_free(&u);
    return rc;
}

static int open_sets(slu_corpus *k, const char **names, char (*menu_names)[16]) {
    const slu_config *c = k->c;
    static const char *const base[F_MENU] = {"wav.scp", "text", "intent", "slots", "paraphrase", "conditions",
                                             "phones", "phones.ctm"};
    for (int i = 0; i < F_MENU; i++) names[i] = base[i];
    for (int i = 0; i < c->nmenu; i++) {
        snprintf(menu_names[i], 16, "menu%d", c->menu[i]);
        names[F_MENU + i] = menu_names[i];
    }
    int has[SLU_NSETS] = {0};
    for (int i = 0; i < k->nspk; i++) has[k->set[i]] = 1;
    for (int s = 0; s < SLU_NSETS; s++) {
        if (!has[s]) continue;
        char *p = path_join(k->root, slu_set_names[s]);
        int rc = synth_datadir_open(&k->dd[s], p, names, s == SLU_TRAIN ? F_MENU : F_MENU + c->nmenu);
        free(p);
        if (rc) return -1;
    }
    return 0;
}

static int close_sets(slu_corpus *k) {
    int rc = 0;
    for (int s = 0; s < SLU_NSETS; s++)
        if (k->dd[s].dir) rc |= synth_datadir_close(&k->dd[s]);
    return rc;
}

static int generate(slu_corpus *k) {
    const slu_config *c = k->c;
    const char *names[F_MENU + SLU_MAX_MENUS];
    char menu_names[SLU_MAX_MENUS][16];
    if (slu_titles_make(c->p.seed, c->split, c->title_words, c->ntrain_titles, c->ntest_titles, &k->titles) ||
        open_sets(k, names, menu_names))
        return -1;
    avm_progress pr;
    progress_start(&pr, "synth-slu", (double)k->nspk * c->utts);
    for (int si = 0; si < k->nspk; si++) {
        char *dir = xasprintf("%s/wav/%s", k->root, k->spk[si].id);
        int rc = mkdir_p(dir);
        free(dir);
        if (rc) return -1;
        for (int ui = 0; ui < c->utts; ui++) {
            if (do_utt(k, si, ui)) return -1;
            progress_update(&pr, (double)si * c->utts + ui + 1, "%d files", k->files);
        }
    }
    progress_end(&pr, "%d files, %.1f s of audio", k->files, k->seconds);
    return close_sets(k) || slu_write_meta(k) ? -1 : 0;
}

int cmd_synth_slu(int argc, char **argv) {
    slu_config c;
    const char *out;
    int overwrite;
    slu_parse_options(argc, argv, &c, &out, &overwrite);
    if (synth_speech_init()) avm_die("synth-slu: %s", avm_error());
    if (c.use[SLU_ESPEAK]) synth_check_voices("synth-slu", c.accent, c.nacc, c.variant, c.nvar);
    double t0 = now_sec();
    slu_corpus k = {.c = &c};
    make_speakers(&k);
    if (!(k.root = synth_out_begin(out, overwrite))) avm_die("synth-slu: %s", avm_error());
    if (generate(&k)) avm_die("synth-slu: %s", avm_error());
    if (synth_out_commit()) avm_die("synth-slu: %s", avm_error());
    double dt = now_sec() - t0;
    avm_info("synth-slu: %d speakers, %d train / %d dev / %d test commands (test: %d play, %d unseen paraphrases; "
             "%d conditions), %d files (%.1f s) in %s, %.1f s (%.0fx real time)", k.nspk, k.utts[SLU_TRAIN],
             k.utts[SLU_DEV], k.utts[SLU_TEST], k.play_test, k.unseen_test, c.ntest, k.files, k.seconds, out, dt,
             dt > 0 ? k.seconds / dt : 0);
    close_sets(&k);
    slu_command_free(&k.cmd);
    slu_titles_free(&k.titles);
    synth_babble_free(&k.babble);
    free(k.spk);
    free(k.set);
    for (int i = 0; i < c.nacc; i++) free(c.accent[i]);
    for (int i = 0; i < c.nvar; i++) free(c.variant[i]);
    free((char *)out);
    synth_flite_close();
    synth_speech_close();
    return 0;
}
