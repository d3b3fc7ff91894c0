/* `avmask extract`: media files of a data dir -> feature shards (docs/formats.md).
 * --nj=N forks N workers that claim slices of the shards (contiguous shard ranges, each
 * written like a --job) until none is left, then merges. The parent forks before it has
 * decoded anything, opened an HDF5 file or started an OpenMP thread, so every worker
 * starts clean, without paying the start-up of the binary (~0.1 s to load its ~170 shared
 * libraries) again. */
#include "data/extract.h"
#include "common/log.h"
#include "common/opts.h"
#include "common/progress.h"
#include "common/util.h"
#include <errno.h>
#include <glob.h>
#include <malloc.h>
#include <omp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXIT_TOO_MANY 3   /* a job finished but with more failures than --max-fail */

/* The options: the extraction configuration and what cmd_extract reads further. */
typedef struct {
    extract_cfg c;
    const char *job, *max_fail;
    int merge, nj;
} extract_args;

/* modes: extract (0), --merge (1) */
#define F(f) OPT_FIELD(extract_args, f)
static const avm_optdef table[] = {
    {OPT_STR, "data", F(c.data), .meta = "DIR", .flags = OPT_REQ, .modes = 1,
     .help = "data dir: media.scp or wav.scp [segments] [crops]"},
    {OPT_STR, "out", F(c.out), .meta = "FEATS", .flags = OPT_REQ,
     .help = "feature dir (created; rerunning resumes: finished shards are kept)"},
    {OPT_INT, "nj", F(nj), .lo = 0, .hi = 1000, .meta = "N",
     .help = "run N jobs on this machine, then merge (default 1); jobs split by\n"
             "shards, so with fewer shards than N each job decodes N/jobs at once;\n"
             "with --merge: the jobs to merge (default: found from the job files)"},
    {OPT_STR, "job", F(job), .meta = "K/N", .modes = 1,
     .help = "extract only job K of N (cluster array jobs; overrides --nj); then run --merge"},
    {OPT_FLAG, "merge", F(merge),
     .help = "join the jobs' index.K.tsv, extract.K.err into index.tsv, extract.err, cmvn.h5"},
    {OPT_INT, "shard-size", F(c.shard_size), .def = "2000", .lo = 1, .hi = 10000000,
     .help = "utterances per shard (shard s = utterances s*size .. (s+1)*size-1)"},
    {OPT_INT, "width", F(c.width), .def = "32", .lo = 1, .hi = 4096, .help = "video frame width"},
    {OPT_INT, "height", F(c.height), .def = "32", .lo = 1, .hi = 4096, .help = "video frame height"},
    {OPT_NUM, "fps", F(c.fps), .def = "25", .help = "video frame rate (100/fps audio frames per frame)"},
    {OPT_INT, "n-mels", F(c.n_mels), .def = "80", .lo = 1, .hi = 1024, .help = "mel bins"},
    {OPT_FLAG, "no-video", F(c.no_video), .help = "audio-only shards (also implied by wav.scp)"},
    {OPT_STR, "max-fail", F(max_fail), .def = "5%",
     .help = "failures allowed before the command exits non-zero: a count or a percentage"},
    {OPT_FLAG, "retry-failed", F(c.retry_failed),
     .help = "on a rerun, extract again the finished shards that hold failed\n"
             "utterances (after fixing or replacing their files); others are kept"},
    OPT_THREADS("utterances decoded in parallel inside one job (default 1)"),
    {.type = OPT_END},
};

static const avm_optspec extract_optspec = {
    "extract",
    "usage: avmask extract --data=DIR --out=FEATS [options]\n"
    "       avmask extract --merge --out=FEATS [--nj=N] [--max-fail=N|P%]\n"
    "Extracts log-mel fbank and grayscale video frames of every utterance of a Kaldi-style\n"
    "data dir into HDF5 shards, index.tsv and cmvn.h5 (layout: docs/formats.md).\n",
    table, NULL, "extract|merge",
};

static void parse_max_fail(const char *s, extract_cfg *c) {
    char *end;
    c->max_fail = strtod(s, &end);
    c->max_fail_pct = *end == '%';
    if (end == s || (*end && strcmp(end, "%")) || c->max_fail < 0)
        avm_die("extract: --max-fail=%s: expected a count (e.g. 10) or a percentage (e.g. 5%%)", s);
}

static void check_cfg(extract_cfg *c, const char *max_fail) {
    parse_max_fail(max_fail, c);
    if (extract_stack(c) < 0) avm_die("extract: --fps=%g: 100/fps must be a whole number of audio frames", c->fps);
    avm_fbank_opts fo;   /* refuse impossible fbank options here, once, not in every job */
    fbank_default_opts(&fo);
    fo.n_mels = c->n_mels;
    avm_fbank *fb = fbank_new(&fo);
    if (!fb) avm_die("extract: --n-mels=%d: %s", c->n_mels, avm_error());
    fbank_free(fb);
}

