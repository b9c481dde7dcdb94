#!/usr/bin/env python3
"""Next-token logits of a language model ikd wrote, with numpy alone.

Reads the safetensors file by its format and the card beside it, runs the forward pass the card
describes (gpt:LAYERS:WIDTH:HEADS:CONTEXT) on each sequence of token ids in TOKENS.json (a list of
lists), and prints {"logits": [[[...] per position] per sequence]} as JSON. It uses no ikd code.

    numpy_gpt.py MODEL.safetensors CARD.json TOKENS.json
"""
import json
import sys

import numpy as np

from read_safetensors import read_safetensors


def layer_norm(x, g, b):
    centred = x - x.mean(axis=-1, keepdims=True)
    var = (centred ** 2).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(var + 1e-5) * (1 + g) + b


def gelu(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def forward(t, tokens, layers, width, heads):
    n = len(tokens)
    h = t["gpt.wte"][tokens] + t["gpt.wpe"][:n]
    d = width // heads
    masked = np.triu(np.ones((n, n), dtype=bool), k=1)
    for layer in range(layers):
        p = f"gpt.l{layer}."
        a = layer_norm(h, t[p + "ln1.g"], t[p + "ln1.b"])
        q, k, v = np.split(a @ t[p + "qkv.w"] + t[p + "qkv.b"], 3, axis=-1)
        q, k, v = (x.reshape(n, heads, d).transpose(1, 0, 2) for x in (q, k, v))
        scores = q @ k.transpose(0, 2, 1) / np.sqrt(d)
        scores[:, masked] = -np.inf
        mixed = (softmax(scores) @ v).transpose(1, 0, 2).reshape(n, width)
        h = h + mixed @ t[p + "proj.w"] + t[p + "proj.b"]
        m = layer_norm(h, t[p + "ln2.g"], t[p + "ln2.b"])
        h = h + gelu(m @ t[p + "fc.w"] + t[p + "fc.b"]) @ t[p + "out.w"] + t[p + "out.b"]
    return layer_norm(h, t["gpt.lnf.g"], t["gpt.lnf.b"]) @ t["gpt.wte"].T


def main(model, card_path, tokens_path):
    with open(card_path) as f:
        card = json.load(f)
    family, layers, width, heads, context = card["spec"].split(":")
    assert family == "gpt", "this reader knows the gpt family"
    with open(tokens_path) as f:
        sequences = json.load(f)
    t = read_safetensors(model)
    out = [forward(t, np.array(s), int(layers), int(width), int(heads)).tolist() for s in sequences]
    print(json.dumps({"logits": out}))


if __name__ == "__main__":
    main(*sys.argv[1:])
