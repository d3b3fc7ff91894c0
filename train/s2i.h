/* `avmask s2i`: spoken language understanding, signal to interpretation (S2I; Agrawal et al.,
 * "Tie your embeddings down", arXiv 2011.09044): an exported audio encoder (or a fresh one)
 * maps an utterance to an embedding from which its intent is classified, with no transcript
 * at run time; in training only, a cross-modal loss can pull that embedding toward the
 * frozen text embedding of its transcript (avmask textlm, the stand-in for BERT).
 *   encoder -> masked mean over time [d] -> projection (s2i.proj) -> embedding [e]
 *           -> linear (s2i.cls) -> intent logits [K], softmax cross-entropy
 *   + weight x xmodal(embedding, text embedding), xmodal none | l2 | triplet | infonce
 * A task of the shared training loop (train/trainer.h), on fine-tuning's options and
 * encoder (train/finetune.h). The pieces:
 *   s2i.c         the option table, setup and the command
 *   s2i_model.c   the head, forward and backward of a batch, the model directory
 *   s2i_xmodal.c  the cross-modal losses
 *   s2i_data.c    intents, the labelled fraction, transcripts and their text embeddings,
 *                 the text embeddings of a global batch
 *   s2i_task.c    the task: one step, validation, logs, model-best/ and model/, --resume checks
 * A model directory (OUT/model, OUT/model-best; `avmask decode` reads it):
 *   config.json, audio_encoder.h5, model.safetensors   the tuned encoder (train/export.h)
 *   s2i_head.h5    s2i.proj.weight [e, d], .bias [e], s2i.cls.weight [K, e], .bias [K]
 *   intents.txt    the intents, in the classifier's order ("<intent> [<class>]", data/slu.h)
 *   s2i.json       {"format": "avmask-s2i-1", "intents": K, "embed_dim": e, "pooling": "mean"} */
#ifndef AVMASK_S2I_H
#define AVMASK_S2I_H
#include <stdint.h>
#include "data/slu.h"
#include "train/finetune.h"
#include "train/textlm.h"

#define S2I_FORMAT "avmask-s2i-1"
#define S2I_HEAD_FORMAT "avmask-s2i-head-1"

typedef enum { XM_NONE = 0, XM_L2, XM_TRIPLET, XM_INFONCE } s2i_xmodal_kind;

/* The options (s2i.c's table fills them); ft holds what fine-tuning shares. */
typedef struct {
    ft_opts ft;
    const char *intents, *text_model, *xmodal_name;
    int xmodal;                 /* s2i_xmodal_kind */
    int negative;               /* 0 sampled, 1 hardest (--xmodal-negative) */
    double xweight, margin, tau, label_fraction;
    long embed_dim;
} s2i_opts;

/* The head: projection d -> e and classifier e -> K, one parameter buffer. */
typedef struct {
    avm_params p;
    int d, e, K;
    size_t pw, pb, cw, cb;      /* offsets of the views */
} s2i_head;

/* The cross-modal loss's settings. */
typedef struct {
    int kind;                   /* s2i_xmodal_kind */
    float weight, margin, tau;
    int sampled;                /* triplet: a random text of another intent as the negative */
} s2i_xopts;

/* What this rank's slice of a global batch is trained toward. */
typedef struct {
    const int32_t *y;           /* [B] intents */
    const int32_t *pos;         /* [B] the row of each sample's transcript in pool */
    const float *pool;          /* [P, e] the text embeddings of the global batch's distinct
                                 * transcripts (NULL without xmodal) */
    const int *pool_cls;        /* [P] the intent of each */
    const int *neg;             /* [B] the pool row of each sample's triplet negative (-1: none);
                                 * NULL: the hardest (closest text of another intent) */
    int P;
    double denom;               /* samples of the global batch: each loss is a mean over them */
} s2i_target;

/* The cross-modal loss's workspace (s2i_xmodal.c). */
typedef struct {
    float *rows, *an, *pn, *anorm, *pnorm, *dpos, *dneg, *sim;
    int *neg, *cls;
    size_t cap[11];           /* [8] unused */
} s2i_xws;

typedef struct {
    avm_model enc;
    json_value *config;         /* the encoder's config.json */
    s2i_head head;
    avm_intents intents;
    /* the last forward: pooled [B, d], emb [B, e], logits [B, K]; workspace */
    float *enc_out, *pooled, *emb, *logits, *probs, *demb, *dx, *dpooled, *denc;
    uint8_t *pad;
    size_t cap[10];
    s2i_xws xw;
} s2i_model;

/* s2i_model.c */
/* Projection weight and classifier weight normal(0, 0.02) from seed, biases 0. */
void s2i_head_init(s2i_head *h, int d, int e, int K, uint64_t seed);
void s2i_head_free(s2i_head *h);
/* Encoder, pooling, projection, classifier on a batch, for validation and decoding:
 * m->pooled, m->emb, m->logits. The encoder runs its inference forward (the training
 * forward's values without dropout, bit for bit; nothing kept for a backward, so the
 * training workspace is not allocated). -1 + avm_fail. */
int  s2i_forward(s2i_model *m, const avm_batch_data *d);
/* Forward, the cross-entropy of the intents plus x->weight times the cross-modal loss, each
 * a sum over this slice divided by t->denom, and the backward: zeroes and fills the head's
 * gradient and, unless frozen, the encoder's. Returns this slice's share of the loss (NAN +
 * avm_fail); *ce, *xm its two parts (xm unweighted), *correct the samples whose arg-max is their intent
 * (any may be NULL). */
