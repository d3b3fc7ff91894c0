#!/usr/bin/python3
"""Model step speed: avmask (tests/bench/bench_model.c) vs the same model in PyTorch 1.13,
same run, interleaved A, B, A, B. Two PyTorch references:
- the model below (nn.TransformerEncoderLayer, per-token fusion, avmask's default), run here;
- the anchor, a plain-matmul attention formulation of the time-concatenated (fusion=sequence)
  model: torch_mfm_step.py --one, from --anchor, else $AVMASK_ANCHOR, else
  $AVMASK_ROOT/../shared/anchors/torch_mfm_step.py. It is not part of the repository; when it
  is absent the benchmark says so and runs without it. Its step has 30 % span masks and
  heads over all tokens (ours: ~49 % masked, heads on masked tokens only: ~2 % fewer FLOPs),
  clip 1.0; each call is one fresh process timing 30 steps after 5 of warm-up (its median).
Each reference is compared with our run of the same fusion; the headline ratio is against
the reference that fares best (the smaller ratio). One step = zero the gradients, forward (masked
prediction, L1, dropout 0.1 / attention dropout 0.1 as the config says), backward,
gradient-norm clipping, AdamW (what a pretraining step does besides loading the batch).
Done for 1 thread and for 2 threads. Batch: B samples x T tokens per modality,
~49% of tokens masked per modality, nothing padded or dropped. Figures are steps/s; median
and min-max of the repeats after warm-up. Each side gets its best 2-core configuration:
ours with OMP_WAIT_POLICY active (default) and passive; torch with torch 2 / BLAS 2 and
torch 1 / BLAS 2, OMP_WAIT_POLICY=PASSIVE. GFLOP/s counts FLOPs the same
way for both (see bench_model.c) and is shown beside sgemm alone on the Linear layers'
shapes (bench_model --sgemm) and beside every product of the step alone (--products), each
the better of both wait policies; step time / products time is what the rest costs. Every
GFLOP/s figure (torch's too) divides our FLOP count of that fusion's step by the time. On a
loaded machine the active wait policy collapses (threads spin against other processes): read
the passive rows there.
Scaling (--scaling, default 1, 2, 4, ..., the cores): our per-token step alone at every
thread count, interleaved, each at its better wait policy; RESULT lines give the speed-up
over 1 thread and the serial fraction it implies by Amdahl's law. REPEATS sets --repeats."""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

os.environ["OMP_WAIT_POLICY"] = "PASSIVE"   # for torch; our runs set their own
import torch  # noqa: E402
from benchlib import banner, openblas, policy_env, repeats, summary, thread_counts  # noqa: E402
import torch.nn as nn  # noqa: E402

CONFIGS = {"tiny": (128, 512, 4, 2, 1, 1), "small": (128, 512, 4, 4, 2, 2), "base": (256, 1024, 4, 4, 2, 2)}


class Stream(nn.Module):
    def __init__(self, d, ffn, heads, layers, inp, max_len):
        super().__init__()
        self.front = nn.Linear(inp, d)
        self.pos = nn.Parameter(torch.randn(max_len, d) * 0.02)
        self.typ = nn.Parameter(torch.randn(d) * 0.02)
        self.mask_emb = nn.Parameter(torch.randn(d) * 0.02)
        self.layers = nn.ModuleList([nn.TransformerEncoderLayer(d, heads, ffn, dropout=0.1, activation="gelu",
                                                                batch_first=True, norm_first=True)
                                     for _ in range(layers)])
        self.norm = nn.LayerNorm(d)

    def forward(self, x, mask, pad):
        e = self.front(x)
        e = torch.where(mask.unsqueeze(-1), self.mask_emb.expand_as(e), e)
        e = e + self.pos[:x.shape[1]] + self.typ
        for layer in self.layers:
            e = layer(e, src_key_padding_mask=pad)
        return self.norm(e)


