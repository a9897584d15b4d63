"""lstmkit's MiniRocket features (torch, ``lstmkit.models.minirocket``) against the reference,
aeon's ``MiniRocket`` (numba), in one run: time of fit + transform of a training split, as a ratio
to aeon's (> 1 = slower than aeon), and how far the features agree.

Per set: aeon is fitted on the series zero-padded to the longest (it needs one length); lstmkit on
the series as they are. Agreement is measured on sets of one length, with lstmkit's module given
aeon's fitted parameters (dilations, biases, channel subsets): the share of the features that
differ and the largest difference (a PPV is a proportion of steps; ties between a convolution
output and a bias can round apart). Both run single-threaded; the median of ``--repeats`` runs
after one warm-up (numba compiles on first call).

Usage: OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 python benchmarks/bench_minirocket.py [--datasets GunPoint PLAID] [--repeats 3]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np
import torch

import lstmkit.datasets
from lstmkit.data.sequence_pipeline import SequencePipeline
from lstmkit.data.sequences import pad_sequences
from lstmkit.models.minirocket import MiniRocketFeatures, fit_minirocket


def run(name: str, repeats: int) -> dict:
    from aeon.transformations.collection.convolution_based import MiniRocket

    d = lstmkit.datasets.load(name)
    raw = [np.asarray(s, dtype=np.float64).reshape(len(s), -1) for s in d.X_train]
    F = raw[0].shape[1]
    seqs = SequencePipeline("sequence" if F == 1 else "standard").fit_transform(raw)
    T = max(len(s) for s in seqs)
    padded = np.zeros((len(seqs), F, T), np.float32)
    for i, s in enumerate(seqs):
        padded[i, :, :len(s)] = s.T

    def aeon_once() -> np.ndarray:
        return MiniRocket(random_state=0, n_jobs=1).fit(padded).transform(padded)

    def ours_once() -> np.ndarray:
        with torch.no_grad():
            m = fit_minirocket(seqs, seed=0)
            return torch.cat([m(*pad_sequences(seqs[i:i + 64])) for i in range(0, len(seqs), 64)]).numpy()

    times = {"aeon": [], "lstmkit": []}
    for k in range(repeats + 1):
        for label, fn in (("aeon", aeon_once), ("lstmkit", ours_once)):
            t = time.perf_counter()
            fn()
            if k:  # the first round warms up (numba compiles)
                times[label].append(time.perf_counter() - t)
    row = {"dataset": name, "n": len(seqs), "T_max": T, "F": F, "equal_length": len({len(s) for s in seqs}) == 1,
           "aeon_s": statistics.median(times["aeon"]), "lstmkit_s": statistics.median(times["lstmkit"])}
    row["ratio"] = row["lstmkit_s"] / row["aeon_s"]
    if row["equal_length"]:
        mr = MiniRocket(random_state=0, n_jobs=1).fit(padded)
        with torch.no_grad():
            ours = MiniRocketFeatures.from_aeon(mr, F)(torch.as_tensor(padded.transpose(0, 2, 1))).numpy()
        diff = np.abs(ours - mr.transform(padded))
        row.update(share_differing=float(np.mean(diff > 0)), max_difference=float(diff.max()))
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", nargs="*", default=["GunPoint", "BasicMotions", "PLAID"])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(1)
    print(f"{platform.processor() or platform.machine()}, torch {torch.__version__}, one thread")
    print(f"{'dataset':12s} {'n':>4s} {'T max':>5s} {'F':>2s} {'aeon s':>7s} {'lstmkit s':>9s} {'ratio':>6s}  agreement")
    for name in args.datasets:
        r = run(name, args.repeats)
        agree = (f"{r['share_differing']:.1e} of features differ, at most {r['max_difference']:.4f}"
                 if r["equal_length"] else "- (variable lengths: lstmkit reads valid steps, aeon the padding too)")
        print(f"{name:12s} {r['n']:4d} {r['T_max']:5d} {r['F']:2d} {r['aeon_s']:7.2f} {r['lstmkit_s']:9.2f} "
              f"{r['ratio']:6.1f}  {agree}")


if __name__ == "__main__":
    main()
