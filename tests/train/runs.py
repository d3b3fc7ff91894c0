# Imported by the training tests' Python checks (sys.path gets $AVMASK_ROOT/tests/train):
# the metrics of two runs compared, a resumed run with an uninterrupted one (rows) and two
# MPI ranks with one process (grad_rel, same_metrics, after mpi_pair of mpi_launch.sh).
import json
import numpy as np


def rows(path):
    """The lines of a metrics.jsonl without their wall-clock figures (seconds, tokens_per_s)."""
    out = []
    for line in open(path):
        r = json.loads(line)
        r.pop("seconds", None)
        r.pop("tokens_per_s", None)
        out.append(r)
    return out


def grad_rel(mode, min_size=5000, tol=1e-5):
    """max|g2 - g1| / max|g1| of the one-process and two-rank gradients of MODE; asserts <= tol."""
    g1, g2 = np.fromfile("g1_%s.f32" % mode, np.float32), np.fromfile("g2_%s.f32" % mode, np.float32)
    assert g1.size == g2.size and g1.size > min_size and np.abs(g1).max() > 0, (mode, g1.size, g2.size)
    rel = np.abs(g2 - g1).max() / np.abs(g1).max()
    print("%s: gradient of 2 ranks vs union: max rel %.3g over %d values" % (mode, rel, g1.size))
    assert rel <= tol, (mode, rel)
    return rel


def metrics(mode):
    """The metrics.jsonl lines of one process and of two ranks."""
    rows = lambda d: [json.loads(l) for l in open("%s_%s/metrics.jsonl" % (d, mode))]
    return rows("one"), rows("two")


def same_metrics(mode, keys, rtol):
    """Every key of KEYS present in a line agrees between one process and two ranks, relative
    to max(|value|, 1)."""
    a, b = metrics(mode)
    assert len(a) == len(b), (mode, len(a), len(b))
    for x, y in zip(a, b):
        for k in keys:
            if k in x:
                assert abs(x[k] - y[k]) <= rtol * max(abs(x[k]), 1), (mode, k, x[k], y[k])
    return a, b
