#!/usr/bin/python3
"""Fine-tuning and decoding speed: `avmask finetune` and `avmask decode` (the binary, as a
user runs it) vs the same model in PyTorch 1.13, on the same utterances, same run,
interleaved A, B, A, B (tests/bench/bench_finetune.sh makes the export and the corpus).

Fine-tuning: one step = zero grad, forward of the exported encoder + a linear CTC head
(dropout as the export's config), CTC loss (mean over utterances of loss / target length,
impossible ones zeroed), backward, gradient-norm clipping (5), AdamW. Ours: a fresh
`avmask finetune --log-every=1` per repeat, its median step (the differences of the
cumulative seconds of metrics.jsonl, the first --warmup steps left out; they include reading
the batch from its shard). PyTorch: torch.nn.functional.ctc_loss on log_softmax, AdamW with
the same betas and epsilon, clip_grad_norm_, on batches of the same shape (every utterance
has the same length, so every batch is B x T), its median step after --warmup steps.
Decoding: greedy CTC (argmax per token, repeats collapsed, blanks dropped) of every
utterance with the fine-tuned model, in batches of the same shape as `avmask decode`'s;
real-time factor = seconds of compute (forward + search, as `avmask decode` reports it:
without start-up, model loading and reading the shards) per second of audio (100 frames/s).
PyTorch under torch.inference_mode; its greedy hypotheses are checked against ours.

PyTorch runs two formulations of the same encoder, each with its own copy of the weights:
eval/pytorch/load_avmask.py's (nn.TransformerEncoderLayer; in inference its fused fast path)
and a plain-matmul one (explicit q k^T, softmax, dropout, @ v: the formulation of
bench_model's anchor), checked equal to it first; each at 1 thread and, for N > 1 threads,
torch N / BLAS N and torch 1 / BLAS N, OMP_WAIT_POLICY=PASSIVE (torch's OpenMP workers spin
against OpenBLAS's threads otherwise; torch.set_num_threads does not reach OpenBLAS). Ours at
N > 1 with the passive (avmask's default) and the active wait policy. The headline ratios
are against the fastest PyTorch contender and use our fastest."""
import argparse
import copy
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

os.environ["OMP_WAIT_POLICY"] = "PASSIVE"   # for torch; our runs set their own
import h5py  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from benchlib import banner, openblas, policy_env, repeats, step_seconds, summary, thread_counts  # noqa: E402

sys.path.insert(0, os.path.join(os.environ.get("AVMASK_ROOT", "."), "eval", "pytorch"))
import load_avmask  # noqa: E402


def read_corpus(feats, data, config):
    """Token tensors [T, 320] of every utterance (index order), their phone transcripts."""
    x, ids, frames = [], [], 0
    for line in open(os.path.join(feats, "index.tsv")):
        utt, shard, row = line.split("\t")[:3]
        with h5py.File(os.path.join(feats, "shard-%05d.h5" % int(shard)), "r") as f:
            off = f["/audio/offsets"]
            fb = f["/audio/fbank"][off[int(row)]:off[int(row) + 1]]
        x.append(load_avmask.features(fb, config))
        ids.append(utt)
        frames += fb.shape[0]
    trans = dict(line.split(None, 1) for line in open(os.path.join(data, "phones")))
    return ids, x, [trans[u].split() for u in ids], frames / 100.0


def plain_forward(enc, x, training):
    """load_avmask.AudioEncoder's function with plain matmul attention (its weights)."""
    h = enc.audio_frontend(x) + enc.audio_pos[:x.shape[1]] + enc.audio_type

    def stack(e, h):
        for L in e.layers:
            h = h + L.dropout1(attention(L, L.norm1(h), training))
            h = h + L.dropout2(L.linear2(L.dropout(F.gelu(L.linear1(L.norm2(h))))))
        return e.norm(h)
    h = stack(enc.audio_encoder, h)
    if enc.fusion_proj is not None:
        h = enc.fusion_proj(h)
    return stack(enc.fusion_encoder, h)


