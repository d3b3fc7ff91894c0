#!/usr/bin/python3
"""Reference for tests/unit/test_train_optim.c: torch.optim.AdamW (foreach=False),
torch.nn.utils.clip_grad_norm_ and torch's LR schedulers on the parameters and gradients
the C test wrote. Usage: train_optim.py DIR (reads spec.json, init.f32, grads.f32;
writes params.f32 [steps, total], lr_cosine.f64, lr_linear.f64, norms.f64)."""
import json, math, os, sys
import numpy as np
import torch

d = sys.argv[1]
spec = json.load(open(os.path.join(d, "spec.json")))
total, steps = spec["total"], spec["steps"]
init = np.fromfile(os.path.join(d, "init.f32"), dtype=np.float32)
grads = np.fromfile(os.path.join(d, "grads.f32"), dtype=np.float32).reshape(steps, total)
torch.set_num_threads(1)

params = []
for p in spec["params"]:
    t = torch.tensor(init[p["offset"]:p["offset"] + p["numel"]].reshape(p["shape"]))
    params.append((torch.nn.Parameter(t), p))
groups = [
    {"params": [t for t, p in params if p["decay"]], "weight_decay": spec["weight_decay"]},
    {"params": [t for t, p in params if not p["decay"]], "weight_decay": 0.0},
]
opt = torch.optim.AdamW(groups, lr=spec["lr"], betas=(spec["beta1"], spec["beta2"]),
                        eps=spec["eps"], foreach=False)


def schedule(optimizer, kind):
    w, n, r = spec["warmup"], spec["steps"], spec["final_ratio"]
    warm = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1.0 / w, end_factor=1.0,
                                             total_iters=w - 1)
    if kind == "cosine":
        decay = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=n - w,
                                                           eta_min=spec["lr"] * r)
    else:
        decay = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1.0, end_factor=r,
                                                  total_iters=n - w)
    return torch.optim.lr_scheduler.SequentialLR(optimizer, [warm, decay], milestones=[w])


sched = schedule(opt, "cosine")
out, lrs, norms = [], [], []
for s in range(steps):
    for t, p in params:   # a view frozen for the first F updates has no gradient: not stepped, not counted
        frozen = s < p.get("frozen", 0)
        t.grad = None if frozen else torch.tensor(grads[s, p["offset"]:p["offset"] + p["numel"]].reshape(p["shape"]))
    norms.append(float(torch.nn.utils.clip_grad_norm_([t for t, _ in params if t.grad is not None], spec["max_norm"])))
    lrs.append(opt.param_groups[0]["lr"])
    opt.step()
    sched.step()
    flat = np.zeros(total, dtype=np.float32)
    for t, p in params:
        flat[p["offset"]:p["offset"] + p["numel"]] = t.detach().numpy().reshape(-1)
    out.append(flat)
np.stack(out).astype(np.float32).tofile(os.path.join(d, "params.f32"))
np.array(lrs, dtype=np.float64).tofile(os.path.join(d, "lr_cosine.f64"))
np.array(norms, dtype=np.float64).tofile(os.path.join(d, "norms.f64"))

dummy = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=spec["lr"])
lin = schedule(dummy, "linear")
lrs = []
for s in range(steps):
    lrs.append(dummy.param_groups[0]["lr"])
    dummy.step()
    lin.step()
np.array(lrs, dtype=np.float64).tofile(os.path.join(d, "lr_linear.f64"))
