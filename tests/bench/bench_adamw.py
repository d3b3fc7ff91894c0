#!/usr/bin/python3
"""Optimizer speed: train/'s clipping + AdamW (tests/bench/bench_adamw.c) vs PyTorch 1.13's
clip_grad_norm_ + torch.optim.AdamW on the same parameter shapes (the named model's
layout), same run, interleaved rounds. Torch runs with foreach=False and foreach=True at
the same thread count; the faster is the reference. Figures: milliseconds per update,
median and min-max over all repeats after warm-up."""
import argparse
import os
import statistics
import subprocess
import time

os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
import torch  # noqa: E402
from benchlib import repeats  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--bench", required=True)
ap.add_argument("--model", default="base")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--rounds", type=int, default=repeats(3))
ap.add_argument("--reps", type=int, default=7)
a = ap.parse_args()
torch.set_num_threads(a.threads)
lines = subprocess.run([a.bench, "--model=" + a.model, "--shapes"], check=True, capture_output=True,
                       text=True).stdout.split("\n")
shapes = [list(map(int, l.split())) for l in lines if l.strip()]
params = [torch.nn.Parameter(torch.zeros(s[1:])) for s in shapes]
for p in params:
    p.grad = torch.randn(p.shape) * 0.01
groups = [{"params": [p for p, s in zip(params, shapes) if s[0]], "weight_decay": 0.01},
          {"params": [p for p, s in zip(params, shapes) if not s[0]], "weight_decay": 0.0}]
opts = {fe: torch.optim.AdamW(groups, lr=1e-4, betas=(0.9, 0.98), eps=1e-6, foreach=fe) for fe in (False, True)}


def torch_times(fe):
    out = []
    for i in range(a.reps + 1):
        t = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opts[fe].step()
        if i:
            out.append(time.perf_counter() - t)
    return out


ours, theirs = [], {False: [], True: []}
env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
for r in range(a.rounds):
    o = subprocess.run([a.bench, "--model=" + a.model, "--reps=%d" % a.reps, "--threads=%d" % a.threads],
                       check=True, capture_output=True, text=True, env=env).stdout.split()
    ours += [float(x) for x in o[1:o.index("params")]]
    n = int(o[o.index("params") + 1])
    for fe in (False, True):
        theirs[fe] += torch_times(fe)


def fmt(v):
    return "%.2f ms (%.2f-%.2f)" % (1e3 * statistics.median(v), 1e3 * min(v), 1e3 * max(v))


print("model %s, %d parameters, %d threads, torch %s" % (a.model, n, a.threads, torch.__version__))
print("avmask clip+AdamW   %s" % fmt(ours))
for fe in (False, True):
    print("torch foreach=%-5s %s" % (fe, fmt(theirs[fe])))
best = min((statistics.median(v), fe) for fe, v in theirs.items())
print("RESULT clip+AdamW %s %d params, ms/update | %s | %s (foreach=%s) | %.2fx" % (
    a.model, n, fmt(ours), fmt(theirs[best[1]]), best[1], best[0] / statistics.median(ours)))
