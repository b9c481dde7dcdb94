#!/usr/bin/env python3
"""Class probabilities of an exported ikd model for the rows of a table, with numpy alone.

Reads the safetensors file by its format (8-byte header length, JSON header, little-endian data),
the model card beside it, and the table; standardises the feature columns with the card's mean and
deviation, runs the forward pass the card describes (mlp family, with a teacher's adapter if the
file has one), and prints {"probabilities": [[...], ...]} as JSON. It uses no ikd code.

    numpy_predict.py MODEL.safetensors CARD.json ROWS.csv
"""
import csv
import json
import struct
import sys

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


def forward(t, x):
    k = 1
    while f"stage{k}.w1" in t:
        h = np.tanh(x @ t[f"stage{k}.w1"] + t[f"stage{k}.b1"])
        x = np.tanh(h @ t[f"stage{k}.w2"] + t[f"stage{k}.b2"])
        k += 1
    logits = x @ t["head.w"] + t["head.b"]
    if "adapter.w1" in t:
        logits = logits - np.tanh(x @ t["adapter.w1"] + t["adapter.b1"]) @ t["adapter.w2"] - t["adapter.b2"]
    logits = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def main(model, card_path, rows_path):
    with open(card_path) as f:
        card = json.load(f)
    assert card["spec"].startswith("mlp:"), "this reader knows the mlp family"
    with open(rows_path, newline="") as f:
        rows = [r for r in csv.reader(f) if r]
    header = [c.strip() for c in rows[0]]
    columns = [header.index(name) for name in card["feature_names"]]
    x = np.array([[float(r[c]) for c in columns] for r in rows[1:]], dtype=np.float64)
    x = (x - np.array(card["feature_mean"])) / np.array(card["feature_std"])
    p = forward(read_safetensors(model), x)
    json.dump({"probabilities": p.tolist()}, sys.stdout)


if __name__ == "__main__":
    main(*sys.argv[1:4])