class AVModel(nn.Module):
    """avmask's AV model with per-token fusion: [a_t ; v_t] -> Linear(2d, d) -> fusion layers."""
    def __init__(self, d, ffn, heads, la, lv, lf, ain=320, vin=1024, max_len=512):
        super().__init__()
        self.proj = nn.Linear(2 * d, d)
        self.audio = Stream(d, ffn, heads, la, ain, max_len)
        self.video = Stream(d, ffn, heads, lv, vin, max_len)
        self.fusion = nn.ModuleList([nn.TransformerEncoderLayer(d, heads, ffn, dropout=0.1, activation="gelu",
                                                                 batch_first=True, norm_first=True)
                                      for _ in range(lf)])
        self.norm = nn.LayerNorm(d)
        self.audio_head = nn.Linear(d, ain)
        self.video_head = nn.Linear(d, vin)

    def forward(self, audio, video, ma, mv, pad):
        z = self.proj(torch.cat([self.audio(audio, ma, pad), self.video(video, mv, pad)], dim=-1))
        for layer in self.fusion:
            z = layer(z, src_key_padding_mask=pad)
        z = self.norm(z)
        la = (self.audio_head(z[ma]) - audio[ma]).abs().mean()
        lv = (self.video_head(z[mv]) - video[mv]).abs().mean()
        return la + lv


def ours(bench, args, policy, steps, extra=None):
    env = policy_env(policy)
    r = subprocess.run([bench] + args + ["--steps=%d" % steps], capture_output=True, text=True, env=env, check=True)
    f = r.stdout.split()
    times = [float(v) for v in f[1:f.index("gflop")]]
    if extra is not None and "rss_mb" in f:
        extra["rss_mb"], extra["min_mb"] = float(f[f.index("rss_mb") + 1]), float(f[f.index("min_mb") + 1])
    return statistics.median(times), float(f[f.index("gflop") + 1])


