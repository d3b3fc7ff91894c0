"""Rebuild avmask's exported audio encoder in PyTorch (1.13+).

    from load_avmask import load, features
    model, config = load("exp/av/export")          # reads config.json + model.safetensors
    x = features(fbank, config)                    # [frames, n_mels] fbank -> [T, 320] tokens
    out = model(x[None])                           # [1, T, d]
    out, hidden = model(x[None], lengths, return_hidden=True)

The module computes what avmask's audio branch computes (models/README.md): a Linear
front-end, learned position and modality-type embeddings, the audio encoder (pre-LN
TransformerEncoderLayers with GELU) and its final LayerNorm, the per-token fusion projection
(model.fusion "concat": the audio half of the AV model's Linear(2d -> d), since the video
enters as zeros; absent for exports of fusion "sequence"), the fusion encoder over the audio
tokens alone and its final LayerNorm. Parameter names follow avmask's; the layers are
torch.nn.TransformerEncoderLayer, so attn.in_proj.* maps to self_attn.in_proj_*,
attn.out_proj to self_attn.out_proj, ffn.fc1/fc2 to linear1/linear2.
"""
import json
import os
import struct
import warnings
import zlib

import numpy as np
import torch
from torch import nn

FORMAT = "avmask-audio-encoder-1"
CRC_KEY = "avmask_crc32"


class Encoder(nn.Module):
    def __init__(self, n, d, heads, ffn, dropout, eps):
        super().__init__()
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(d, heads, ffn, dropout=dropout, activation="gelu",
                                       layer_norm_eps=eps, batch_first=True, norm_first=True)
            for _ in range(n))
        self.norm = nn.LayerNorm(d, eps=eps)

    def forward(self, x, pad, hidden):
        for layer in self.layers:
            x = layer(x, src_key_padding_mask=pad)
            hidden.append(x)
        return self.norm(x)


class AudioEncoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        m = config["model"]
        eps = config.get("layer", {}).get("layer_norm_eps", 1e-5)
        d = m["d"]
        self.max_len = m["max_len"]
        self.audio_frontend = nn.Linear(m["audio_in"], d)
        self.audio_pos = nn.Parameter(torch.zeros(m["max_len"], d))
        self.audio_type = nn.Parameter(torch.zeros(d))
        self.audio_encoder = Encoder(m["layers_audio"], d, m["heads"], m["ffn"], m["dropout"], eps)
        # exports written before the key existed used the sequence fusion (no projection)
        self.fusion_proj = nn.Linear(d, d) if m.get("fusion", "sequence") == "concat" else None
        self.fusion_encoder = Encoder(m["layers_fusion"], d, m["heads"], m["ffn"], m["dropout"], eps)

    def forward(self, x, lengths=None, return_hidden=False):
        """x: [B, T, audio_in]; lengths: [B] tokens (None: all T). Returns [B, T, d] (rows
        t >= length are padding) and, with return_hidden, the embeddings and every audio
        and fusion layer output (before the final norms), as avmask's hidden states."""
        B, T, _ = x.shape
        if T > self.max_len:
            raise ValueError(f"{T} tokens exceed max_len {self.max_len}")
        if lengths is None:
            lengths = torch.full((B,), T, dtype=torch.long)
        pad = torch.arange(T)[None, :] >= torch.as_tensor(lengths)[:, None]
        h = self.audio_frontend(x) + self.audio_pos[:T] + self.audio_type
        hidden = [h]
        h = self.audio_encoder(h, pad, hidden)
        if self.fusion_proj is not None:
            h = self.fusion_proj(h)
        h = self.fusion_encoder(h, pad, hidden)
        return (h, hidden) if return_hidden else h


def torch_name(name):
    """avmask parameter name -> name in AudioEncoder's state_dict."""
    for a, b in ((".attn.in_proj.weight", ".self_attn.in_proj_weight"),
                 (".attn.in_proj.bias", ".self_attn.in_proj_bias"),
                 (".attn.out_proj.", ".self_attn.out_proj."),
                 (".ffn.fc1.", ".linear1."), (".ffn.fc2.", ".linear2.")):
        name = name.replace(a, b)
    return name


def _no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"duplicate names in the header: {sorted(k for k in set(keys) if keys.count(k) > 1)}")
    return dict(pairs)


def _safetensors_header(path, raw):
    """The header of a safetensors file, checked as strictly as the published format
    (tests/ref/safetensors_strict.py): every tensor F32 with end - begin = prod(shape) * 4,
    no duplicate name, and the tensors, sorted by offset, tiling the data with no gap and no
    overlap. A shifted or overlapping offset would otherwise load other bytes as weights."""
    if len(raw) < 8:
        raise ValueError(f"{path}: shorter than the 8-byte header size")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ValueError(f"{path}: header size {n} does not fit the file ({len(raw)} bytes)")
    text = raw[8:8 + n].decode("utf-8")
    if not text.startswith("{"):
        raise ValueError(f"{path}: header does not start with '{{'")
    try:
        header = json.loads(text.rstrip(" "), object_pairs_hook=_no_duplicates)
    except ValueError as e:
        raise ValueError(f"{path}: header: {e}") from None
    if not isinstance(header, dict):
        raise ValueError(f"{path}: header is not a JSON object")
    size, spans = len(raw) - 8 - n, []
    for name, t in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(t, dict) or set(t) != {"dtype", "shape", "data_offsets"}:
            raise ValueError(f"{path}: {name}: not a tensor entry")
        if t["dtype"] != "F32":
            raise ValueError(f"{path}: {name}: dtype {t['dtype']}, expected F32")
        shape, offs = t["shape"], t["data_offsets"]
        if not (isinstance(shape, list) and all(type(d) is int and d >= 0 for d in shape)):
            raise ValueError(f"{path}: {name}: bad shape {shape}")
        if not (isinstance(offs, list) and len(offs) == 2 and all(type(o) is int for o in offs)
                and 0 <= offs[0] <= offs[1] <= size):
            raise ValueError(f"{path}: {name}: offsets {offs} outside the {size}-byte data")
        if offs[1] - offs[0] != 4 * int(np.prod(shape, dtype=np.int64)):
            raise ValueError(f"{path}: {name}: {offs[1] - offs[0]} bytes for shape {shape} of F32")
        spans.append((offs[0], offs[1], name))
    pos = 0
    for a, b, name in sorted(spans):
        if a != pos:
            raise ValueError(f"{path}: {name}: starts at byte {a}, expected {pos} (gap or overlap)")
        pos = b
    if pos != size:
        raise ValueError(f"{path}: tensors cover {pos} of {size} data bytes")
    return header, 8 + n


