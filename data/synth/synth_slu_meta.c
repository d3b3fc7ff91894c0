/* The files of the spoken-command corpus beside its data dirs: the intent list, the
 * titles, the text corpus for the text encoder, the speakers and slu.json. */
#include "data/synth/synth_slu.h"
#include "common/json.h"
#include "common/util.h"
#include "common/version.h"
#include <stdlib.h>
#include <string.h>

static int put(const slu_corpus *k, const char *name, avm_strbuf *b) {
    char *p = path_join(k->root, name);
    int rc = write_file_atomic(p, b->s ? b->s : "", b->len);
    free(p);
    b->len = 0;
    return rc;
}

typedef struct { avm_strbuf txt, tsv; int n; } corpus_files;

static void add_rendering(void *ctx, const slu_command *c) {
    corpus_files *f = ctx;
    int n;
    const slu_intent *in = slu_intents(&n);
    sb_printf(&f->txt, "%s\n", c->text.s);
    sb_printf(&f->tsv, "%s\t%s\t%s\n", in[c->intent].name, c->unseen ? "unseen" : "seen", c->text.s);
    f->n++;
}

/* The fraction of test-title words that some train title has (1 for the pairs split
 * in practice, 0 for the words split). */
static double shared_words(const slu_titles *t) {
    int shared = 0, total = 0;
    for (int i = 0; i < t->ntest; i++) {
        char *w = xstrdup(t->test[i]), *save, *tok;
        for (tok = strtok_r(w, " ", &save); tok; tok = strtok_r(NULL, " ", &save), total++)
            for (int j = 0; j < t->ntrain; j++) {
                const char *p = t->train[j], *sp = strchr(p, ' ');
                size_t len = strlen(tok);
                if ((!strncmp(p, tok, len) && p[len] == ' ') || (sp && !strcmp(sp + 1, tok))) { shared++; break; }
            }
        free(w);
    }
    return total ? (double)shared / total : 0;
}

static void json(const slu_corpus *k, int ncorpus, avm_strbuf *b) {
    const slu_config *c = k->c;
    avm_jw j;
    jw_init(&j, b);
    jw_obj_begin(&j);
    jw_key(&j, "generator"); jw_str(&j, "avmask synth-slu " AVMASK_VERSION);
    jw_key(&j, "seed"); jw_int(&j, (long long)c->p.seed);
    jw_key(&j, "families"); jw_arr_begin(&j);
    for (int f = 0; f < SLU_NFAMILIES; f++)
        if (c->use[f]) jw_str(&j, slu_family_name(f));
    jw_arr_end(&j);
    jw_key(&j, "heldout_family"); if (c->heldout >= 0) jw_str(&j, slu_family_name(c->heldout)); else jw_null(&j);
    jw_key(&j, "speakers_per_family"); jw_int(&j, c->per_family);
    jw_key(&j, "utts_per_speaker"); jw_int(&j, c->utts);
    jw_key(&j, "commands"); jw_obj_begin(&j);
    for (int s = 0; s < SLU_NSETS; s++) { jw_key(&j, slu_set_names[s]); jw_int(&j, k->utts[s]); }
    jw_key(&j, "test_play"); jw_int(&j, k->play_test);
    jw_key(&j, "test_unseen"); jw_int(&j, k->unseen_test);
    jw_obj_end(&j);
    int ni;
    slu_intents(&ni);
    jw_key(&j, "intents"); jw_int(&j, ni);
    jw_key(&j, "unseen_fraction"); jw_num(&j, c->unseen);
    jw_key(&j, "titles"); jw_obj_begin(&j);
    jw_key(&j, "train"); jw_int(&j, k->titles.ntrain);
    jw_key(&j, "test"); jw_int(&j, k->titles.ntest);
    jw_key(&j, "split"); jw_str(&j, c->split == SLU_SPLIT_WORDS ? "words" : "pairs");
    jw_key(&j, "words"); jw_int(&j, c->title_words);
    jw_key(&j, "test_words_in_train_titles"); jw_num(&j, shared_words(&k->titles));
    jw_obj_end(&j);
    jw_key(&j, "menus"); jw_arr_begin(&j);
    for (int i = 0; i < c->nmenu; i++) jw_int(&j, c->menu[i]);
    jw_arr_end(&j);
    jw_key(&j, "text_corpus_lines"); jw_int(&j, ncorpus);
    synth_json_conditions(&j, c->test, c->ntest, c->kinds, c->nkinds, c->train_clean);
    jw_key(&j, "noise_floor_db_below_speech"); jw_arr_begin(&j);
    jw_num(&j, SYNTH_FLOOR_DB_MIN); jw_num(&j, SYNTH_FLOOR_DB_MAX);
    jw_arr_end(&j);
    jw_key(&j, "audio"); jw_obj_begin(&j);
    jw_key(&j, "format"); jw_str(&j, "wav pcm_s16le mono");
    jw_key(&j, "sample_rate"); jw_int(&j, c->p.rate);
    jw_obj_end(&j);
    jw_obj_end(&j);
    sb_add(b, "\n");
}

int slu_write_meta(const slu_corpus *k) {
    avm_strbuf b = {0};
    int n, rc = 0;
    const slu_intent *in = slu_intents(&n);
    for (int i = 0; i < n; i++) sb_printf(&b, "%s %s\n", in[i].name, slu_class_name(in[i].cls));
    rc |= put(k, "intents.txt", &b);
    for (int i = 0; i < k->titles.ntrain; i++) sb_printf(&b, "%s\n", k->titles.train[i]);
    rc |= put(k, "titles_train.txt", &b);
    for (int i = 0; i < k->titles.ntest; i++) sb_printf(&b, "%s\n", k->titles.test[i]);
    rc |= put(k, "titles_test.txt", &b);
    corpus_files f = {{0}, {0}, 0};
    slu_enumerate(k->titles.train, k->titles.ntrain, add_rendering, &f);
    rc |= put(k, "text_corpus.txt", &f.txt);
    rc |= put(k, "text_corpus.tsv", &f.tsv);
    sb_free(&f.txt);
    sb_free(&f.tsv);
    sb_add(&b, "speaker\tset\tfamily\tvoice\tparameters\n");
    for (int i = 0; i < k->nspk; i++) {
        const slu_speaker *s = &k->spk[i];
        avm_strbuf d = {0};
        slu_speaker_describe(s, &d);
        sb_printf(&b, "%s\t%s\t%s\t%s\t%s\n", s->id, slu_set_names[k->set[i]], slu_family_name(s->family),
                  s->family == SLU_ESPEAK ? s->es.accent : s->fl.name, d.s);
        sb_free(&d);
    }
    rc |= put(k, "speakers.tsv", &b);
    json(k, f.n, &b);
    rc |= put(k, "slu.json", &b);
    sb_free(&b);
    return rc ? -1 : 0;
}