def theirs(model, opt, batch, torch_threads, blas_threads, lib, steps):
    torch.set_num_threads(torch_threads)
    if lib:
        lib.openblas_set_num_threads(blas_threads)
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        audio, video, pad, B, T = batch
        ma = torch.rand(B, T) < 0.49
        mv = torch.rand(B, T) < 0.49
        opt.zero_grad(set_to_none=False)
        model(audio, video, ma, mv, pad).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        opt.step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def anchor_path(a):
    """The anchor script, or None with a message saying where it was looked for."""
    root = os.environ.get("AVMASK_ROOT", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    p = a.anchor or os.environ.get("AVMASK_ANCHOR") or os.path.join(root, "..", "shared", "anchors", "torch_mfm_step.py")
    if a.model not in ("base", "small") or (a.B, a.T) != (8, 100):
        print("anchor: skipped (it runs only base/small at B=8, T=100)")
        return None
    if not os.path.isfile(p):
        print("anchor: %s not found; give --anchor=PATH or AVMASK_ANCHOR=PATH to compare against the "
              "plain-matmul PyTorch formulation (running without it)" % os.path.normpath(p))
        return None
    return p


def anchor(path, model, threads, policy):
    """Steps/s of one anchor process (its median step); threads "1", "2" or "1t" (torch 1, BLAS 2)."""
    env = policy_env(policy, ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"))
    r = subprocess.run([sys.executable, path, "--one", "--config", model, "--threads", threads, "--attn", "own"],
                       capture_output=True, text=True, env=env, check=True)
    return 1000.0 / json.loads(r.stdout.strip().splitlines()[-1])["step_ms_median"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", required=True)
    ap.add_argument("--model", default="base")
    ap.add_argument("--B", type=int, default=8)
    ap.add_argument("--T", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=repeats())
    ap.add_argument("--steps", type=int, default=int(os.environ.get("STEPS", 3)))
    ap.add_argument("--anchor", default=None, help="torch_mfm_step.py (default: $AVMASK_ANCHOR, ../shared/anchors)")
    ap.add_argument("--threads", default="1,2", help="thread counts of the comparison with PyTorch")
    ap.add_argument("--scaling", default="auto", help="thread counts of the scaling runs (auto: 1, 2, 4, ..., the cores)")
    a = ap.parse_args()
    lib = openblas()
    print(banner(torch, lib))
    print("model %s, B=%d, T=%d per modality; one step = zero grad + forward + backward + clip + AdamW" % (a.model, a.B, a.T))
    torch.manual_seed(0)
    model = AVModel(*CONFIGS[a.model])
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.01)
    batch = (torch.randn(a.B, a.T, 320), torch.randn(a.B, a.T, 1024), torch.zeros(a.B, a.T, dtype=torch.bool), a.B, a.T)
    anc = anchor_path(a)
    for threads in thread_counts(a.threads):
        compare(a, lib, model, opt, batch, threads, anc)
    counts = sorted(set([1] + thread_counts(a.scaling)))
    if len(counts) > 1:
        scaling(a, counts)


def scaling(a, counts):
    """Our step (per-token fusion) at every thread count, interleaved, each at its better wait
    policy: the speed-up over 1 thread and the serial fraction it implies (Amdahl: speed-up
    S on N threads gives s = (N / S - 1) / (N - 1))."""
    args = ["--model=" + a.model, "--B=%d" % a.B, "--T=%d" % a.T, "--fusion=concat"]
    runs = [(n, pol) for n in counts for pol in (["PASSIVE"] if n == 1 else [None, "PASSIVE"])]

    def once(n, pol):
        return 1.0 / ours(a.bench, args + ["--threads=%d" % n], pol, a.steps)[0]
    for n, pol in runs:      # warm-up
        once(n, pol)
    res = {r: [] for r in runs}
    for _ in range(a.repeats):
        for r in runs:
            res[r].append(once(*r))
    best = {n: max((r for r in runs if r[0] == n), key=lambda r: statistics.median(res[r])) for n in counts}
    base = statistics.median(res[best[1]])
    print("-- scaling, model %s per-token fusion, steps/s (the better wait policy at each count)" % a.model)
    for n in counts:
        v = res[best[n]]
        sp = statistics.median(v) / base
        print("%2d thread(s), OMP %-7s steps/s %s   speed-up %.2fx" % (n, (best[n][1] or "active").lower(), summary(v), sp))
        if n > 1:
            serial = (n / sp - 1) / (n - 1)
            if not 0 <= serial <= 1:
                print("   serial fraction %.2f lies outside [0, 1]: the machine's noise (load, a slower core), not the code" % serial)
            print("RESULT model %s concat train step, speed-up 1 -> %d threads | %.2fx | %d.00x ideal | %.0f%%" % (
                a.model, n, sp, n, 100.0 * sp / n))
            print("RESULT model %s concat train step, serial fraction by Amdahl from 1 -> %d threads | %.3f | 0 ideal | -" % (
                a.model, n, serial))


def contenders(a, lib, model, opt, batch, threads, anc, gflop, mem):
    """(name, fusion or None, steps/s function) of every contender at this thread count."""
    args = ["--model=" + a.model, "--B=%d" % a.B, "--T=%d" % a.T, "--threads=%d" % threads]

    def us(fusion, policy):
        def run():
            t, gflop[fusion] = ours(a.bench, args + ["--fusion=" + fusion], policy, a.steps, mem.setdefault(fusion, {}))
            return 1.0 / t
        return run

    def tel(tt, bt):
        return lambda: 1.0 / theirs(model, opt, batch, tt, bt, lib, a.steps)

    def anchor_run(t, policy):
        return lambda: anchor(anc, a.model, t, policy)

    def alone(mode, fusion):
        return lambda: max(1.0 / ours(a.bench, args + [mode, "--fusion=" + fusion], pol, a.steps)[0]
                           for pol in (None, "PASSIVE"))
    c = []
    for fusion in ("concat", "sequence"):
        if threads == 1:
            c.append(("ours %s 1 thread" % fusion, fusion, us(fusion, "PASSIVE")))
        else:
            c.append(("ours %s %d threads, OMP active" % (fusion, threads), fusion, us(fusion, None)))
            c.append(("ours %s %d threads, OMP passive" % (fusion, threads), fusion, us(fusion, "PASSIVE")))
    c.append(("torch concat TransformerEncoderLayer %d/%d" % (threads, threads), "concat", tel(threads, threads)))
    if threads > 1:
        c.append(("torch concat TransformerEncoderLayer 1/%d" % threads, "concat", tel(1, threads)))
    if anc:
        c.append(("torch sequence anchor %d/%d" % (threads, threads), "sequence", anchor_run(str(threads), "PASSIVE")))
        if threads > 1:
            c.append(("torch sequence anchor 1/%d" % threads, "sequence", anchor_run("1t", "PASSIVE")))
    for fusion in ("concat", "sequence"):
        c.append(("sgemm alone, %s Linear shapes" % fusion, fusion, alone("--sgemm", fusion)))
        c.append(("products alone, %s step" % fusion, fusion, alone("--products", fusion)))
    return c


def compare(a, lib, model, opt, batch, threads, anc):
    """Runs every contender interleaved; prints the table and the RESULT lines."""
    gflop, mem = {}, {}
    configs = contenders(a, lib, model, opt, batch, threads, anc, gflop, mem)
    for _, _, f in configs:   # warm-up
        f()
    res = {name: [] for name, _, _ in configs}
    for _ in range(a.repeats):
        for name, _, f in configs:
            res[name].append(f())
    med = {k: statistics.median(v) for k, v in res.items()}
    args = ["--model=" + a.model, "--B=%d" % a.B, "--T=%d" % a.T, "--threads=%d" % threads]
    sg_gflop = {fu: ours(a.bench, args + ["--sgemm", "--fusion=" + fu], None, 1)[1] for fu in ("concat", "sequence")}
    pr_gflop = gflop
    print("-- %d thread(s); torch a/b = torch threads / BLAS threads, all torch runs OMP passive" % threads)
    for name, fusion, _ in configs:
        g = (sg_gflop[fusion] if name.startswith("sgemm") else pr_gflop[fusion] if name.startswith(("ours", "products", "torch"))
             else float("nan"))
        print("%-45s steps/s: median %s   GFLOP/s %.1f" % (name, summary(res[name]), g * med[name]))
    pick = lambda pre: max((k for k in res if k.startswith(pre)), key=med.get)  # noqa: E731
    for fusion, m in sorted(mem.items()):
        print("peak RSS, %s: %.0f MB (floor: parameters, gradients, AdamW moments, activations, batch: %.0f MB), %.2fx" % (
            fusion, m.get("rss_mb", 0), m.get("min_mb", 0), m.get("rss_mb", 0) / max(m.get("min_mb", 1), 1)))
    ratios = []
    for fusion, ref in (("concat", "torch concat"), ("sequence", "torch sequence anchor")):
        if not any(k.startswith(ref) for k in res):
            continue
        mine, theirs_ = pick("ours " + fusion), pick(ref)
        ratios.append((med[mine] / med[theirs_], mine, theirs_))
        print("   %s: %.2fx (%s vs %s)" % (fusion, ratios[-1][0], mine, theirs_))
    r, mine, ref = min(ratios)
    print("RESULT model %s B=%d T=%d train step, %d thread(s), steps/s vs the fastest PyTorch | %s (%s) | %s (%s) | %.2fx" % (
        a.model, a.B, a.T, threads, summary(res[mine]), mine.replace("ours ", ""), summary(res[ref]),
        ref.replace("torch ", ""), r))
    for fusion in ("concat", "sequence"):
        m, sg, pr = med[pick("ours " + fusion)], med["sgemm alone, %s Linear shapes" % fusion], med["products alone, %s step" % fusion]
        print("RESULT model %s %s train step time / all its matrix products alone, %d thread(s) | %.3f s | %.3f s | %.2fx" % (
            a.model, fusion, threads, 1 / m, 1 / pr, pr / m))
        print("RESULT model %s %s train step time / its Linear layers' sgemm alone, %d thread(s) | %.3f s | %.3f s | %.2fx" % (
            a.model, fusion, threads, 1 / m, 1 / sg, sg / m))
        print("RESULT model %s %s train step GFLOP/s vs sgemm on its shapes, %d thread(s) | %.1f | %.1f | %.0f%%" % (
            a.model, fusion, threads, gflop[fusion] * m, sg_gflop[fusion] * sg, 100 * gflop[fusion] * m / (sg_gflop[fusion] * sg)))
    print("RESULT model %s train step, per-token vs time-concatenated fusion, %d thread(s), steps/s | %.2f | %.2f | %.2fx" % (
        a.model, threads, med[pick("ours concat")], med[pick("ours sequence")], med[pick("ours concat")] / med[pick("ours sequence")]))


if __name__ == "__main__":
    main()
