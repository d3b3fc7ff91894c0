"""Re-seals avmask HDF5 files a test edited with h5py (data/h5util.h): recomputes the
avmask_crc32 attribute over /params (if the file has one; train/safetensors.h) and the seal in
the 512-byte user block, as if the edit had been written by avmask. Used where a test edits
weights on purpose (test_probe) or checks what is refused behind the seal (test_kmeans).

usage: h5_reseal.py FILE..."""
import sys
import zlib

import h5py
import numpy as np

for path in sys.argv[1:]:
    with h5py.File(path, "r+") as f:
        if "avmask_crc32" in f.attrs and "params" in f:
            crc = 0
            for k in sorted(f["params"], key=str.encode):
                crc = zlib.crc32(np.ascontiguousarray(f["params"][k][()], dtype="<f4").tobytes(), crc)
            f.attrs["avmask_crc32"] = f"{crc:08x}"
    raw = open(path, "rb").read()
    if not raw.startswith(b"avmask-sealed-1 "):
        continue
    rest = raw[512:]
    block = f"avmask-sealed-1 crc32={zlib.crc32(rest):08x} bytes={len(rest)}\n".encode().ljust(512, b"\0")
    open(path, "wb").write(block + rest)
