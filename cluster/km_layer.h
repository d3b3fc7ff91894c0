/* Token vectors from a hidden layer of a pretraining checkpoint (`avmask kmeans
 * --source=layer`, HuBERT's iterations >= 2): the model runs on whole utterances through the
 * pretraining loader (its CMVN, the training features' cmvn.h5 named in the checkpoint),
 * with the video for an AV model (AV-HuBERT: the labels then carry the video's information;
 * or with it dropped, what the exported audio branch computes),
 * no masking, no dropout, in batches of at most batch_tokens padded tokens. Layers are
 * numbered as avmodel_layer_forward: 0 embeddings, 1..La audio encoder, La+1..La+Lf fusion. */
#ifndef AVMASK_KM_LAYER_H
#define AVMASK_KM_LAYER_H
#include "cluster/km_feats.h"
#include "models/avmodel.h"
#include "train/batch.h"

typedef struct km_layer {
    avm_model m;
    avm_loader L;
    avm_batch_data bd;
    int layer, av;         /* av: the video is read and enters (an AV model, not no_video) */
    int no_video;          /* an AV model run with its video dropped (the exported branch) */
    long batch_tokens;
    char crc[9];           /* CRC-32 of the checkpoint's parameters (its checksum_params) */
    char *extract;         /* the checkpoint's training features' extraction config (JSON) */
    int *ord;              /* scratch: a block's utterances by length */
    float *h;              /* scratch: [batch_tokens, d] */
} km_layer;

/* Loads the checkpoint's model, checks the layer, and opens feats for it (no_video: an AV
 * model's video is dropped, as in its exported audio branch; feats need no video then): refused (-1 +
 * avm_fail, one line naming both) when feats' feature configuration differs from the
 * checkpoint's training features, lacks video for an AV model, or holds an utterance longer
 * than the model's max_len (its layer vectors would need the whole utterance). */
int  km_layer_open(km_layer *k, const char *ckpt, int layer, int no_video, const char *feats, long batch_tokens);
/* Vectors of utterances utt[0..n) (index rows) into x: utterance j at rows off[j]..off[j+1]
 * (d per row). Batches are formed within the list, by length. 0 or -1 + avm_fail. */
int  km_layer_vectors(km_layer *k, const int *utt, const int *off, int n, float *x);
void km_layer_close(km_layer *k);
/* Makes kf (source layer) draw its vectors from k: a fit records ckpt (absolute), the CRC,
 * the layer and d in kf; an apply (kf->ckpt already set, from the codebook) checks that
 * the checkpoint is the one the codebook was fitted on. 0 or -1 + avm_fail. */
int  km_layer_feat(km_layer *k, km_feat *kf, const char *ckpt);
#endif
