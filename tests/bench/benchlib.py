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
    """One line: CPU model, cores, torch version, the BLAS in use (BENCHMARKING.md)."""
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if "model name" in line),
               platform.processor())
    return "cpu: %s, %d cores; torch %s; BLAS: %s" % (cpu, os.cpu_count(), torch.__version__,
                                                     lib.openblas_get_config().decode() if lib else "unknown")
