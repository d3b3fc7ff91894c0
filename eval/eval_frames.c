/* The frame-level probe's scoring (see eval_frames.h). */
#include "eval/eval_frames.h"
#include "common/log.h"
#include "common/util.h"
#include "data/ali.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One reference utterance: T phone names from the CTM, laid out as trans_read's. */
static void ref_utt(avm_trans_utt *u, const avm_ali *c, const char *id, int T, double token_s) {
    int32_t *y = xmalloc(sizeof(int32_t) * ((size_t)T + 1));
    char **names = xmalloc(sizeof(char *) * ((size_t)T + 1));
    ali_tokens(c, id, T, token_s, y);
    for (int t = 0; t < T; t++) names[t] = c->phones[y[t]];
    u->id = xstrdup(id);
    u->text = xstrdup("");
    trans_set_tokens(u, names, T);
    free(names);
    free(y);
}

void frames_ref(avm_trans *ref, const char *ctm, const avm_trans *hyp, double token_s) {
    avm_ali c;
    if (ali_read(&c, ctm)) { ali_free(&c); avm_die("eval: %s", avm_error()); }
    memset(ref, 0, sizeof *ref);
    ref->path = xstrdup(ctm);
    ref->u = xcalloc((size_t)c.n + 1, sizeof *ref->u);
    for (int s = 0; s < c.n; s++) {
        const char *id = c.seg[s].utt;
        if (s && !strcmp(id, c.seg[s - 1].utt)) continue;   /* segments are sorted by utterance */
        int h = trans_find(hyp, id);
        double end = ali_end(&c, id);
        int T = h >= 0 ? hyp->u[h].n : (int)ceil(end / token_s - 1e-9);
        if (h >= 0 && end > (T + 1) * token_s) {
            avm_fail("%s: the alignment of %s ends at %.3f s, but %s has %d tokens of %g s (--token-seconds?)", ctm, id,
                     end, hyp->path, T, token_s);
            ali_free(&c);
            trans_free(ref);
            avm_die("eval: %s", avm_error());
        }
        ref_utt(&ref->u[ref->n++], &c, id, T, token_s);
    }
    ali_free(&c);
}

void frames_compare(char *const *ref, int nr, char *const *hyp, int nh, int speech, avm_errs *e) {
    for (int t = 0; t < nr; t++) {
        if (speech && !strcmp(ref[t], ALI_SIL)) continue;
        int right = t < nh && !strcmp(ref[t], hyp[t]);
        e->c += right;
        e->s += !right;
        e->n++;
    }
    e->utts++;
}
