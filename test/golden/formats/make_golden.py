"""Golden fixtures for test/formats and test/data, made by numpy/scipy (independent references).

Run from the repo root:  python3 test/golden/formats/make_golden.py
Needs numpy (>= 1.24, for np.save's header padding) and scipy. Output is deterministic; the files
are committed, so the tests never need Python. Keep everything tiny (< 50 KB in total).

- npy: float32 / float16 / float64 v1.0, a v2.0 header, a Fortran-ordered file, an int32 file and a
  1-D file, all via numpy itself.
- safetensors: written by hand below from the format spec (8-byte LE u64 header length, JSON header,
  raw LE bytes), with F32, F16, BF16 and F64 tensors and metadata, plus corrupt variants.
  `f32_only.safetensors` follows husai's writer conventions (sorted names, __metadata__ first with
  sorted keys, compact JSON, spaces to a multiple of 8) so the test can compare bytes.
- float16.json: f16 bit patterns -> float32 bits, and float32 bits -> f16 bits (numpy astype).
- ndtri.json: scipy.special.ndtri at probabilities from 1e-300 to 1 - 1e-16.
"""
import json
import os
import struct

import numpy as np
from scipy.special import ndtri

HERE = os.path.dirname(os.path.abspath(__file__))


def out(name):
    return os.path.join(HERE, name)


# ---------------------------------------------------------------- npy
# Row r, column c holds r + c/8 (exact in every float type) so readers can check placement.
base = np.array([[r + c / 8 for c in range(3)] for r in range(5)], dtype=np.float64)
np.save(out("f4_v1.npy"), base.astype(np.float32))
np.save(out("f8_v1.npy"), base.astype(np.float64))
half = np.array(
    [[1.0, -2.5, 65504.0], [6.103515625e-05, 5.960464477539063e-08, -0.0], [0.333251953125, 1000.0, -3.0e-7]],
    dtype=np.float16,
)
np.save(out("f2_v1.npy"), half)
with open(out("f4_v2.npy"), "wb") as f:
    np.lib.format.write_array(f, base.astype(np.float32), version=(2, 0))
np.save(out("f4_fortran.npy"), np.asfortranarray(base.astype(np.float32)))
np.save(out("i4.npy"), np.arange(6, dtype=np.int32).reshape(2, 3))
np.save(out("f4_1d.npy"), np.array([1.5, -2.0, 3.25], dtype=np.float32))
assert np.load(out("f4_fortran.npy")).flags.f_contiguous