/* Removes job files of an earlier split so the merge sees only this run's jobs, and the
 * temporary files of a run that was killed (shard-N.h5.tmp, X.tmp.PID). */
static void clear_job_files(const char *out) {
    const char *pats[] = {"job.*.json", "index.*.tsv", "extract.*.err", "*.tmp", "*.tmp.*"};
    for (int p = 0; p < 5; p++) {
        char *pat = path_join(out, pats[p]);
        glob_t g;
        if (glob(pat, 0, NULL, &g) == 0) {
            for (size_t i = 0; i < g.gl_pathc; i++) unlink(g.gl_pathv[i]);
            globfree(&g);
        }
        free(pat);
    }
}

/* Guided slices for --nj workers: each slice takes ceil(left / 2N) of the shards left, so
 * the first slices are large (few job files) and the last ones single shards: a worker
 * that runs out of slices waits for at most one shard of another, even on unequal cores.
 * Returns the number of slices M; slice k (1-based) is shards bounds[k-1] .. bounds[k]-1. */
static int guided_slices(int n_shards, int nj, int **bounds) {
    *bounds = xcalloc(n_shards + 1, sizeof **bounds);
    int m = 0;
    for (int left = n_shards; left > 0; m++) {
        int take = (left + 2 * nj - 1) / (2 * nj);
        (*bounds)[m + 1] = (*bounds)[m] + take;
        left -= take;
    }
    return m;
}

/* A forked worker: claims slices (jobs k of n_slices) one at a time until none is left;
 * exits 0 (failures are judged by the merge) or 1. */
static void worker(extract_cfg c, int n_slices, int threads) {
    if (threads > 0) { c.threads = threads; omp_set_num_threads(threads); }
    c.max_fail = 100;
    c.max_fail_pct = 1;
    c.commit = committer_new();   /* slices go on while the last one's files reach the disk */
    int rc = 0;
    for (int k, utts; !rc && (k = ++c.shared->next_slice) <= n_slices;) {
        rc = extract_job(&c, k, n_slices, &utts) < 0;
        if (rc) avm_warn("extract: job %d/%d: %s", k, n_slices, avm_error());
    }
    if (committer_wait(c.commit) && !rc) {   /* finished shards are kept either way */
        avm_warn("extract: %s", avm_error());
        rc = 1;
    }
    committer_free(c.commit);
    _exit(rc ? 1 : 0);
}

/* nj workers share n_slices slices of the shards: a worker that finishes early takes the
 * next slice, so a slow core or a slice of long files does not hold the others up. The
 * parent draws one progress line for all of them, and wakes the moment the last worker
 * exits: every worker holds the write end of a pipe that nobody writes, so the read end
 * turns readable (EOF) when the last of them is gone. */
static void run_jobs(const extract_cfg *c, int nj, int n_slices, int n_utts, int threads) {
    extract_shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) avm_die("extract: cannot map shared memory for the jobs");
    memset(sh, 0, sizeof *sh);
    int alive[2];
    if (pipe(alive)) avm_die("extract: cannot create a pipe for the jobs");
    extract_cfg wc = *c;
    wc.shared = sh;
    pid_t *pid = xcalloc(nj, sizeof *pid);
    fflush(NULL);   /* nothing buffered may be written twice */
    for (int k = 1; k <= nj; k++) {
        pid[k - 1] = fork();
        if (pid[k - 1] < 0) avm_die("extract: cannot start worker %d: fork failed", k);
        if (pid[k - 1] == 0) { close(alive[0]); worker(wc, n_slices, threads); }
    }
    close(alive[1]);
    avm_progress prog;
    progress_start(&prog, "extract", n_utts);
    struct pollfd pf = {.fd = alive[0], .events = POLLIN};
    for (int r; (r = poll(&pf, 1, 100)) <= 0;) {
        if (r < 0 && errno != EINTR) avm_die("extract: poll failed while waiting for the jobs");
        double t = now_sec() - prog.t0 + 1e-9;
        progress_update(&prog, sh->done, "%.1f files/s, %.1fx real time, %ld failed", sh->done / t,
                        sh->audio_ms / 1000.0 / t, (long)sh->failed);
    }
    close(alive[0]);
    int bad = 0;
    for (int k = 0; k < nj; k++) {
        int st;
        if (waitpid(pid[k], &st, 0) < 0) avm_die("extract: waitpid failed");
        if (!WIFEXITED(st) || WEXITSTATUS(st)) {
            avm_warn("extract: a worker failed (%s %d); rerun to resume", WIFEXITED(st) ? "exit" : "signal",
                     WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
            bad++;
        }
    }
    if (bad)
        progress_end(&prog, "(stopped early: %ld of %d utterances finished)", (long)sh->done, n_utts);
    else
        progress_end(&prog, "(%d utterances in %d slices on %d workers, %.1fx real time)", n_utts, n_slices, nj,
                     sh->audio_ms / 1000.0 / (now_sec() - prog.t0 + 1e-9));
    free(pid);
    munmap(sh, sizeof *sh);
    if (bad) avm_die("extract: %d of %d workers failed; finished shards are kept, rerun to resume", bad, nj);
}

