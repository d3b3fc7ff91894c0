/* Decoding of the model kinds that are not plain CTC or S2I, called by avmask decode
 * (decode.c), and what the menu decoders share (decode_menu.c). */
#ifndef AVMASK_DECODE_H
#define AVMASK_DECODE_H
#include "data/slu.h"
#include "train/asr.h"

/* A TinyS2I model dir (train/tinys2i.h): decisions, commands and menu titles of every
 * utterance of feats into out/ (decode_tinys2i.c), a command or play decision of confidence
 * below defer_below deferred; menu is required. Dies with one line on bad input; returns 0. */
int decode_tinys2i(const char *model, const char *feats, const char *out, const char *menu, double defer_below,
                   int threads);

/* The CTC baseline of TinyS2I (decode_ctcmenu.c, eval/ctcmenu.h): a CTC model's transcript of
 * every utterance turned into TinyS2I's decision by the nearest transcript of the data dir
 * intents_from (text, intent, slots; classes from the intent list intents) and the menu
 * title of least normalised character edit distance; the same outputs as decode_tinys2i
 * plus OUT/text. transcripts (NULL: the model's) replaces the model's transcripts (an
 * oracle with the references). Dies with one line
 * on bad input; returns 0. */
typedef struct {
    const char *model, *feats, *out, *menu, *intents_from, *intents, *transcripts;
    int query, threads;          /* query: 0 rest, 1 whole (cm_query) */
} ctcmenu_args;
int decode_ctcmenu(const ctcmenu_args *a);

/* decode.c: greedy CTC transcripts of the batch d (after asr_forward) into hyp[d->utt[i]];
 * ids has room for max_len + 1 units. */
void decode_ctc_batch(avm_asr *a, const avm_batch_data *d, int *ids, char **hyp);

/* decode_menu.c. Each menu line's utterance must be one of the features; dies naming the
 * menu file and line. */
void decode_menus_check(const avm_menus *mn, const char *path, const avm_feats *f);

/* What decode.json records of a menu decoder. */
typedef struct {
    const char *decoder;          /* "tinys2i" | "ctc+menu" */
    const char *model, *menu, *sys;
    int threads;
    double ms;                    /* milliseconds per utterance */
    const char *part[4];          /* parameter groups (NULL-ended) and their counts */
    size_t count[4];
    const char *file[4];          /* the model dir's parameter files (NULL-ended) */
    const char *extra_key, *extra; /* one more string field (NULL: none) */
    const double *conf;           /* per feature row: the decision's confidence (NULL: none) */
    double defer_below;           /* with conf: the deferral threshold */
} decode_stats;

/* OUT/hyp ('<utt-id> <hyp>' of every feature row, "defer" where hyp is NULL), OUT/title_rank
 * (the rows with a rank), with st->conf OUT/confidence ('<utt-id> <p>') and OUT/decode.json:
 * decoder, model, menu, [defer_below,] utterances, threads, system, ms_per_utterance,
 * parameters {groups..., total}, parameter_bytes (float32), file_bytes. Dies with one line. */
void decode_menu_write(const char *out, const avm_feats *f, char **hyp, char **rank, const decode_stats *st);
#endif
