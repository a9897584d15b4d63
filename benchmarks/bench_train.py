"""Trainer overhead: samples/s of Trainer.fit vs a bare PyTorch loop, measured in one run.

Same model (SequenceNetwork: LSTM + linear head), same data, same optimizer (Adam),
same clipping (global norm 1.0), same batch order machinery (a shuffled DataLoader).
Shape B=32, T=50, F=8, H=32. Runs alternate (bare, trainer, bare, ...) so machine noise
hits both; the ratio of medians is printed. Target: trainer >= 0.95 x bare.

usage: python benchmarks/bench_train.py [--repeats 5] [--steps 200] [--threads 1]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import torch
from torch.utils.data import DataLoader, TensorDataset

from lstmkit.models.sequence import SequenceNetwork, SequenceNetworkConfig
from lstmkit.train import Trainer, TrainerConfig

B, T, F, H = 32, 50, 8, 32


def make_model() -> SequenceNetwork:
    torch.manual_seed(0)
    return SequenceNetwork(SequenceNetworkConfig(input_size=F, hidden_size=H))


def bare(data: TensorDataset, epochs: int) -> float:
    t0 = time.perf_counter()
    model = make_model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(data, batch_size=B, shuffle=True, generator=torch.Generator().manual_seed(0))
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            loss = model.loss((x, y))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
    return time.perf_counter() - t0


def trainer(data: TensorDataset, epochs: int) -> float:
    t0 = time.perf_counter()
    model = make_model()
    cfg = TrainerConfig(max_epochs=epochs, batch_size=B, lr=1e-3, grad_clip=1.0, quiet=True, device="cpu")
    Trainer(cfg).fit(model, data)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--steps", type=int, default=200, help="optimizer steps per timed run")
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads (1: stable on a busy box)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(0)
    n = B * 100
    data = TensorDataset(torch.randn(n, T, F, generator=g), torch.randn(n, generator=g))
    epochs = max(1, args.steps // 100)
    samples = epochs * n
    bare(data, 1), trainer(data, 1)  # warm-up (imports, allocator, oneDNN primitives)
    tb, tt = [], []
    for _ in range(args.repeats):
        tb.append(bare(data, epochs))
        tt.append(trainer(data, epochs))
    sb, st = samples / statistics.median(tb), samples / statistics.median(tt)
    print(f"machine: {platform.machine()} {platform.processor() or ''} torch {torch.__version__}, threads {args.threads}")
    print(f"shape B={B} T={T} F={F} H={H}, {samples} samples per run, {args.repeats} alternating runs (medians)")
    print(f"bare PyTorch loop : {sb:10.0f} samples/s")
    print(f"Trainer.fit       : {st:10.0f} samples/s")
    print(f"ratio trainer/bare: {st / sb:10.3f}   (target >= 0.95)")


if __name__ == "__main__":
    main()
