/* avmask decode on a TinyS2I model dir (train/tinys2i.h): the decision of every utterance,
 * its command or its menu title, one utterance at a time on the threads given, timed.
 *   OUT/hyp         '<utt-id> command <intent>' | '<utt-id> play <title>' | '<utt-id> defer'
 *                   ('play -' when the decision is a title but the utterance has no menu)
 *   OUT/title_rank  '<utt-id> <title>': the menu title of highest cosine for every utterance
 *                   of the menu file, whatever the decision (the matching alone)
 *   OUT/confidence  '<utt-id> <p>': the confidence of the model's decision before deferral, the
 *                   decision head's probability of it, times the command head's probability
 *                   of the command for a command; a command or play decision below
 *                   defer_below is deferred
 *   OUT/decode.json "decoder": "tinys2i", the menu, utterances, threads, the CPU line, milliseconds per utterance
 *                   (features in memory -> decision, the menu's titles encoded per utterance),
 *                   parameters and their bytes (float32 and the saved files) */
#include "eval/decode.h"
#include "common/log.h"
#include "common/util.h"
#include "models/blas_kernel.h"
#include "train/tinys2i.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Every menu's titles encoded with the title vocabulary, as words or characters
 * (ts_title_text; unknown tokens counted). */
typedef struct { avm_textset *t; long words, unk; } menu_text;

static void menus_encode(menu_text *mt, const avm_menus *mn, const ts_model *m) {
    mt->t = xcalloc((size_t)mn->n + 1, sizeof *mt->t);
    for (int i = 0; i < mn->n; i++) {
        for (int k = 0; k < mn->m[i].n; k++) {
            char *t = ts_title_text(mn->m[i].title[k], m->title_chars);
            textset_add(&mt->t[i], "", t);
            free(t);
        }
        textset_encode(&mt->t[i], &m->vocab, m->tenc.cfg.max_len);
        mt->words += mt->t[i].counts.words;
        mt->unk += mt->t[i].counts.unk;
    }
}

/* The index of the largest of x [n] (its softmax's arg-max); *p its softmax probability. */
static int softmax_max(const float *x, int n, double *p) {
    int k = 0;
    for (int j = 1; j < n; j++) if (x[j] > x[k]) k = j;
    double z = 0;
    for (int j = 0; j < n; j++) z += exp((double)x[j] - x[k]);
    *p = 1 / z;
    return k;
}

/* The decision of sample i of the last forward: 0 command, 1 title, 2 other; *cmd the
 * command, *conf the decision's confidence (OUT/confidence). */
static int decide(const ts_model *m, int i, int *cmd, double *conf) {
    double pc, pk;
    int dec = softmax_max(m->lcls + (size_t)i * TS_CLASSES, TS_CLASSES, &pc);
    *cmd = softmax_max(m->lcmd + (size_t)i * m->head.Kc, m->head.Kc, &pk);
    *conf = dec == TS_COMMAND ? pc * pk : pc;
    return dec;
}

int decode_tinys2i(const char *model, const char *feats, const char *out, const char *menu, double defer_below,
                   int threads) {
    ts_model m;
    avm_menus mn = {0};
    if (!menu) avm_die("decode: %s is a TinyS2I model: --menu=FILE names the menus of its title decisions", model);
    if (ts_load(&m, model) || menus_read(&mn, menu)) avm_die("decode: %s", avm_error());
    avm_loader L;   /* one utterance per batch: the latency of one command */
    if (loader_open(&L, feats, feats, 0, m.enc.cfg.max_len, 1, 0, 0, 4) || encoder_apply_cmvn(&m.enc, m.config, &L))
        avm_die("decode: %s", avm_error());
    decode_menus_check(&mn, menu, &L.feats);
    menu_text mt = {0};
    menus_encode(&mt, &mn, &m);
    char sys[1024];
    blas_kernel_describe(sys, sizeof sys, threads);
    avm_info("decode: %s", sys);
    if (mt.unk)
        avm_warn("decode: %s: %ld of %ld title tokens outside the title vocabulary mapped to <unk>", menu, mt.unk,
                 mt.words);
    int n = L.feats.n, e = m.head.e;
    char **hyp = xcalloc((size_t)n + 1, sizeof *hyp), **rank = xcalloc((size_t)n + 1, sizeof *rank);
    double *conf = xcalloc((size_t)n + 1, sizeof *conf);
    float *tv = NULL;
    size_t cap = 0;
    avm_batch_data d = {0};
    double t_run = 0;
    loader_plan(&L, 0);
    for (int b = 0; b < L.nbatch; b++) {
        if (loader_get(&L, b, 0, 1, &d)) avm_die("decode: %s", avm_error());
        for (int i = 0; i < d.B; i++) {   /* B is 1 unless an utterance is shorter than a token */
            double t0 = now_sec();
            if (i == 0 && ts_forward(&m, &d)) avm_die("decode: %s", avm_error());
            int u = d.utt[i], cmd, dec = decide(&m, i, &cmd, &conf[u]), best = -1;
            const avm_menu *me = menus_find(&mn, L.feats.e[u].utt_id);
            if (me) {   /* the menu's titles, encoded now: a menu changes between commands */
                const avm_textset *s = &mt.t[me - mn.m];
                tv = xgrow(tv, &cap, (size_t)s->n * e * sizeof *tv);
                if (ts_embed_titles(&m, s->ids, s->len, s->n, tv)) avm_die("decode: %s", avm_error());
                best = ts_best_title(m.emb + (size_t)i * e, e, tv, s->n);
                rank[u] = xstrdup(me->title[best]);
            }
            if (dec != TS_OTHER && conf[u] < defer_below) dec = TS_OTHER;
            if (dec == TS_COMMAND) hyp[u] = xasprintf("command %s", m.intents.name[m.cmd_intent[cmd]]);
            else if (dec == TS_TITLE) hyp[u] = xasprintf("play %s", me ? me->title[best] : "-");
            else hyp[u] = xstrdup("defer");
            t_run += now_sec() - t0;
        }
    }
    double ms = n ? 1000 * t_run / n : 0;
    avm_info("decode: %d utterances, %.2f ms per utterance (decision and menu matching, %d thread(s); %s)", n, ms,
             threads, sys);
    decode_stats st = {"tinys2i", model, menu, sys, threads, ms, {"audio_encoder", "head", "title_encoder"}, {0},
                       {"audio_encoder.h5", "tinys2i_head.h5", "title_encoder/text_encoder.h5"}, NULL, NULL, conf,
                       defer_below};
    ts_param_counts(&m, st.count);
    decode_menu_write(out, &L.feats, hyp, rank, &st);
    for (int i = 0; i < n; i++) { free(hyp[i]); free(rank[i]); }
    for (int i = 0; i < mn.n; i++) textset_free(&mt.t[i]);
    free(mt.t); free(hyp); free(rank); free(tv); free(conf);
    batch_data_free(&d);
    loader_close(&L);
    menus_free(&mn);
    ts_free(&m);
    return 0;
}