double s2i_train_loss(s2i_model *m, const avm_batch_data *d, const s2i_target *t, const s2i_xopts *x, int frozen,
                      avm_rng *rng, double *ce, double *xm, int *correct);
/* The model directory: save (config_json: the encoder's config.json text) and load. */
int  s2i_save(const s2i_model *m, const char *dir, const char *config_json);
int  s2i_load(s2i_model *m, const char *dir);
/* 1 if dir holds an S2I model (s2i.json), 0 otherwise. */
int  s2i_is_model(const char *dir);
void s2i_free(s2i_model *m);

/* s2i_xmodal.c */
/* The cross-modal loss of emb [B, e] toward t (sum over the slice / t->denom, unweighted);
 * demb [B, e] receives x->weight times its gradient (overwritten). none: 0. Triplet: L2-normalised rows,
 * the positive the sample's own transcript, the negative the text of another intent closest
 * to the embedding among the pool (models/ops.h); InfoNCE: cosine / tau against every pool
 * row, the own transcript the class; L2: the squared difference summed over dimensions,
 * divided by e. */
double s2i_xmodal(s2i_xws *w, const s2i_xopts *x, const float *emb, int B, int e, const s2i_target *t, float *demb);
/* Mean cosine between rows of a and b [n, e] added to *sum (n terms). */
void   s2i_cosines(const float *a, const float *b, int n, int e, double *sum);
void   s2i_xws_free(s2i_xws *w);
int    s2i_xmodal_parse(const char *name, int *kind);   /* -1 + avm_fail */
extern const char *const s2i_xmodal_names[4];

/* s2i_data.c */
/* The labels of a feature dir: intents, and with a text model the frozen text embeddings
 * of the transcripts (distinct transcripts once each). */
typedef struct {
    int n;                      /* utterances of the feature dir (index rows) */
    int32_t *y;                 /* [n] intent of each */
    int *sent;                  /* [n] its transcript among the distinct ones (-1: no text model) */
    int nsent, e;               /* distinct (transcript, intent) pairs; embedding size */
    float *temb;                /* [nsent, e] their text embeddings, NULL without a text model */
    int *scls;                  /* [nsent] their intents */
    avm_text_counts counts;     /* the transcripts' words (over utterances), <unk>, cut */
    int max_len;                /* the text encoder's */
    char *text_path;            /* DATA/text (NULL without a text model) */
    uint8_t *use;               /* [n] the labelled fraction (NULL: every utterance) */
    int nused;
    uint32_t crc;               /* CRC-32 of '<utt-id> <intent index> <transcript>\n' of every
                                 * index row in order (without text: '<utt-id> <intent index>') */
} s2i_labels;

/* Reads DATA/intent (and, with a text model tm, DATA/text: transcripts embedded with
 * tl_embed_sentences, words outside its vocabulary counted) for the index rows of f. Dies
 * with one line naming the file. */
void s2i_labels_read(s2i_labels *lb, const avm_feats *f, const char *data, const avm_intents *in, avm_textenc *tm,
                     const avm_vocab *v);
/* The log line of the transcripts' counts (what: "training", "validation"); none without text. */
void s2i_labels_log(const s2i_labels *lb, const char *what);
/* Keeps a fraction of the utterances, stratified by intent: of an intent's n_k utterances
 * max(1, round(fraction n_k)), drawn by (seed, intent); lb->use, lb->nused. */
void s2i_labels_subset(s2i_labels *lb, int K, double fraction, uint64_t seed);
void s2i_labels_free(s2i_labels *lb);
/* The targets of this rank's slice d of the global batch whose index rows are g[0..gn):
 * intents, and with text embeddings the pool of the batch's distinct transcripts (in order
 * of first appearance) and each sample's row in it. Buffers in *buf (free with
 * s2i_tbuf_free). */
typedef struct { int32_t *y, *pos; int *cls, *map, *neg; float *pool; size_t cap[6]; } s2i_tbuf;
void s2i_target_make(s2i_target *t, s2i_tbuf *buf, const s2i_labels *lb, const avm_batch_data *d, const int *g,
                     int gn);
/* Sampled triplet negatives: for each sample a pool row of another intent drawn uniformly,
 * keyed by (seed, step, the sample's place in the global batch); t->neg. */
void s2i_target_negatives(s2i_target *t, s2i_tbuf *buf, const avm_batch_data *d, uint64_t seed, long step);
void s2i_tbuf_free(s2i_tbuf *b);

/* The command's state. */
typedef struct {
    avm_trainer t;
    avm_opts o;                 /* owns the option strings f points to */
    s2i_opts f;
    avm_config cfg;             /* a fresh encoder's architecture (--init=none) */
    s2i_model m;
    avm_params all;             /* encoder + head, one buffer */
    avm_loader L, VL;
    s2i_labels lb, vlb;
    s2i_tbuf tb;
    s2i_xopts x;
    char *init, *run_json, *modeldir, *bestdir;
    int stack;
    double ce, xm, acc;         /* the last step's figures */
} s2i_run;

/* s2i_task.c */
/* The run configuration stored in checkpoints: the encoder and the S2I options, with the
 * data and text fingerprints --resume compares. */
char *s2i_run_config(const s2i_run *r);
extern const avm_task_ops s2i_task_ops;
#endif
