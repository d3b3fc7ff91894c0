"""Strict reader of the safetensors format (the published spec, checked the way the
reference Rust implementation does), independent of avmask's own loader:
  8 bytes: N, little-endian u64; N bytes: a UTF-8 JSON object starting with '{' (trailing
  spaces allowed as padding); then the byte buffer. Every entry except "__metadata__" (a
  str -> str map) is {"dtype", "shape", "data_offsets": [begin, end]} with a known dtype,
  non-negative integer shape, end - begin = prod(shape) * dtype size, and the entries,
  sorted by offset, tiling the whole buffer with no gap and no overlap.
Usage: safetensors_strict.py FILE [--expect-fail]   (prints the tensor count)"""
import json, struct, sys

SIZES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2,
         "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8}


def check(path):
    raw = open(path, "rb").read()
    if len(raw) < 8:
        raise ValueError("shorter than the 8-byte header size")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > 100_000_000 or 8 + n > len(raw):
        raise ValueError(f"header size {n} does not fit the file ({len(raw)} bytes)")
    text = raw[8:8 + n].decode("utf-8")
    if not text.startswith("{"):
        raise ValueError("header does not start with '{'")
    header = json.loads(text.rstrip(" "))
    buf = len(raw) - 8 - n
    spans = []
    for name, t in header.items():
        if name == "__metadata__":
            if not (isinstance(t, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in t.items())):
                raise ValueError("__metadata__ is not a map of strings")
            continue
        if set(t) != {"dtype", "shape", "data_offsets"}:
            raise ValueError(f"{name}: keys {sorted(t)}")
        if t["dtype"] not in SIZES:
            raise ValueError(f"{name}: unknown dtype {t['dtype']!r}")
        shape = t["shape"]
        if not all(isinstance(d, int) and d >= 0 for d in shape):
            raise ValueError(f"{name}: bad shape {shape}")
        a, b = t["data_offsets"]
        count = 1
        for d in shape:
            count *= d
        if not (isinstance(a, int) and isinstance(b, int) and 0 <= a <= b <= buf):
            raise ValueError(f"{name}: offsets {a, b} outside the {buf}-byte buffer")
        if b - a != count * SIZES[t["dtype"]]:
            raise ValueError(f"{name}: {b - a} bytes for shape {shape} of {t['dtype']}")
        spans.append((a, b, name))
    spans.sort()
    pos = 0
    for a, b, name in spans:
        if a != pos:
            raise ValueError(f"{name}: starts at {a}, expected {pos} (gap or overlap)")
        pos = b
    if pos != buf:
        raise ValueError(f"tensors cover {pos} of {buf} buffer bytes")
    return len(spans)


if __name__ == "__main__":
    expect_fail = "--expect-fail" in sys.argv
    try:
        n = check(sys.argv[1])
    except (ValueError, UnicodeDecodeError, json.JSONDecodeError, struct.error) as e:
        print(f"{sys.argv[1]}: {e}")
        sys.exit(0 if expect_fail else 1)
    print(f"{sys.argv[1]}: {n} tensors, valid safetensors")
    sys.exit(1 if expect_fail else 0)
