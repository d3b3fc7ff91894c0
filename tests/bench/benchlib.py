"""Shared by the Python benchmark drivers (imported from the script's own directory)."""
import ctypes
import json
import os
import platform
import statistics


def openblas():
    """The libopenblas that torch loaded (to set its threads and print its config), or None."""
    for line in open("/proc/self/maps"):
        if "libopenblas" in line:
            lib = ctypes.CDLL(line.split()[-1])
            lib.openblas_get_config.restype = ctypes.c_char_p
            return lib
    return None


def banner(torch, lib):
    """One line: CPU model, cores, torch version, the BLAS in use."""
    return machine(lib).replace("; BLAS:", "; torch %s; BLAS:" % torch.__version__)


def machine(lib):
    """One line: CPU model and ISA, cores, the BLAS in use and its kernel."""
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if "model name" in line),
               platform.processor())
    blas = "unknown"
    if lib:
        lib.openblas_get_corename.restype = lib.openblas_get_config.restype
        blas = "%s, kernel %s" % (lib.openblas_get_config().decode(), lib.openblas_get_corename().decode())
    flags = next((line.split(":", 1)[1].split() for line in open("/proc/cpuinfo") if line.startswith("flags")), [])
    isa = ("AVX-512" if {"avx512f", "avx512bw", "avx512dq", "avx512vl"} <= set(flags) else
           "AVX2" if {"avx2", "fma"} <= set(flags) else "AVX" if "avx" in flags else "SSE")
    return "cpu: %s (%s), %d cores; BLAS: %s" % (cpu, isa, os.cpu_count(), blas)


def repeats(default=5):
    """The repeat count: $REPEATS (a number; small for a smoke run), else default."""
    return int(os.environ.get("REPEATS", default))


def summary(xs, fmt="%.2f"):
    """'median (min-max)' of a list of figures."""
    return (fmt + " (" + fmt + "-" + fmt + ")") % (statistics.median(xs), min(xs), max(xs))


def step_seconds(metrics, skip):
    """Median seconds per training step of a run logged with --log-every=1: the differences of
    the cumulative "seconds" of its metrics.jsonl training lines, the first `skip` steps left
    out (warm-up: first-touch allocations, caches)."""
    secs = [json.loads(line)["seconds"] for line in open(metrics) if '"loss"' in line]
    diffs = [b - a for a, b in zip(secs, secs[1:])][max(skip - 1, 0):]
    if not diffs:
        raise SystemExit("%s: %d training lines, need more than %d" % (metrics, len(secs), skip))
    return statistics.median(diffs)


def thread_counts(spec):
    """"1,2" -> [1, 2]; "auto" -> 1, 2, 4, ... below the cores, and the cores."""
    if spec != "auto":
        return [int(t) for t in spec.split(",") if t]
    n, out = len(os.sched_getaffinity(0)), [1]
    while out[-1] * 2 < n:
        out.append(out[-1] * 2)
    return out + [n] if n > 1 else out


def policy_env(policy, drop=()):
    """The environment for a contender's process: OMP_WAIT_POLICY=policy (None: unset, so the
    program's own default; avmask's is passive), the variables in drop removed."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY" and k not in drop}
    if policy:
        env["OMP_WAIT_POLICY"] = policy
    return env
