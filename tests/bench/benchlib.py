"""Shared by the Python benchmark drivers (imported from the script's own directory)."""
import ctypes
import os
import platform


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
