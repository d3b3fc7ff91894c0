#!/usr/bin/python3
"""k-means throughput: one pass of avmask's streamed Lloyd (tests/bench/bench_kmeans.c:
assignment via sgemm + centre sums + update, blocks of 8192 rows) vs scikit-learn's
MiniBatchKMeans (HuBERT's clustering: batch 10000, one pass over the data by max_iter=1,
no reassignment) on the same vectors from the same initial centres, same run, interleaved
A, B, A, B. KMeans (Lloyd, one iteration) is printed beside it; its fit also runs a final
assignment, i.e. about two passes. Data: 200k vectors of 39 dims (HuBERT's MFCC size) from
100 Gaussian blobs, k=100. Figures: vectors/s per core (median, min-max of the repeats after
warm-up) at 1 and 2 threads (scikit-learn limited with threadpoolctl: its OpenMP and BLAS)."""
import argparse
import statistics
import subprocess
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits, threadpool_info
from sklearn import __version__ as skv
from sklearn.cluster import KMeans, MiniBatchKMeans
from benchlib import machine, openblas, repeats

warnings.simplefilter("ignore")   # KMeans warns when a centre of the first k rows ends up empty
ap = argparse.ArgumentParser()
ap.add_argument("--bench", required=True)
ap.add_argument("--n", type=int, default=200000)
ap.add_argument("--dim", type=int, default=39)
ap.add_argument("--k", type=int, default=100)
ap.add_argument("--reps", type=int, default=repeats())
a = ap.parse_args()

rng = np.random.default_rng(0)
means = rng.normal(0, 3, (a.k, a.dim))
x = (means[rng.integers(0, a.k, a.n)] + rng.normal(0, 1, (a.n, a.dim))).astype(np.float32)
x.tofile("x.f32")
c0 = x[:a.k].copy()


def ours(threads):
    o = subprocess.run([a.bench, "--data=x.f32", "--dim=%d" % a.dim, "--k=%d" % a.k, "--reps=1",
                        "--threads=%d" % threads], check=True, capture_output=True, text=True).stdout.split()
    return float(o[1])


def sk(est, threads):
    with threadpool_limits(limits=threads):
        t = time.perf_counter()
        est().fit(x)
        return time.perf_counter() - t


mbk = lambda: MiniBatchKMeans(a.k, init=c0, n_init=1, batch_size=10000, max_iter=1, max_no_improvement=None,
                              tol=0, compute_labels=False, reassignment_ratio=0)
lloyd = lambda: KMeans(a.k, init=c0, n_init=1, max_iter=1, tol=0, algorithm="lloyd")
print(machine(openblas()))
print("scikit-learn %s; its thread pools: %s" % (skv, ", ".join(
    "%s %s (%s)" % (i["user_api"], i.get("internal_api"), i.get("architecture", "")) for i in threadpool_info())))
print("data: %d x %d float32, k %d" % (a.n, a.dim, a.k))
for threads in (1, 2):
    res = {"avmask": [], "MiniBatchKMeans": [], "KMeans 1 iter": []}
    ours(threads), sk(mbk, threads), sk(lloyd, threads)   # warm-up
    for _ in range(a.reps):
        res["avmask"].append(ours(threads))
        res["MiniBatchKMeans"].append(sk(mbk, threads))
        res["KMeans 1 iter"].append(sk(lloyd, threads))
    rate = {n: [a.n / t / threads for t in v] for n, v in res.items()}

    def fmt(v):
        return "%.3g (%.3g-%.3g)" % (statistics.median(v), min(v), max(v))
    for n, v in rate.items():
        print("%d thread(s) %-16s %s vectors/s per core" % (threads, n, fmt(v)))
    print("RESULT k-means pass, %d x %d, k %d, %d thread(s), vectors/s/core | %s | MiniBatchKMeans %s | %.2fx" % (
        a.n, a.dim, a.k, threads, fmt(rate["avmask"]), fmt(rate["MiniBatchKMeans"]),
        statistics.median(rate["avmask"]) / statistics.median(rate["MiniBatchKMeans"])))
