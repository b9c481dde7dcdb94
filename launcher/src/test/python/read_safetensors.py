"""Tensors of a safetensors file, read by its format with numpy alone: an 8-byte little-endian header
length, a JSON header naming each tensor's dtype, shape and byte range, then the data (F32 here).
Shared by the numpy readers of ikd's exported models; it uses no ikd code."""
import json
import struct

import numpy as np


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    body = data[8 + n:]
    tensors = {}
    for name, entry in header.items():
        assert entry["dtype"] == "F32", entry
        start, end = entry["data_offsets"]
        tensors[name] = np.frombuffer(body[start:end], dtype="<f4").reshape(entry["shape"]).astype(np.float64)
    return tensors
