/* Block streaming of token vectors (km_stream.h). */
#include "cluster/km_stream.h"
#include "cluster/km_layer.h"
#include "common/util.h"
#include <stdlib.h>
#include <string.h>

int km_utt_tokens(const avm_feats *fe, int i) {
    const avm_index_entry *e = &fe->e[i];
    if (e->a_frames % fe->stack || e->a_frames == 0)
        return avm_fail("%s: shard %d: utterance %s has %d audio frames, not whole tokens of %d", fe->dir, e->shard,
                        e->utt_id, e->a_frames, fe->stack);
    return e->a_frames / fe->stack;
}

static void grow(km_stream *s, int cap) {
    s->cap = cap;
    free(s->raw);
    free(s->x);
    s->raw = xmalloc(sizeof(float) * s->fe->stack * (size_t)cap * s->fe->n_mels);
    s->x = xmalloc(sizeof(float) * (size_t)cap * s->kf->dim);
}

void km_stream_init(km_stream *s, const avm_feats *fe, const km_feat *kf, int begin, int end, int cap, int norm) {
    memset(s, 0, sizeof *s);
    s->fe = fe;
    s->kf = kf;
    s->rd = shard_reader_new(fe, 2);
    s->next = begin;
    s->end = end;
    s->norm = norm;
    grow(s, cap > 0 ? cap : 1);
}

void km_stream_free(km_stream *s) {
    shard_reader_free(s->rd);
    free(s->raw); free(s->x); free(s->utt); free(s->off);
    memset(s, 0, sizeof *s);
}

/* Reads whole utterances until the next one would not fit (a block holds at least one). */
static int fill(km_stream *s) {
    s->n = s->nutt = 0;
    while (s->next < s->end) {
        int T = km_utt_tokens(s->fe, s->next);
        if (T < 0) return -1;
        if (s->n + T > s->cap) {
            if (s->nutt) break;
            grow(s, T);
        }
        if (s->nutt + 2 > s->utt_cap) {
            s->utt_cap = 2 * s->utt_cap + 16;
            s->utt = xrealloc(s->utt, sizeof(int) * s->utt_cap);
            s->off = xrealloc(s->off, sizeof(int) * s->utt_cap);
        }
        /* layer vectors: the model's loader reads the utterance itself */
        if (!s->kf->lay && shard_reader_get(s->rd, s->next, s->raw + (size_t)s->fe->stack * s->n * s->fe->n_mels, NULL)) return -1;
        s->utt[s->nutt] = s->next++;
        s->off[s->nutt++] = s->n;
        s->n += T;
    }
    if (s->nutt) s->off[s->nutt] = s->n;
    return 0;
}

int km_stream_next(km_stream *s) {
    if (fill(s)) return -1;
    if (!s->nutt) return 0;
    const km_feat *kf = s->kf;
    int nm = s->fe->n_mels, S = s->fe->stack;
    if (kf->lay) {      /* the model batches the block itself (and is OpenMP-parallel inside) */
        if (km_layer_vectors(kf->lay, s->utt, s->off, s->nutt, s->x)) return -1;
        if (s->norm) km_feat_norm(kf, s->x, s->n);
        return 1;
    }
#pragma omp parallel for schedule(dynamic)
    for (int j = 0; j < s->nutt; j++) {
        int t0 = s->off[j], T = s->off[j + 1] - t0;
        float *x = s->x + (size_t)t0 * kf->dim;
        km_feat_raw(kf, s->raw + (size_t)S * t0 * nm, S * T, x);
        if (s->norm) km_feat_norm(kf, x, T);
    }
    return 1;
}
