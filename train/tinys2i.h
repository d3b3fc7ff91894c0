/* `avmask tinys2i`: TinyS2I (Alexandridis et al., ICASSP 2022), a very small on-device model
 * for the most frequent commands (docs/slu.md "TinyS2I"):
 *   tiny audio encoder -> masked mean over time [d] -> projection (tiny.proj) -> embedding [e]
 *     -> tiny.cls [3]: the decision command | title | other (deferred), softmax cross-entropy
 *     -> tiny.cmd [Kc]: the fixed command among the intents of class `command`, cross-entropy
 *        on command utterances only
 *     -> title: cosine against the title encoder's embeddings of the titles on the menu
 *   title encoder: models/textenc.h at a small size (fresh, or an avmask textlm model dir),
 *   trained jointly: weight x FaceNet's triplet on unit vectors, anchor the acoustic embedding
 *   of a title utterance, positive its title's text embedding, negative the text embedding
 *   of another title of the global batch drawn at random (keyed by seed, step and sample).
 *   loss = CE3 / N + CEcmd / Ncmd + weight x triplet / Ntitle (N*: counts of the global batch)
 * Decision rule (decode): the arg-max of tiny.cls; command -> the arg-max of tiny.cmd;
 * title -> the menu title of highest cosine; other -> defer.
 * The pieces:
 *   tinys2i.c        the option table, setup and the command
 *   tinys2i_model.c  the head, forward, loss and backward of a batch
 *   tinys2i_dir.c    the model directory: save, load, parameter counts
 *   tinys2i_data.c   labels (class, command, title of every utterance) and batch targets
 *   tinys2i_task.c   the task of the shared loop: step, validation, logs, --resume checks
 * A model directory (OUT/model, OUT/model-best; `avmask decode --menu=FILE` reads it):
 *   config.json, audio_encoder.h5, model.safetensors   the tuned encoder (train/export.h)
 *   tinys2i_head.h5  tiny.proj.weight [e, d], .bias, tiny.cls.weight [3, e], .bias,
 *                    tiny.cmd.weight [Kc, e], .bias
 *   title_encoder/   an avmask textlm model dir (text_encoder.h5, vocab.txt, config.json)
 *   intents.txt      the intents with their classes (data/slu.h)
 *   tinys2i.json     {"format": "avmask-tinys2i-1", "embed_dim", "commands", "title_units"
 *                    ("word" or "char"; "word" when absent), "parameters": {"audio_encoder",
 *                    "head", "title_encoder", "total"}} */
#ifndef AVMASK_TINYS2I_H
#define AVMASK_TINYS2I_H
#include <stdint.h>
#include "data/slu.h"
#include "train/finetune.h"
#include "train/textlm.h"

#define TS_FORMAT "avmask-tinys2i-1"
#define TS_HEAD_FORMAT "avmask-tinys2i-head-1"

enum { TS_COMMAND = 0, TS_TITLE = 1, TS_OTHER = 2, TS_CLASSES = 3 };
extern const char *const ts_class_names[TS_CLASSES];

typedef struct {
    ft_opts ft;
    const char *intents, *text_model;
    long embed_dim, text_ffn, text_heads, text_layers;
    int title_chars;            /* --title-units: 0 word, 1 char */
    double weight, margin;
} ts_opts;

typedef struct {
    avm_params p;
    int d, e, Kc;
    size_t pw, pb, cw, cb, kw, kb;
} ts_head;

/* What this rank's slice of a global batch is trained toward. */
typedef struct {
    const int32_t *cls;         /* [B] 0 command, 1 title, 2 other */
    const int32_t *cmd;         /* [B] the command index (-1: not a command) */
    const int *pos;             /* [B] the pool row of a title utterance's title (-1: none) */
    const int *neg;             /* [B] the pool row of its negative (-1: no triplet term) */
    const int32_t *ids;         /* [P * T] the pool's titles, token ids (<pad> past len) */
    const int *len;             /* [P] */
    int P, T;                   /* distinct titles of the global batch; their longest */
    double n, ncmd, ntitle;     /* counts of the global batch: each loss is a mean over them */
} ts_target;

typedef struct {
    avm_model enc;
    json_value *config;         /* the encoder's config.json */
    ts_head head;
    avm_textenc tenc;           /* the title encoder (no MLM head) */
    avm_vocab vocab;            /* its vocabulary */
    int title_chars;            /* 1: the title encoder reads characters (ts_title_text) */
    avm_intents intents;
    int *cmd_intent;            /* [Kc] command index -> intent index */
    /* the last forward and workspace */
    float *enc_out, *pooled, *emb, *lcls, *lcmd, *pcls, *pcmd, *demb, *dpooled, *denc;
    float *anc, *pos, *dpos, *an, *pn, *anorm, *pnorm, *dp, *dn, *tpool, *dtpool;
    int *neg, *arow;
    uint8_t *pad;
    size_t cap[24];
} ts_model;

