/* The vectors k-means clusters: one per token, computed from an utterance's fbank frames
 * (`stack` per token: the feature dir's, 4 at 25 Hz). Sources:
 *   fbank: the stacked log-mel frames (stack * n_mels), normalised by the codebook's
 *          statistics (the training feature dir's cmvn.h5, as pretraining normalises).
 *   mfcc:  HuBERT's iteration-1 features on our frames: 13 cepstra (orthonormal DCT-II of
 *          the log-mel frame, Kaldi's lifter 22, as torchaudio.compliance.kaldi.mfcc with
 *          use_energy=False) + deltas + delta-deltas (torchaudio compute_deltas, window 5,
 *          edges replicated) per 10 ms frame over the utterance, the mean of a token's
 *          frames (39 dims), then standardised per dimension with training statistics.
 *   layer: the hidden state of one layer of a pretraining checkpoint's model at the token
 *          (d dims; HuBERT's iteration >= 2), computed by km_layer.h with the video present
 *          for an AV model (or dropped: no_video), standardised like mfcc.
 * The raw token vector comes first (km_feat_raw), the normalisation (x - mean) / std second,
 * so that the statistics can be measured on raw vectors in the fitting pass. */
#ifndef AVMASK_KM_FEATS_H
#define AVMASK_KM_FEATS_H
#include <stddef.h>

#define KM_NCEPS 13
#define KM_LIFTER 22.0
#define KM_MFCC_DIM (3 * KM_NCEPS)

typedef enum { KM_SRC_FBANK, KM_SRC_MFCC, KM_SRC_LAYER } km_source;
struct km_layer;

typedef struct {
    km_source src;
    int n_mels, stack, dim;   /* stack: fbank frames per token */
    float *dct;            /* [n_mels, KM_NCEPS]: DCT-II columns times the lifter */
    double *mean, *std;    /* [dim]; NULL until known (km_feat_set_norm) */
    /* layer: which checkpoint (absolute path, CRC-32 of its parameters) and layer; dim is
     * the model's d (set by the caller); lay computes the vectors (NULL until opened) */
    char *ckpt;
    char crc[9];
    int layer;
    int no_video;          /* layer: an AV model's video dropped (the exported branch's features) */
    struct km_layer *lay;
} km_feat;

int  km_source_parse(const char *s, km_source *src);   /* 0, or -1 + avm_fail */
const char *km_source_name(km_source src);
void km_feat_init(km_feat *f, km_source src, int n_mels, int stack);
/* Copies the per-dimension mean and std (a std below 1e-6 counts as 1e-6). */
void km_feat_set_norm(km_feat *f, const double *mean, const double *std);
void km_feat_free(km_feat *f);
/* What km_hash names the source by: the source's name; for layer also the checkpoint's
 * CRC and the layer ("layer:1a2b3c4d:3", then ":novideo" if the video was dropped), so that
 * another model, layer or video condition is another codebook. */
void km_feat_hash_name(const km_feat *f, char *out, size_t cap);
/* layer: "dropped" (no_video) or "used" (the video enters an AV model; none enters an
 * audio-only one), as the codebook's video attribute and labels.json say. */
const char *km_video_name(const km_feat *f);

/* Per-frame cepstra with deltas: fbank [frames, n_mels] -> out [frames, 39]. */
void km_mfcc_frames(const km_feat *f, const float *fbank, int frames, float *out);
/* Raw token vectors [frames / stack, dim] of one utterance (frames a multiple of stack). */
void km_feat_raw(const km_feat *f, const float *fbank, int frames, float *out);
/* (x - mean) / std on n rows, in place. */
void km_feat_norm(const km_feat *f, float *x, int n);
#endif
