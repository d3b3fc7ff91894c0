/* Feature shards: the HDF5 files `extract` writes and `pretrain`/`finetune` read
 * (layout in docs/formats.md). A shard holds many utterances, ragged arrays
 * concatenated with offsets:
 *   /audio/fbank   float32 [frames, n_mels]      /audio/offsets int64 [n+1]
 *   /video/frames  uint8   [frames, H, W]        /video/offsets int64 [n+1]  (absent: audio-only)
 *   /utt_ids       variable-length strings [n]
 *   /failed        variable-length strings "<utt-id> <path> <reason>" (utterances skipped)
 *   /cmvn/sum, /cmvn/sumsq float64 [n_mels]; /cmvn/count, pix_sum, pix_sumsq, pix_count scalars
 *   attributes on "/": config (JSON of the feature configuration), avmask_version.
 * A feature directory holds shard-NNNNN.h5, index.tsv, cmvn.h5, extract.log, extract.err. */
#ifndef AVMASK_SHARD_H
#define AVMASK_SHARD_H
#include <stdint.h>
#include "common/strbuf.h"
#include "data/fbank.h"

/* ---- writing ---- */
typedef struct avm_shard_writer avm_shard_writer;
/* Writes to path + ".tmp"; shard_writer_close renames it to path when complete.
 * has_video = 0 makes an audio-only shard. NULL + avm_fail on HDF5 errors. */
avm_shard_writer *shard_writer_open(const char *path, const char *config_json, int n_mels,
                                    int has_video, int height, int width);
int  shard_writer_add(avm_shard_writer *w, const char *utt_id, const float *fbank, int64_t a_frames,
                      const uint8_t *video, int64_t v_frames);
int  shard_writer_close(avm_shard_writer *w);   /* finalises + atomic rename; 0 or -1 */
/* Finalises and closes path + ".tmp" without renaming it: the caller commits it with
 * atomic_rename(path.tmp, path) (e.g. in another thread, while it goes on). 0 or -1. */
int  shard_writer_finish(avm_shard_writer *w);
void shard_writer_abort(avm_shard_writer *w);   /* removes the temporary file */
/* An utterance of this shard that could not be extracted: kept in /failed as
 * "<utt-id> <path> <reason>" so that a resumed run can report it without retrying. */
void shard_writer_add_failure(avm_shard_writer *w, const char *utt_id, const char *path,
                              const char *reason);
/* The writer accumulates CMVN statistics of everything added (group /cmvn). Not
 * thread-safe, like all HDF5 use here (serial HDF5). */

/* ---- a finished shard's summary, for resuming and merging ---- */
typedef struct {
    int n;                  /* utterances */
    char **utt_ids;
    int64_t *a_frames, *v_frames;
    int n_failed;
    char **failed;          /* "<utt-id> <path> <reason>" */
    avm_cmvn_acc stats;     /* sums over the shard (release with shard_meta_free) */
    char *config_json;
    int n_mels, has_video, height, width;
} avm_shard_meta;
int  shard_meta_read(const char *path, avm_shard_meta *m);   /* 0 or -1 + avm_fail */
void shard_meta_free(avm_shard_meta *m);
char *shard_path(const char *dir, int shard);                /* dir/shard-NNNNN.h5; caller frees */

/* ---- reading ---- */
typedef struct {
    char *utt_id;
    int shard;              /* NNNNN of shard-NNNNN.h5 */
    int row;                /* position inside the shard */
    int a_frames, v_frames; /* audio frames (100/s), video frames (25/s); v_frames 0: no video */
} avm_index_entry;

/* index.tsv rows: "<utt-id>\t<shard>\t<row>\t<audio-frames>\t<video-frames>", no header. */
int  index_write(const char *path, const avm_index_entry *e, int n);   /* atomic */
void index_format(avm_strbuf *b, const avm_index_entry *e, int n);   /* index.tsv text */
int  index_read(const char *path, avm_index_entry **e, int *n);
void index_free(avm_index_entry *e, int n);

typedef struct {
    char *dir;
    avm_index_entry *e;
    int n;
    int n_mels, height, width, has_video;   /* from the first shard's datasets */
    char *config_json;                      /* feature configuration attribute */
    int stack;                              /* audio frames per token: the configuration's
                                             * audio_frames_per_video_frame (extract: 100 / fps) */
} avm_feats;

/* Opens a feature dir: reads index.tsv, checks that every shard it names exists, that
 * dims agree and that the configuration records the stacking (every reader of tokens
 * takes it from here). -1 + avm_fail("<file>: <reason>") otherwise. */
int  feats_open(avm_feats *f, const char *dir);
void feats_close(avm_feats *f);

/* Random access to utterances with a small bounded cache of open shard files, so
 * memory does not grow with the corpus. */
typedef struct avm_shard_reader avm_shard_reader;
avm_shard_reader *shard_reader_new(const avm_feats *f, int max_open);
/* Reads utterance i of the index: fbank [a_frames, n_mels], video [v_frames, H, W]
 * (video may be NULL to skip). Buffers are the caller's. 0 or -1 + avm_fail. */
int  shard_reader_get(avm_shard_reader *r, int i, float *fbank, uint8_t *video);
/* Reads fbank frames [start, start + n) of utterance i only, so that a long recording
 * (a noise track) costs memory for the frames used. 0 or -1 + avm_fail (also when the
 * range leaves the utterance). */
int  shard_reader_get_audio(avm_shard_reader *r, int i, int64_t start, int64_t n, float *fbank);
void shard_reader_free(avm_shard_reader *r);
int  shard_reader_open_count(const avm_shard_reader *r);   /* shards open now (<= max_open) */

/* cmvn.h5: /audio/mean, /audio/var float64 [n_mels], /audio/count; /video/mean,
 * /video/std scalars (pixels in [0, 255]). */
typedef struct {
    int dim;
    double *mean, *var;
    double count;
    double pix_mean, pix_std;
} avm_cmvn;
int  cmvn_write(const char *path, const avm_cmvn_acc *acc);   /* atomic */
int  cmvn_read(const char *path, avm_cmvn *c);
void cmvn_free(avm_cmvn *c);
#endif
