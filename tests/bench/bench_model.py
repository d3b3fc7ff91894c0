#!/usr/bin/python3
"""Model step speed: avmask (tests/bench/bench_model.c) vs the same model in PyTorch 1.13,
same run, interleaved A, B, A, B. One step = zero the gradients, forward (masked
prediction, L1, dropout 0.1 / attention dropout 0.1 as the config says), backward,
gradient-norm clipping, AdamW (what a pretraining step does besides loading the batch).
Done for 1 thread and for 2 threads. Batch: B samples x T tokens per modality,
~49% of tokens masked per modality, nothing padded or dropped. Figures are steps/s; median
and min-max of the repeats after warm-up. Each side gets its best 2-core configuration:
ours with OMP_WAIT_POLICY active (default) and passive; torch with torch 2 / BLAS 2 and
torch 1 / BLAS 2, OMP_WAIT_POLICY=PASSIVE (BENCHMARKING.md). GFLOP/s counts FLOPs the same
way for both (see bench_model.c) and is shown beside sgemm alone on the same shapes (the
better of both wait policies). On a loaded machine the active wait policy collapses (threads
spin against other processes): read the passive rows there."""
import argparse
import os
import statistics
import subprocess
import time

os.environ["OMP_WAIT_POLICY"] = "PASSIVE"   # for torch; our runs set their own
import torch  # noqa: E402
from benchlib import banner, openblas  # noqa: E402
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
    env = dict(os.environ)
    env.pop("OMP_WAIT_POLICY", None)
    if policy:
        env["OMP_WAIT_POLICY"] = policy
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


def summary(xs):
    return "%.2f (%.2f-%.2f)" % (statistics.median(xs), min(xs), max(xs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", required=True)
    ap.add_argument("--model", default="base")
    ap.add_argument("--B", type=int, default=8)
    ap.add_argument("--T", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--steps", type=int, default=3)
    a = ap.parse_args()
    lib = openblas()
    print(banner(torch, lib))
    print("model %s, B=%d, T=%d per modality; one step = zero grad + forward + backward + clip + AdamW" % (a.model, a.B, a.T))
    torch.manual_seed(0)
    model = AVModel(*CONFIGS[a.model])
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.01)
    batch = (torch.randn(a.B, a.T, 320), torch.randn(a.B, a.T, 1024), torch.zeros(a.B, a.T, dtype=torch.bool), a.B, a.T)
    for threads in (1, 2):
        compare(a, lib, model, opt, batch, threads)


def compare(a, lib, model, opt, batch, threads):
    args = ["--model=" + a.model, "--B=%d" % a.B, "--T=%d" % a.T, "--threads=%d" % threads]
    gflop, mem = [0.0], {}

    def run_ours(policy):
        t, gflop[0] = ours(a.bench, args, policy, a.steps, mem)
        return 1.0 / t
    if threads == 1:
        configs = [("ours 1 thread", lambda: run_ours("PASSIVE")),
                   ("torch 1 / BLAS 1", lambda: 1.0 / theirs(model, opt, batch, 1, 1, lib, a.steps))]
    else:
        configs = [("ours 2 threads, OMP active", lambda: run_ours(None)),
                   ("torch 2 / BLAS 2", lambda: 1.0 / theirs(model, opt, batch, 2, 2, lib, a.steps)),
                   ("ours 2 threads, OMP passive", lambda: run_ours("PASSIVE")),
                   ("torch 1 / BLAS 2", lambda: 1.0 / theirs(model, opt, batch, 1, 2, lib, a.steps))]
    # the time-concatenated fusion (the previous default) of the same model, for the step-time ratio
    configs.append(("fusion=sequence, same threads", lambda: 1.0 / ours(a.bench, args + ["--fusion=sequence"], "PASSIVE",
                                                                       a.steps)[0]))
    configs.append(("sgemm alone, same shapes", lambda: max(1.0 / ours(a.bench, args + ["--sgemm"], pol, a.steps)[0]
                                                            for pol in (None, "PASSIVE"))))
    for _, f in configs:   # warm-up
        f()
    res = {name: [] for name, _ in configs}
    for _ in range(a.repeats):
        for name, f in configs:
            res[name].append(f())
    sg_gflop = ours(a.bench, args + ["--sgemm"], None, 1)[1]
    print("-- %d thread(s)" % threads)
    for name, _ in configs:
        g = sg_gflop if name.startswith("sgemm") else gflop[0] if not name.startswith("fusion") else float("nan")
        print("%-30s steps/s: median %s   GFLOP/s %.1f" % (name, summary(res[name]), g * statistics.median(res[name])))
    best = lambda keys: max(keys, key=lambda k: statistics.median(res[k]))  # noqa: E731
    mine, ref = best([k for k in res if k.startswith("ours")]), best([k for k in res if k.startswith("torch")])
    m, r = statistics.median(res[mine]), statistics.median(res[ref])
    ours_gf, sg_gf = gflop[0] * m, sg_gflop * statistics.median(res["sgemm alone, same shapes"])
    print("peak RSS %.0f MB (floor: parameters, gradients, AdamW moments, activations, batch: %.0f MB)" % (
        mem.get("rss_mb", 0), mem.get("min_mb", 0)))
    print("RESULT model %s B=%d T=%d train step, %d thread(s), steps/s | %s (%s) | %s (%s) | %.2fx" % (
        a.model, a.B, a.T, threads, summary(res[mine]), mine.replace("ours ", ""), summary(res[ref]), ref, m / r))
    seq = statistics.median(res["fusion=sequence, same threads"])
    mp = statistics.median(res["ours 1 thread" if threads == 1 else "ours 2 threads, OMP passive"])
    print("RESULT model %s train step, per-token vs time-concatenated fusion, %d thread(s), steps/s | %.2f | %.2f | %.2fx" % (
        a.model, threads, mp, seq, mp / seq))
    print("RESULT model %s train step GFLOP/s vs sgemm on its shapes, %d thread(s) | %.1f | %.1f | %.0f%%" % (
        a.model, threads, ours_gf, sg_gf, 100 * ours_gf / sg_gf))


if __name__ == "__main__":
    main()