/* tinys2i_model.c */
void ts_head_init(ts_head *h, int d, int e, int Kc, uint64_t seed);
void ts_head_free(ts_head *h);
/* Encoder, pooling, projection, both heads on a batch, for validation and decoding:
 * m->emb, m->lcls, m->lcmd. The encoder runs its inference forward (the training forward's
 * values without dropout, bit for bit; nothing kept for a backward). -1 + avm_fail. */
int  ts_forward(ts_model *m, const avm_batch_data *d);
/* Forward, the three losses (each a sum over the slice / its global count), backward into
 * the head's, the title encoder's and (unless frozen) the audio encoder's gradients (zeroed
 * first). Returns this slice's loss (NAN + avm_fail); part[3]: the unweighted parts;
 * hits[3]: decisions right, commands right (of command utterances), title closer to its
 * positive than to its negative (any may be NULL). */
double ts_train_loss(ts_model *m, const avm_batch_data *d, const ts_target *t, float weight, float margin,
                     int frozen, avm_rng *rng, double part[3], int hits[3]);
/* The title encoder's unit-length embeddings of n encoded titles into out [n, e] (no
 * dropout). -1 + avm_fail. */
int  ts_embed_titles(ts_model *m, int32_t *const *ids, const int *len, int n, float *out);
/* Cosine of emb row i (unit vectors out of ts_embed_titles) against n unit rows: the index
 * of the best (the first of equals). */
int  ts_best_title(const float *emb, int e, const float *titles, int n);
void ts_free(ts_model *m);

/* tinys2i_dir.c */
int  ts_save(const ts_model *m, const char *dir, const char *config_json);
int  ts_load(ts_model *m, const char *dir);
int  ts_is_model(const char *dir);
/* The command indices of the intents of class command (m->cmd_intent, head Kc); -1 +
 * avm_fail naming path if the list has no command or a class other than the three. */
int  ts_commands(ts_model *m, const char *path);
/* Parameters (values of the views, no padding): audio encoder, head, title encoder. */
void ts_param_counts(const ts_model *m, size_t c[3]);

/* tinys2i_data.c */
typedef struct {
    int n;                      /* utterances of the feature dir (index rows) */
    int32_t *cls, *cmd;         /* [n] */
    int *title;                 /* [n] index into titles (-1: not a title utterance) */
    avm_textset titles;         /* the distinct titles, encoded with the title vocabulary */
    uint32_t crc;               /* CRC-32 of '<utt-id> <intent> <title>\n' of every row */
    int count[TS_CLASSES];
} ts_labels;

/* A title as the title encoder reads it: as it is (words), or with chars, one token per
 * character (a UTF-8 sequence stays whole) and '|' between words: "red fox" -> "r e d | f o x",
 * so that a title of words never seen in training is still made of known tokens. Caller frees. */
char *ts_title_text(const char *title, int chars);
/* DATA/intent and the titles of DATA/slots ('title=...') of the index rows of f (the titles
 * not yet encoded: textset_encode with the title vocabulary); dies with one line naming the
 * file. Needs m's intents and commands (ts_commands, head.Kc). */
void ts_labels_read(ts_labels *lb, const avm_feats *f, const char *data, const ts_model *m);
void ts_labels_free(ts_labels *lb);
typedef struct { int32_t *cls, *cmd, *ids; int *pos, *neg, *len, *map; size_t cap[8]; } ts_tbuf;
/* The targets of this rank's slice d of the global batch of index rows g[0..gn): classes,
 * commands, the pool of distinct titles, and sampled negatives keyed by (seed, step, sample). */
void ts_target_make(ts_target *t, ts_tbuf *b, const ts_labels *lb, const avm_batch_data *d, const int *g, int gn,
                    uint64_t seed, long step);
void ts_tbuf_free(ts_tbuf *b);

typedef struct {
    avm_trainer t;
    avm_opts o;
    ts_opts f;
    avm_config cfg;
    ts_model m;
    avm_params all;             /* audio encoder + head + title encoder, one buffer */
    avm_loader L, VL;
    ts_labels lb, vlb;
    ts_tbuf tb;
    char *init, *run_json, *modeldir, *bestdir;
    int stack;
    double part[3], acc[3];     /* the last step's figures */
} ts_run;

/* tinys2i_task.c */
char *ts_run_config(const ts_run *r);
extern const avm_task_ops ts_task_ops;
#endif