def _check_crc(path, tensors, stored):
    """The export checksum (train/safetensors.h): CRC-32 of each tensor's float32
    little-endian bytes, one after another in name order, as 8 lowercase hex digits.
    stored None: an export written before checksums, loaded with a warning."""
    if stored is None:
        warnings.warn(f"{path}: written before exports carried a checksum ({CRC_KEY}): loaded unchecked")
        return
    if not (isinstance(stored, str) and len(stored) == 8 and all(c in "0123456789abcdef" for c in stored)):
        raise ValueError(f"{path}: {CRC_KEY} {stored!r} is not 8 hex digits")
    crc = 0
    for name in sorted(tensors, key=lambda k: k.encode()):
        crc = zlib.crc32(np.ascontiguousarray(tensors[name], dtype="<f4").tobytes(), crc)
    if f"{crc:08x}" != stored:
        raise ValueError(f"{path}: checksum mismatch (stored {stored}, data {crc:08x}): corrupted export refused")


def read_safetensors(path):
    """{name: float32 ndarray} from a safetensors file (no extra package needed)."""
    with open(path, "rb") as f:
        raw = f.read()
    header, start = _safetensors_header(path, raw)
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        out[name] = np.frombuffer(raw[start + a:start + b], dtype="<f4").reshape(t["shape"])
    meta = header.get("__metadata__", {})
    _check_crc(path, out, meta.get(CRC_KEY) if isinstance(meta, dict) else None)
    return out


SEAL_MAGIC, SEAL_BLOCK = b"avmask-sealed-1 ", 512


def check_seal(path):
    """avmask's HDF5 files carry a seal (data/h5util.h): a 512-byte user block with the CRC-32
    and size of the rest of the file. Refuse a file whose seal does not match before HDF5
    parses it; a file that starts with the HDF5 signature has no seal (older files)."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:8] == b"\x89HDF\r\n\x1a\n":
        return
    line = raw[:SEAL_BLOCK].split(b"\n", 1)[0]
    parts = line[len(SEAL_MAGIC):].split(b" ")
    if (len(raw) < SEAL_BLOCK or not line.startswith(SEAL_MAGIC) or len(parts) != 2
            or not parts[0].startswith(b"crc32=") or not parts[1].startswith(b"bytes=")):
        raise ValueError(f"{path}: neither an HDF5 signature nor an avmask seal at its start: corrupted or not HDF5")
    rest = raw[SEAL_BLOCK:]
    if int(parts[1][6:]) != len(rest):
        raise ValueError(f"{path}: {len(rest)} bytes after the seal, sealed with {int(parts[1][6:])}: truncated or extended")
    if f"{zlib.crc32(rest):08x}" != parts[0][6:].decode("ascii", "replace"):
        raise ValueError(f"{path}: file checksum mismatch (sealed {parts[0][6:].decode('ascii', 'replace')}, "
                         f"file {zlib.crc32(rest):08x}): corrupted export refused")


def read_h5(path):
    import h5py
    check_seal(path)
    with h5py.File(path, "r") as f:
        out = {k: f["params"][k][()] for k in f["params"]}
        stored = f.attrs.get(CRC_KEY)
    if isinstance(stored, bytes):
        stored = stored.decode("utf-8", "replace")
    _check_crc(path, out, stored)
    return out


def load(export_dir, source="safetensors"):
    """The encoder (eval mode) and its config.json. source: 'safetensors' or 'h5'."""
    with open(os.path.join(export_dir, "config.json")) as f:
        config = json.load(f)
    if config.get("format") != FORMAT:
        raise ValueError(f"{export_dir}: not an {FORMAT} export")
    tensors = (read_safetensors(os.path.join(export_dir, "model.safetensors")) if source == "safetensors"
               else read_h5(os.path.join(export_dir, "audio_encoder.h5")))
    model = AudioEncoder(config)
    state = {torch_name(k): torch.from_numpy(np.array(v)) for k, v in tensors.items()}
    model.load_state_dict(state, strict=True)   # every tensor present, with its shape
    model.eval()
    return model, config


def features(fbank, config):
    """[frames, n_mels] log-mel fbank (avmask extract's) -> [frames // S, S * n_mels] tokens:
    CMVN with the pretraining statistics, then S = features.stack frames stacked per token
    (4 at 25 tokens/s)."""
    c = config["cmvn"]
    mean = np.asarray(c["mean"], dtype=np.float32)
    istd = 1.0 / np.sqrt(np.maximum(np.asarray(c["var"], dtype=np.float64), c.get("var_floor", 1e-10)))
    x = (np.asarray(fbank, dtype=np.float32) - mean) * istd.astype(np.float32)
    stack = (config.get("features") or {}).get("stack", 4) or 4
    T = x.shape[0] // stack
    return torch.from_numpy(x[:T * stack].reshape(T, stack * x.shape[1]).astype(np.float32))
