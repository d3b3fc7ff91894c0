/* `avmask extract` internals (the command is cmd_extract in extract.c).
 * Shard numbering: shard s holds utterances [s*shard_size, (s+1)*shard_size) of the
 * sorted utterance list, so shard numbers never depend on the number of jobs; job K of
 * N takes shards [(K-1)*S/N, K*S/N) of S (the slices of --nj workers: see slice_bounds).
 * A shard that exists is finished (it is renamed into place only when complete), so
 * resuming means skipping existing shards. */
#ifndef AVMASK_EXTRACT_H
#define AVMASK_EXTRACT_H
#include <stdint.h>
#include "common/commit.h"
#include "data/datadir.h"
#include "data/fbank.h"
#include "data/shard.h"

/* What the forked jobs of --nj share (MAP_SHARED memory): the next slice to claim and the
 * totals the parent shows as one progress line. */
typedef struct {
    _Atomic int next_slice;
    _Atomic long done, failed;    /* utterances finished (also already done) / failed */
    _Atomic long audio_ms;        /* audio extracted in this run */
} extract_shared;

typedef struct {
    const char *data, *out;
    int shard_size;
    int width, height, n_mels;
    double fps;
    int no_video;
    int retry_failed;         /* a finished shard holding failures is extracted again */
    int threads;              /* utterances decoded at once inside one job */
    double max_fail;          /* allowed failures: a count, or a percentage if max_fail_pct */
    int max_fail_pct;
    extract_shared *shared;   /* set in forked --nj jobs: report there, no own progress line */
    const avm_datadir *dir;   /* the data dir as read once by the command; NULL: jobs read it */
    const int *slice_bounds;  /* --nj: job k takes shards slice_bounds[k-1] .. slice_bounds[k]-1;
                               * NULL: job k of n takes shards (k-1)*S/n .. k*S/n-1 (--job) */
    avm_committer *commit;    /* a worker's committer, shared by its jobs, which then return
                               * before their files are on disk; NULL: each job waits */
} extract_cfg;

/* One utterance's aligned features. */
typedef struct {
    float *fbank;             /* [a_frames, n_mels] */
    uint8_t *video;           /* [v_frames, H, W] or NULL */
    int64_t a_frames, v_frames;
    double seconds;           /* decoded audio duration, for the real-time factor */
    char *error;              /* set instead of features when the utterance failed */
} utt_feats;

/* Audio fbank frames per second and per video frame (stacking); fixed by the 10 ms hop. */
#define AUDIO_FPS 100
int  extract_stack(const extract_cfg *c);               /* AUDIO_FPS / fps, or -1 */
char *extract_config_json(const extract_cfg *c, const avm_datadir *d);   /* caller frees */

/* Decodes, computes fbank and aligns one utterance; on failure sets out->error. */
void extract_utt(const extract_cfg *c, const avm_fbank *fb, int has_video, const avm_utt *u, utt_feats *out);
void utt_feats_free(utt_feats *f);

/* Job k (1-based) of n: writes its missing shards, index.K.tsv, extract.K.err and
 * job.K.json. Returns the number of failed utterances of the slice, or -1 + avm_fail. */
int  extract_job(const extract_cfg *c, int k, int n, int *n_utts);

/* Joins the jobs' partial files into index.tsv, extract.err and cmvn.h5. nj = 0: take
 * N from the job.K.json files. Sets the totals; 0, or -1 + avm_fail. */
int  extract_merge(const char *out, int nj, int *n_utts, int *n_failed);

/* 1 if failures exceed the --max-fail limit for n utterances. */
int  extract_too_many(const extract_cfg *c, int failed, int n);
#endif
