#!/usr/bin/python3
"""Data parallelism over MPI ranks vs threads: `mpirun -np N avmask pretrain --threads=1`
against one `avmask pretrain --threads=N` process (and one 1-thread process, the base of
both speed-ups), the same global batch (every rank takes its slice of it), interleaved
A, B, C in the same run. A figure is one fresh run's median step time (the differences of
the cumulative seconds its metrics.jsonl logs at --log-every=1, the first --warmup steps
left out); steps/s, median and min-max over the repeats. A step here is what pretraining
does per step: read the batch from the shards, mask, forward, backward, all-reduce of the
gradient across the ranks (MPI), clip, AdamW. N threads run with the passive wait policy
(avmask's default) and the active one; the better is the reference."""
import argparse
import os
import shutil
import statistics
import subprocess

from benchlib import policy_env, repeats, step_seconds, summary


def run(a, name, threads, ranks, policy):
    out = "run-" + name.replace(" ", "_")
    shutil.rmtree(out, ignore_errors=True)
    env = policy_env(policy)
    cmd = [a.avmask, "pretrain", "--feats=" + a.feats, "--out=" + out, "--model=" + a.model,
           "--batch-tokens=%d" % (a.B * a.T), "--max-len=%d" % a.T, "--max-steps=%d" % (a.warmup + a.steps),
           "--log-every=1", "--save-every=1000000", "--threads=%d" % threads]
    if ranks > 1:
        cmd = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", str(ranks)] + cmd
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode:
        raise SystemExit("%s failed:\n%s" % (" ".join(cmd), r.stderr[-2000:]))
    return 1.0 / step_seconds(os.path.join(out, "metrics.jsonl"), a.warmup)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--avmask", default=os.environ.get("AVMASK", "avmask"))
    ap.add_argument("--feats", required=True, help="utterances of exactly --T tokens")
    ap.add_argument("--model", default="base")
    ap.add_argument("--B", type=int, default=8)
    ap.add_argument("--T", type=int, default=100)
    ap.add_argument("--np", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--steps", type=int, default=int(os.environ.get("STEPS", 5)))
    ap.add_argument("--repeats", type=int, default=repeats())
    a = ap.parse_args()
    n = a.np
    c = [("%d ranks x 1 thread" % n, 1, n, None),
         ("1 process x %d threads, OMP passive" % n, n, 1, None),
         ("1 process x %d threads, OMP active" % n, n, 1, "ACTIVE"),
         ("1 process x 1 thread", 1, 1, None)]
    print("pretrain %s, global batch B=%d x T=%d per modality, %d timed steps per run after %d; ranks started by "
          "mpirun --oversubscribe -np %d (Open MPI's default binding)" % (a.model, a.B, a.T, a.steps, a.warmup, n))
    if a.B % n:
        print("note: B=%d does not split evenly over %d ranks" % (a.B, n))
    for name, t, r, p in c:      # warm-up
        run(a, name, t, r, p)
    res = {name: [] for name, _, _, _ in c}
    for _ in range(a.repeats):
        for name, t, r, p in c:
            res[name].append(run(a, name, t, r, p))
    med = {k: statistics.median(v) for k, v in res.items()}
    for name in res:
        print("%-40s steps/s %s   speed-up over 1 thread %.2fx" % (
            name, summary(res[name]), med[name] / med["1 process x 1 thread"]))
    mpi = c[0][0]
    thr = max(c[1][0], c[2][0], key=med.get)
    print("RESULT pretrain %s B=%d T=%d steps/s, %s vs %s | %s | %s (%s) | %.2fx" % (
        a.model, a.B, a.T, mpi, thr.split(",")[0], summary(res[mpi]), summary(res[thr]),
        thr.split(", ")[1], med[mpi] / med[thr]))


if __name__ == "__main__":
    main()
