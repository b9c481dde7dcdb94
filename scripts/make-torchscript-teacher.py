#!/usr/bin/env python3
"""Makes TorchScript teachers for ikd's bundled digits, with Debian's python3-torch.

Trains a small two-layer network on the digits (pixels 0..16 scaled to 0..1, as ikd reads them;
the first 80% of the file's rows, seeded) and saves it twice as TorchScript:

  OUT/digits-teacher.pt          forward(x) returns (logits, features): the features are the
                                 penultimate layer, which ikd's adapter modes need
  OUT/digits-teacher-method.pt   forward(x) returns the logits alone; the exported method
                                 features(x) gives the penultimate layer (--teacher torchscript:FILE#features)

    scripts/make-torchscript-teacher.py OUT [--steps N]

Use one with: ikd local --teacher torchscript:OUT/digits-teacher.pt --teacher-mode ikd-adapter
"""
import argparse
import csv
import gzip
import os

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIGITS = os.path.join(ROOT, "core", "src", "main", "resources", "dev", "ikd", "core", "data", "digits.csv.gz")


class Teacher(torch.nn.Module):
    def __init__(self, features: int, hidden: int, classes: int):
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Linear(features, hidden), torch.nn.Tanh(),
                                        torch.nn.Linear(hidden, hidden), torch.nn.Tanh())
        self.head = torch.nn.Linear(hidden, classes)

    def forward(self, x):
        h = self.body(x)
        return self.head(h), h


class LogitsOnly(torch.nn.Module):
    """The same network; the penultimate features from a method of their own."""

    def __init__(self, teacher: Teacher):
        super().__init__()
        self.body = teacher.body
        self.head = teacher.head

    def forward(self, x):
        return self.head(self.body(x))

    @torch.jit.export
    def features(self, x):
        return self.body(x)


def digits():
    with gzip.open(DIGITS, "rt") as f:
        rows = [r for r in csv.reader(f) if r]
    x = torch.tensor([[float(v) / 16.0 for v in r[:64]] for r in rows], dtype=torch.float32)
    y = torch.tensor([int(r[64]) for r in rows], dtype=torch.long)
    return x, y


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    torch.manual_seed(7)
    x, y = digits()
    train = int(0.8 * len(x))
    teacher = Teacher(64, 64, 10)
    optimiser = torch.optim.SGD(teacher.parameters(), lr=0.1, momentum=0.9)
    generator = torch.Generator().manual_seed(7)
    for _ in range(args.steps):
        batch = torch.randint(0, train, (64,), generator=generator)
        loss = torch.nn.functional.cross_entropy(teacher(x[batch])[0], y[batch])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    teacher.eval()
    with torch.no_grad():
        accuracy = (teacher(x[train:])[0].argmax(1) == y[train:]).float().mean().item()
    os.makedirs(args.out, exist_ok=True)
    torch.jit.script(teacher).save(os.path.join(args.out, "digits-teacher.pt"))
    torch.jit.script(LogitsOnly(teacher)).save(os.path.join(args.out, "digits-teacher-method.pt"))
    print(f"digits teacher: {args.steps} steps, accuracy {accuracy:.4f} on the last 20% of the rows; saved in {args.out}")


if __name__ == "__main__":
    main()
