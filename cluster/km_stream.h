/* Streams token vectors of a feature dir in blocks of about `cap` tokens, utterance by
 * utterance in index order, so memory depends on the block size and never on the corpus.
 * HDF5 reads are serial (serial HDF5); the vectors of a block's utterances are computed in
 * parallel (OpenMP); layer vectors (kf->lay) by the model, batched within the block. */
#ifndef AVMASK_KM_STREAM_H
#define AVMASK_KM_STREAM_H
#include "cluster/km_feats.h"
#include "data/shard.h"

typedef struct {
    const avm_feats *fe;
    const km_feat *kf;
    avm_shard_reader *rd;
    int next, end;          /* utterances [next, end) still to read */
    int norm;               /* apply km_feat_norm to the vectors */
    int cap;                /* tokens per block (grows to hold one long utterance) */
    float *raw, *x;         /* fbank frames [4 * cap, n_mels], vectors [cap, dim] */
    int n;                  /* tokens in the current block */
    int nutt, utt_cap;
    int *utt, *off;         /* block utterances (index of fe) and their first token [nutt + 1] */
} km_stream;

/* Utterances [begin, end) of fe; norm = 1 normalises (kf must then have mean/std). */
void km_stream_init(km_stream *s, const avm_feats *fe, const km_feat *kf, int begin, int end, int cap, int norm);
/* Next block into s->x (s->n tokens); 1, 0 at the end, or -1 + avm_fail (bad utterance). */
int  km_stream_next(km_stream *s);
void km_stream_free(km_stream *s);
/* Tokens of utterance i (audio frames / 4); -1 + avm_fail if frames are not whole tokens. */
int  km_utt_tokens(const avm_feats *fe, int i);
#endif
