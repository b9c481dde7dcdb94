#!/usr/bin/env python3
"""Class probabilities of an exported ikd model, with numpy alone.

Reads the safetensors file by its format (8-byte header length, JSON header, little-endian data)
and the model card beside it, runs the forward pass the card describes, and prints
{"probabilities": [[...], ...]} as JSON. It uses no ikd code.

    numpy_predict.py MODEL.safetensors CARD.json ROWS.csv

An mlp reads ROWS.csv as a table with a header: the card's feature columns, found by name and
standardised with its feature_mean and feature_std (a teacher's adapter applied if the file has
one). A cnn reads ROWS.csv as samples already in the model's input range (pixels / 255), one
flattened sample of the card's input_shape per line, no header.
"""
import csv
import json
import sys

import numpy as np

from read_safetensors import read_safetensors


def conv3x3(x, w, b):
    """Cross-correlation, stride 1, padding 1: x [N, C, H, W], w [O, C, 3, 3] -> [N, O, H, W]."""
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(2, 3))
    return np.einsum("nchwij,ocij->nohw", windows, w) + b[None, :, None, None]


def forward(t, x, family):
    k = 1
    while f"stage{k}.w1" in t:
        if family == "cnn":
            h = np.tanh(conv3x3(x, t[f"stage{k}.w1"], t[f"stage{k}.b1"]))
            h = np.tanh(conv3x3(h, t[f"stage{k}.w2"], t[f"stage{k}.b2"]))
            n, c, height, width = h.shape
            x = h[:, :, :height // 2 * 2, :width // 2 * 2].reshape(n, c, height // 2, 2, width // 2, 2).mean(axis=(3, 5))
        else:
            h = np.tanh(x @ t[f"stage{k}.w1"] + t[f"stage{k}.b1"])
            x = np.tanh(h @ t[f"stage{k}.w2"] + t[f"stage{k}.b2"])
        k += 1
    x = x.reshape(x.shape[0], -1)
    logits = x @ t["head.w"] + t["head.b"]
    if "adapter.w1" in t:
        logits = logits - np.tanh(x @ t["adapter.w1"] + t["adapter.b1"]) @ t["adapter.w2"] - t["adapter.b2"]
    logits = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def main(model, card_path, rows_path):
    with open(card_path) as f:
        card = json.load(f)
    family = card["spec"].split(":")[0]
    assert family in ("mlp", "cnn"), "this reader knows the mlp and cnn families"
    with open(rows_path, newline="") as f:
        rows = [r for r in csv.reader(f) if r]
    if family == "cnn":
        x = np.array([[float(v) for v in r] for r in rows], dtype=np.float64).reshape(-1, *card["input_shape"])
    else:
        header = [c.strip() for c in rows[0]]
        columns = [header.index(name) for name in card["feature_names"]]
        x = np.array([[float(r[c]) for c in columns] for r in rows[1:]], dtype=np.float64)
        x = (x - np.array(card["feature_mean"])) / np.array(card["feature_std"])
    p = forward(read_safetensors(model), x, family)
    json.dump({"probabilities": p.tolist()}, sys.stdout)


if __name__ == "__main__":
    main(*sys.argv[1:4])