def attention(L, h, training):
    a = L.self_attn
    B, T, d = h.shape
    H = a.num_heads
    q, k, v = F.linear(h, a.in_proj_weight, a.in_proj_bias).view(B, T, 3, H, d // H).permute(2, 0, 3, 1, 4)
    att = F.dropout((q @ k.transpose(-2, -1) * (1.0 / math.sqrt(d // H))).softmax(-1), a.dropout, training)
    return a.out_proj((att @ v).transpose(1, 2).reshape(B, T, d))


class Torch:
    """One PyTorch formulation: its own copy of the export (trained) and of the fine-tuned
    model (decoded), the CTC head, an AdamW."""
    def __init__(self, export, model, head, plain, lib):
        self.enc, self.head, self.plain, self.lib = copy.deepcopy(export), copy.deepcopy(head), plain, lib
        self.denc, self.dhead = copy.deepcopy(model), copy.deepcopy(head)
        self.params = list(self.enc.parameters()) + list(self.head.parameters())
        self.opt = torch.optim.AdamW(self.params, lr=1e-4, betas=(0.9, 0.98), eps=1e-8, weight_decay=0.01)

    def threads(self, tt, bt):
        torch.set_num_threads(tt)
        if self.lib:
            self.lib.openblas_set_num_threads(bt)

    def encode(self, enc, x, training):
        return plain_forward(enc, x, training) if self.plain else enc(x)

    def train_steps(self, batches, warmup, steps):
        """Median seconds of a training step, after warmup steps."""
        self.enc.train()
        times = []
        for i in range(warmup + steps):
            x, lab, lens, llens = batches[i % len(batches)]
            t0 = time.perf_counter()
            self.opt.zero_grad(set_to_none=False)
            logp = self.head(self.encode(self.enc, x, True)).log_softmax(-1).transpose(0, 1)
            F.ctc_loss(logp, lab, lens, llens, blank=0, reduction="mean", zero_infinity=True).backward()
            torch.nn.utils.clip_grad_norm_(self.params, 5.0)
            self.opt.step()
            times.append(time.perf_counter() - t0)
        return statistics.median(times[warmup:])

    def decode(self, batches):
        """Seconds to decode every batch, and the hypotheses (unit ids per utterance)."""
        self.denc.eval()
        hyps = []
        with torch.inference_mode():
            t0 = time.perf_counter()
            for x in batches:
                best = self.dhead(self.encode(self.denc, x, False)).argmax(-1)
                for row in best:
                    row = torch.unique_consecutive(row)
                    hyps.append(row[row != 0].tolist())
            return time.perf_counter() - t0, hyps


def ours_finetune(a, args, policy, out):
    env = policy_env(policy)
    shutil.rmtree(out, ignore_errors=True)   # a fresh run each repeat (its checkpoint would be refused)
    subprocess.run([a.avmask, "finetune", "--init=" + a.export, "--feats=" + a.feats, "--data=" + a.data,
                    "--out=" + out, "--max-steps=%d" % (a.warmup + a.steps), "--log-every=1", "--warmup=1",
                    "--batch-tokens=%d" % a.batch_tokens] + args, check=True, capture_output=True, env=env)
    return step_seconds(os.path.join(out, "metrics.jsonl"), a.warmup)


def ours_decode(a, args, policy, model):
    env = policy_env(policy)
    r = subprocess.run([a.avmask, "decode", "--model=" + model, "--feats=" + a.feats, "--out=dec",
                        "--batch-tokens=%d" % a.decode_tokens] + args, check=True, capture_output=True, text=True,
                       env=env)
    m = re.search(r"real-time factor ([0-9.e-]+)", r.stderr)
    if not m:
        raise SystemExit("avmask decode printed no real-time factor:\n" + r.stderr)
    return float(m.group(1))


def batches(a, x, phones, units):
    """Training batches (x [B, T, in], labels, lengths, label lengths) of B = batch tokens / T
    consecutive utterances, and decoding batches of decode tokens / T (the last one shorter),
    the shapes avmask's loader makes of equal-length utterances."""
    T = x[0].shape[0]
    if any(t.shape[0] != T for t in x):
        raise SystemExit("bench_finetune: the utterances must all have the same length")
    B, Bd = a.batch_tokens // T, a.decode_tokens // T
    train = []
    for i in range(0, len(x) - B + 1, B):
        lab = [torch.tensor([units[p] for p in ph]) for ph in phones[i:i + B]]
        train.append((torch.stack(x[i:i + B]), torch.cat(lab), torch.full((B,), T, dtype=torch.long),
                      torch.tensor([len(v) for v in lab])))
    return train, [torch.stack(x[i:i + Bd]) for i in range(0, len(x), Bd)], B, Bd, T


def contenders(a, torches, train, dec, audio_s, threads, hyps):
    """(name, kind, fn) at this thread count; kind "ft" returns steps/s, "dec" the RTF."""
    args = ["--threads=%d" % threads]
    policies = [None] if threads == 1 else [None, "ACTIVE"]
    c = []
    for pol in policies:
        tag = "avmask %d thread(s)%s" % (threads, ", OMP active" if pol else "")
        c.append((tag, "ft", lambda pol=pol: 1.0 / ours_finetune(a, args, pol, "ft")))
        c.append((tag, "dec", lambda pol=pol: ours_decode(a, args, pol, a.model)))
    configs = [(threads, threads)] + ([(1, threads)] if threads > 1 else [])
    for name, t in torches.items():
        for tt, bt in configs:
            tag = "torch %s %d/%d" % (name, tt, bt)

            def ft(t=t, tt=tt, bt=bt):
                t.threads(tt, bt)
                return 1.0 / t.train_steps(train, a.warmup, a.steps)

            def de(t=t, tt=tt, bt=bt, name=name):
                t.threads(tt, bt)
                sec, hyps[name] = t.decode(dec)
                return sec / audio_s
            c += [(tag, "ft", ft), (tag, "dec", de)]
    return c


def compare(a, torches, train, dec, audio_s, threads, shape):
    """Runs every contender interleaved; prints the table and the RESULT lines; returns
    PyTorch's hypotheses (of its last decoding run)."""
    hyps = {}
    c = contenders(a, torches, train, dec, audio_s, threads, hyps)
    for _, _, f in c:   # warm-up
        f()
    res = {(name, kind): [] for name, kind, _ in c}
    for _ in range(a.repeats):
        for name, kind, f in c:
            res[(name, kind)].append(f())
    med = {k: statistics.median(v) for k, v in res.items()}
    print("-- %d thread(s); torch a/b = torch threads / BLAS threads, OMP passive" % threads)
    for (name, kind), v in res.items():
        print("%-40s %s" % (name, "fine-tuning steps/s " + summary(v) if kind == "ft" else
                            "decoding real-time factor " + summary(v, "%.5f")))
    dec_what = "decode %s, %.0f s of audio, real-time factor (compute s per audio s; ratio: PyTorch's / ours), %d thread(s)"
    for kind, what, better in (("ft", "finetune %s step, %d thread(s), steps/s" % (shape, threads), max),
                               ("dec", dec_what % (a.name, audio_s, threads), min)):
        ours = better((k for k in med if k[1] == kind and k[0].startswith("avmask")), key=med.get)
        ref = better((k for k in med if k[1] == kind and k[0].startswith("torch")), key=med.get)
        ratio = med[ours] / med[ref] if kind == "ft" else med[ref] / med[ours]
        fmt = "%.2f" if kind == "ft" else "%.5f"
        print("RESULT %s vs the fastest PyTorch | %s (%s) | %s (%s) | %.2fx" % (
            what, summary(res[ours], fmt), ours[0].replace("avmask ", ""), summary(res[ref], fmt),
            ref[0].replace("torch ", ""), ratio))
    return hyps


def check_hyps(hyps, ids, units):
    """How many of PyTorch's greedy hypotheses equal avmask decode's (dec/hyp)."""
    sym = {v: k for k, v in units.items()}
    mine = dict((line.split(None, 1) + [""])[:2] for line in open("dec/hyp"))
    for name, h in hyps.items():
        same = sum(" ".join(sym[i] for i in hy) == mine[u].strip() for u, hy in zip(ids, h))
        print("greedy hypotheses, torch %s equal to avmask decode's: %d of %d" % (name, same, len(ids)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--avmask", default=os.environ.get("AVMASK", "avmask"))
    ap.add_argument("--export", required=True, help="avmask export dir (fine-tuning starts there)")
    ap.add_argument("--model", required=True, help="a fine-tuned model dir of that export (decoding)")
    ap.add_argument("--feats", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--name", default="base")
    ap.add_argument("--batch-tokens", type=int, default=2000, help="as avmask finetune's default")
    ap.add_argument("--decode-tokens", type=int, default=4000, help="as avmask decode's default")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--steps", type=int, default=int(os.environ.get("STEPS", 4)))
    ap.add_argument("--repeats", type=int, default=repeats())
    ap.add_argument("--threads", default="1,2", help="thread counts, or auto: 1, 2, 4, ..., the cores")
    a = ap.parse_args()
    lib = openblas()
    print(banner(torch, lib))
    enc, config = load_avmask.load(a.export)
    ids, x, phones, audio_s = read_corpus(a.feats, a.data, config)
    units = dict(line.split() for line in open(os.path.join(a.model, "units.txt")))
    units = {k: int(v) for k, v in units.items()}
    train, dec, B, Bd, T = batches(a, x, phones, units)
    denc, _ = load_avmask.load(a.model)
    with h5py.File(os.path.join(a.model, "ctc_head.h5"), "r") as f:
        w, b = (torch.from_numpy(f["params/ctc_head." + k][()]) for k in ("weight", "bias"))
    head = torch.nn.Linear(w.shape[1], w.shape[0])
    head.weight.data.copy_(w)
    head.bias.data.copy_(b)
    with torch.inference_mode():   # the plain formulation computes the same function
        ref, got = denc(dec[0]), plain_forward(denc.eval(), dec[0], False)
        err = float((got - ref).abs().max() / ref.abs().max())
    print("plain-matmul formulation vs load_avmask's: max rel diff %.2g" % err)
    assert err < 1e-4, err
    print("corpus: %d utterances of %d tokens (%.1f s of audio); fine-tuning B=%d (%d batches), decoding B=%d; "
          "model %s, %d encoder parameters" % (len(x), T, audio_s, B, len(train), Bd, a.name,
                                               sum(p.numel() for p in enc.parameters())))
    shape = "%s B=%d T=%d" % (a.name, B, T)
    for threads in thread_counts(a.threads):
        tr = {name: Torch(enc, denc, head, plain, lib)
              for name, plain in (("TransformerEncoderLayer", False), ("plain matmul", True))}
        hyps = compare(a, tr, train, dec, audio_s, threads, shape)
        check_hyps(hyps, ids, units)


if __name__ == "__main__":
    main()
