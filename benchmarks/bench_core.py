"""Core engine: lstmkit.nn.LSTM against torch.nn.LSTM with the same weights, one run.

Prints, per shape (B, T, F, H), torch's median time and lstmkit's time as a ratio
(lstmkit / torch; 1.00 = same speed, < 1 faster) for:

  fwd        inference forward (no_grad)
  fwd+bwd    forward + backward of output.sum()
  gates      lstmkit forward with return_gates=True (no_grad) vs torch's plain forward:
             the price of seeing every gate
  lengths    random right-padded lengths: lstmkit(lengths=) vs torch pack/LSTM/pad

``--clock cpu`` (with ``--threads 1``) times the calling thread's CPU time instead of wall time,
for a machine shared with other work.

Usage: python benchmarks/bench_core.py [--repeats 7] [--threads N] [--clock cpu]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import lstmkit.nn as lnn

SHAPES = [(32, 100, 32, 64), (64, 200, 64, 128), (128, 100, 128, 256), (1, 1000, 8, 32), (256, 50, 16, 64)]


CLOCK = time.perf_counter  # or time.thread_time (--clock cpu)


def _median_pair(fa, fb, repeats: int, warmup: int = 2) -> tuple[float, float]:
    """Median seconds of fa and fb, interleaved so that machine noise hits both alike."""
    for _ in range(warmup):
        fa(), fb()
    ta, tb = [], []
    for _ in range(repeats):
        t0 = CLOCK(); fa(); ta.append(CLOCK() - t0)  # noqa: E702
        t0 = CLOCK(); fb(); tb.append(CLOCK() - t0)  # noqa: E702
    return statistics.median(ta), statistics.median(tb)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="cpu: the thread's CPU time (needs --threads 1), robust on a shared machine")
    args = ap.parse_args()
    global CLOCK
    if args.clock == "cpu":
        if args.threads != 1:
            ap.error("--clock cpu needs --threads 1 (the other threads' time would not count), "
                     f"got --threads {args.threads}")
        CLOCK = time.thread_time
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"{args.threads} threads, median of {args.repeats} (2 warm-up)"
          + (", thread CPU time" if args.clock == "cpu" else ""))
    print(f"{'B,T,F,H':>18} {'torch fwd ms':>12} {'fwd':>6} {'torch f+b ms':>12} {'fwd+bwd':>8} {'gates':>6} {'lengths':>8}")
    for B, T, F, H in SHAPES:
        torch.manual_seed(0)
        ref = torch.nn.LSTM(F, H)
        ours = lnn.LSTM.from_torch(ref)
        x = torch.randn(T, B, F)
        xg = x.clone().requires_grad_()
        lengths = torch.randint(T // 2, T + 1, (B,))
        lengths[0] = T

        def fwd(m):
            def f():
                with torch.no_grad():
                    m(x)
            return f

        def fwd_bwd(m):
            def f():
                m(xg)[0].sum().backward()
            return f

        def gates():
            with torch.no_grad():
                ours(x, return_gates=True)

        def ours_lengths():
            with torch.no_grad():
                ours(x, lengths=lengths)

        def torch_lengths():
            with torch.no_grad():
                out, _ = ref(pack_padded_sequence(x, lengths, enforce_sorted=False))
                pad_packed_sequence(out, total_length=T)

        t_ref, t_ours = _median_pair(fwd(ref), fwd(ours), args.repeats)
        tb_ref, tb_ours = _median_pair(fwd_bwd(ref), fwd_bwd(ours), args.repeats)
        tg_ref, tg_ours = _median_pair(fwd(ref), gates, args.repeats)
        tl_ref, tl_ours = _median_pair(torch_lengths, ours_lengths, args.repeats)
        print(f"{f'{B},{T},{F},{H}':>18} {t_ref * 1e3:12.2f} {t_ours / t_ref:6.2f} {tb_ref * 1e3:12.2f} "
              f"{tb_ours / tb_ref:8.2f} {tg_ours / tg_ref:6.2f} {tl_ours / tl_ref:8.2f}")


if __name__ == "__main__":
    main()