# ---------------------------------------------------------------- safetensors (by hand)
def st_bytes(tensors, metadata=None, raw_header=None, pad=True, sort=True):
    """tensors: list of (name, dtype, shape, raw bytes). Returns file bytes."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = dict(sorted(metadata.items()))
    offset = 0
    body = b""
    for name, dtype, shape, raw in sorted(tensors) if sort else tensors:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        body += raw
    text = raw_header if raw_header is not None else json.dumps(header, separators=(",", ":"))
    hb = text.encode("utf-8")
    if pad:
        hb += b" " * ((8 - len(hb) % 8) % 8)
    return struct.pack("<Q", len(hb)) + hb + body


def bf16(values):
    """float32 -> bfloat16 bits by truncation; the values used are exact in bf16."""
    bits = np.array(values, dtype=np.float32).view(np.uint32)
    assert np.all(bits & 0xFFFF == 0), "golden bf16 values must be exact"
    return (bits >> 16).astype("<u2").tobytes()


a32 = np.array([[1.0, -2.0, 3.5], [0.25, 1e-3, -7.0]], dtype="<f4")
b16 = np.array([0.5, -1.5, 65504.0, 6.1035e-05], dtype="<f2")
c_bf = [1.0, -2.25, 1.5, -0.0078125]
d64 = np.array([1.0 / 3.0, -2.5], dtype="<f8")
tensors = [
    ("acts", "F32", (2, 3), a32.tobytes()),
    ("half", "F16", (4,), b16.tobytes()),
    ("brain", "BF16", (2, 2), bf16(c_bf)),
    ("wide", "F64", (2,), d64.tobytes()),
]
meta = {"format": "pt", "note": "golden, made by make_golden.py"}
with open(out("mixed.safetensors"), "wb") as f:
    f.write(st_bytes(tensors, meta))

# husai writer conventions, F32 only: compared byte for byte with writeSafetensors.
f32_tensors = [
    ("b", "F32", (3,), np.array([0.5, -1.0, 2.0], dtype="<f4").tobytes()),
    ("W", "F32", (2, 3), a32.tobytes()),
]
with open(out("f32_only.safetensors"), "wb") as f:
    f.write(st_bytes(f32_tensors, {"seed": "7", "arch": "topk"}))

# One 2-D tensor, for the activation source.
acts = np.array([[r + c / 8 for c in range(4)] for r in range(6)], dtype="<f4")
with open(out("acts.safetensors"), "wb") as f:
    f.write(st_bytes([("acts", "F32", (6, 4), acts.tobytes()), ("tokens", "F32", (6,), np.arange(6, dtype="<f4").tobytes())]))

# Corrupt variants.
good = st_bytes(tensors, meta)
with open(out("bad_truncated.safetensors"), "wb") as f:
    f.write(good[:-5])  # last tensor's bytes cut short
with open(out("bad_header_len.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", 10_000) + b'{"a":1}')
ov = {
    "x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
    "y": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]},
}
with open(out("bad_overlap.safetensors"), "wb") as f:
    f.write(st_bytes([], raw_header=json.dumps(ov, separators=(",", ":"))) + bytes(12))
bs = {"x": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 20]}}
with open(out("bad_size.safetensors"), "wb") as f:
    f.write(st_bytes([], raw_header=json.dumps(bs, separators=(",", ":"))) + bytes(20))
dup = '{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}'
with open(out("bad_duplicate.safetensors"), "wb") as f:
    f.write(st_bytes([], raw_header=dup) + bytes(8))
bm = '{"__metadata__":{"seed":7},"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
with open(out("bad_metadata.safetensors"), "wb") as f:
    f.write(st_bytes([], raw_header=bm) + bytes(4))
bd = '{"x":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}'
with open(out("bad_dtype.safetensors"), "wb") as f:
    f.write(st_bytes([], raw_header=bd) + bytes(8))


# ---------------------------------------------------------------- float16
rng = np.random.default_rng(20260101)
special16 = [0x0000, 0x8000, 0x0001, 0x8001, 0x03FF, 0x0400, 0x3C00, 0xBC00, 0x3555, 0x7BFF, 0xFBFF,
             0x7C00, 0xFC00, 0x7E00, 0x7C01, 0xFE00, 0x0200, 0x3BFF, 0x4000, 0x5640]
bits16 = np.array(special16 + list(rng.integers(0, 65536, 200)), dtype=np.uint16)
f16_to_f32 = bits16.view(np.float16).astype(np.float32).view(np.uint32)
# float32 -> float16: boundaries, ties, subnormals, overflow, and random values spread over f16's range.
f32_special = np.array([
    0.0, -0.0, 1.0, -1.0, 65504.0, 65519.996, 65520.0, 1e10, -1e10, np.inf, -np.inf,
    6.103515625e-05, 6.1035154e-05, 5.960464477539063e-08, 2.9802322387695312e-08, 2.98023259e-08,
    2.9802321e-08, 8.940696716308594e-08, 1.0009765625, 1.00048828125, 1.00146484375,
    2049.0, 2051.0, 1e-30, -1e-45, 0.1, 1 / 3,
], dtype=np.float32)
mags = np.exp(rng.uniform(np.log(1e-8), np.log(7e4), 260)) * rng.choice([-1, 1], 260)
f32_vals = np.concatenate([f32_special, mags.astype(np.float32)])
f32_bits = f32_vals.view(np.uint32)
with np.errstate(over="ignore"):
    f32_to_f16 = f32_vals.astype(np.float16).view(np.uint16)
with open(out("float16.json"), "w") as f:
    json.dump({
        "f16_bits": [int(x) for x in bits16],
        "f16_as_f32_bits": [int(x) for x in f16_to_f32],
        "f32_bits": [int(x) for x in f32_bits],
        "f32_as_f16_bits": [int(x) for x in f32_to_f16],
    }, f, separators=(",", ":"))


# ---------------------------------------------------------------- inverse normal CDF
ps = [1e-300, 1e-100, 1e-20, 1e-10, 1e-6, 1e-4, 0.001, 0.01, 0.02425, 0.025, 0.05, 0.1, 0.2, 0.3,
      0.4, 0.425, 0.45, 0.49, 0.5, 0.51, 0.6, 0.75, 0.9, 0.95, 0.975, 0.99, 0.999, 0.9999, 1 - 1e-10,
      1 - 1e-15, 0.07, 0.075, 0.0749, 0.0751, 1.3e-12]
with open(out("ndtri.json"), "w") as f:
    json.dump({"p": ps, "ndtri": [float(ndtri(p)) for p in ps]}, f, indent=0)

total = sum(os.path.getsize(out(n)) for n in os.listdir(HERE))
print(f"golden fixtures written, {total} bytes in {HERE}")
