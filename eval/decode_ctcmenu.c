/* avmask decode --menu on a CTC model dir (train/asr.h): TinyS2I's CTC baseline. Every
 * utterance is transcribed (greedy CTC, decode.c's path) one at a time on the threads given,
 * and its transcript turned into TinyS2I's decision by eval/ctcmenu.h, timed together:
 *   OUT/hyp, OUT/title_rank  as decode_tinys2i.c writes them (title_rank: the menu title of
 *                   least normalised character edit distance, whatever the decision)
 *   OUT/text        '<utt-id> <transcript>' (avmask eval --hyp=OUT/text gives its WER)
 *   OUT/decode.json "decoder": "ctc+menu", the menu, utterances, threads, the CPU line,
 *                   milliseconds per utterance (features in memory -> transcript ->
 *                   decision), parameters (audio encoder, CTC head) and their bytes
 * With transcripts (a Kaldi text file) those replace the model's: the model is not run and
 * the time is the matching's alone (an oracle when they are the references). */
#include "eval/decode.h"
#include "eval/ctcmenu.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "data/datadir.h"
#include "models/blas_kernel.h"
#include <stdlib.h>
#include <string.h>

/* The transcript of every feature row: the model's (after the forward of the batch) or the
 * given file's; empty where none. */
static void write_text(const char *out, const avm_feats *f, char **text) {
    avm_strbuf b = {0};
    for (int i = 0; i < f->n; i++)
        sb_printf(&b, "%s%s%s\n", f->e[i].utt_id, text[i] && *text[i] ? " " : "", text[i] ? text[i] : "");
    char *p = path_join(out, "text");
    if (mkdir_p(out) || write_file_atomic(p, b.s ? b.s : "", b.len)) avm_die("decode: %s", avm_error());
    free(p);
    sb_free(&b);
}

int decode_ctcmenu(const ctcmenu_args *g) {
    cm_query q = g->query ? CM_QUERY_WHOLE : CM_QUERY_REST;
    if (!g->intents_from || !g->intents)
        avm_die("decode: %s is a CTC model: with --menu it needs --intents-from=DATA_DIR and --intents=FILE "
                "(the CTC baseline's matching)", g->model);
    avm_asr a;
    avm_menus mn = {0};
    cm_index x;
    avm_kv given = {0};
    if (asr_load(&a, g->model)) avm_die("decode: %s", avm_error());
    if (a.frame) avm_die("decode: %s is a frame-level classifier (finetune --objective=frame): --menu needs a CTC model", g->model);
    if (menus_read(&mn, g->menu) || cm_index_read(&x, g->intents_from, g->intents) ||
        (g->transcripts && kv_read(&given, g->transcripts, 1)))
        avm_die("decode: %s", avm_error());
    avm_loader L;   /* one utterance per batch: the latency of one command */
    if (loader_open(&L, g->feats, g->feats, 0, a.enc.cfg.max_len, 1, 0, 0, 4) || asr_apply_cmvn(&a, &L))
        avm_die("decode: %s", avm_error());
    decode_menus_check(&mn, g->menu, &L.feats);
    char sys[1024];
    blas_kernel_describe(sys, sizeof sys, g->threads);
    avm_info("decode: %s", sys);
    int n = L.feats.n, *ids = xmalloc(sizeof(int) * (a.enc.cfg.max_len + 1));
    char **text = xcalloc((size_t)n + 1, sizeof *text), **hyp = xcalloc((size_t)n + 1, sizeof *hyp);
    char **rank = xcalloc((size_t)n + 1, sizeof *rank);
    avm_batch_data d = {0};
    double t_run = 0;
    int missing = 0;
    loader_plan(&L, 0);
    for (int b = 0; b < L.nbatch; b++) {
        if (loader_get(&L, b, 0, 1, &d)) avm_die("decode: %s", avm_error());
        double t0 = now_sec();
        if (g->transcripts)
            for (int i = 0; i < d.B; i++) {
                const char *t = kv_get(&given, L.feats.e[d.utt[i]].utt_id);
                missing += !t;
                text[d.utt[i]] = xstrdup(t ? t : "");
            }
        else {
            if (asr_forward(&a, &d)) avm_die("decode: %s", avm_error());
            decode_ctc_batch(&a, &d, ids, text);
        }
        for (int i = 0; i < d.B; i++) {   /* B is 1 unless an utterance is shorter than a token */
            int u = d.utt[i];
            const avm_menu *me = menus_find(&mn, L.feats.e[u].utt_id);
            cm_decision c;
            cm_decide(&x, text[u], me, q, &c);
            hyp[u] = cm_hyp(&x, &c, me);
            if (me) rank[u] = xstrdup(me->title[c.title]);
            cm_decision_free(&c);
        }
        t_run += now_sec() - t0;
    }
    double ms = n ? 1000 * t_run / n : 0;
    avm_info("decode: %d utterances, %.2f ms per utterance (%s and menu matching, %d thread(s); %s)", n, ms,
             g->transcripts ? "given transcripts" : "CTC transcript", g->threads, sys);
    if (missing) avm_warn("decode: %s: no transcript of %d utterances (decided as empty: defer)", g->transcripts, missing);
    write_text(g->out, &L.feats, text);
    decode_stats st = {"ctc+menu", g->model, g->menu, sys, g->threads, ms, {"audio_encoder", "head"},
                       {params_values(&a.enc.params), params_values(&a.head.p)},
                       {"audio_encoder.h5", "ctc_head.h5"}, g->transcripts ? "transcripts" : NULL, g->transcripts, NULL, 0};
    decode_menu_write(g->out, &L.feats, hyp, rank, &st);
    for (int i = 0; i < n; i++) { free(text[i]); free(hyp[i]); free(rank[i]); }
    free(text); free(hyp); free(rank); free(ids);
    batch_data_free(&d);
    loader_close(&L);
    if (g->transcripts) kv_free(&given);
    cm_index_free(&x);
    menus_free(&mn);
    asr_free(&a);
    return 0;
}