static int do_merge(const extract_cfg *c, int nj) {
    int n, failed;
    if (extract_merge(c->out, nj, &n, &failed)) avm_die("extract: %s", avm_error());
    avm_info("extract: %s: %d utterances, %d extracted, %d failed (see extract.err)", c->out, n, n - failed, failed);
    if (extract_too_many(c, failed, n))
        avm_die("extract: %d of %d utterances failed, more than --max-fail=%g%s allows", failed, n, c->max_fail,
                c->max_fail_pct ? "%" : "");
    return 0;
}

static int do_job(const extract_cfg *c, const char *spec) {
    int k, n;
    char tail;
    if (sscanf(spec, "%d/%d%c", &k, &n, &tail) != 2 || n < 1 || k < 1 || k > n)
        avm_die("extract: --job=%s: expected K/N with 1 <= K <= N", spec);
    int utts, failed = extract_job(c, k, n, &utts);
    if (failed < 0) avm_die("extract: %s", avm_error());
    if (extract_too_many(c, failed, utts)) {
        avm_warn("extract: job %d/%d: %d of %d utterances failed, more than --max-fail allows", k, n, failed, utts);
        return EXIT_TOO_MANY;
    }
    return 0;
}

/* Every file allocates and frees the same large blocks (decoder contexts, frame pools,
 * PCM and frame buffers). glibc serves blocks over 128 KiB with fresh mmaps and returns
 * freed heap tops to the kernel, so each file paid page faults to zero them again (a
 * third of extraction's faults, ~8% of its CPU time). Keeping them in the heap reuses
 * the pages; the process never holds more than its peak. */
static void keep_freed_memory(void) {
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

int cmd_extract(int argc, char **argv) {
    keep_freed_memory();
    avm_opts o;
    extract_args a;
    memset(&a, 0, sizeof a);
    opts_parse(&o, &extract_optspec, &a, argc, argv);
    extract_cfg c = a.c;
    int merge = a.merge, nj = a.nj;
    const char *job = a.job;
    if (!opts_given(&o, "nj")) nj = merge ? 0 : 1;
    else if (!merge && nj < 1) avm_die("extract: --nj=%d is out of range [1, 1000]", nj);
    check_cfg(&c, a.max_fail);
    int user_threads = opts_given(&o, "threads");
    c.threads = user_threads ? opts_threads(&o) : 1;
    omp_set_num_threads(c.threads);
    int n_utts = 0;
    avm_datadir d;   /* read once here: a bad data dir gives one error line, and the jobs
                      * (forked, so they share it) do not parse it again for every slice */
    if (!merge && !job) {
        if (datadir_read(&d, c.data)) avm_die("extract: %s", avm_error());
        n_utts = d.n;
        c.dir = &d;
    }
    if (mkdir_p(c.out)) avm_die("extract: %s", avm_error());
    char *log = path_join(c.out, "extract.log");
    if (avm_log_open(log)) avm_die("extract: %s", avm_error());
    free(log);
    int rc;
    if (merge) {
        rc = do_merge(&c, nj);
    } else if (job) {
        rc = do_job(&c, job);
    } else {
        clear_job_files(c.out);
        /* Jobs split by shards; with fewer shards than --nj, the spare cores decode
         * utterances in parallel inside each job instead (same output either way). */
        int n_shards = (n_utts + c.shard_size - 1) / c.shard_size;
        int jobs = nj <= n_shards ? nj : (n_shards > 0 ? n_shards : 1);
        int per_job = user_threads ? 0 : nj / jobs;
        if (jobs == 1) {
            int utts;
            if (per_job > 1) { c.threads = per_job; omp_set_num_threads(per_job); }
            if (extract_job(&c, 1, 1, &utts) < 0) avm_die("extract: %s", avm_error());
            rc = do_merge(&c, 1);
        } else {
            int *bounds, slices = guided_slices(n_shards, jobs, &bounds);
            c.slice_bounds = bounds;
            run_jobs(&c, jobs, slices, n_utts, per_job > 1 ? per_job : 0);
            rc = do_merge(&c, slices);
            free(bounds);
        }
    }
    if (c.dir) datadir_free(&d);
    avm_log_close();
    opts_free(&o);
    return rc;
}
