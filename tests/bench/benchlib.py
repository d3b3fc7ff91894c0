"""Shared by the Python benchmark drivers (imported from the script's own directory)."""
import ctypes


def openblas():
    """The libopenblas that torch loaded (to set its threads and print its config), or None."""
    for line in open("/proc/self/maps"):
        if "libopenblas" in line:
            lib = ctypes.CDLL(line.split()[-1])
            lib.openblas_get_config.restype = ctypes.c_char_p
            return lib
    return None
