"""Bach chorales: frame NLL of tanh RNN, GRU and LSTM cores under the same budget, independent
vs joint (RNN-NADE) outputs, and the statistics of generated pieces beside the training set's,
all in one run on the frozen split of ``dataset:bach-chorales`` (music21's edition; see
lstmkit/datasets/music.py for how it differs from JSB).

Every model uses LSTMMusicModel's defaults (chosen before any test figure was seen) except the
factor compared. The JSB-style rows (``jsb``) switch off what JSB lacks (transposition, onsets,
beat position) so that their ``nll`` measures the same thing as the published JSB figures;
the ``default`` row is the estimator as a user gets it. The same trainer for all: Adam 2e-3,
batch 8, at most ``--epochs`` epochs, early stopping on the validation part (patience 15).

    python benchmarks/bench_music.py                 # 3 seeds, every row (about 45 minutes on 2 cores)
    python benchmarks/bench_music.py --seeds 1 --epochs 30 --rows jsb-lstm,jsb-rnn
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings

import numpy as np
import torch

import lstmkit.datasets
from lstmkit.estimators import LSTMMusicModel
from lstmkit.evaluation.music import compare_statistics, music_statistics

JSB = {"transpose": "none", "use_onsets": False, "use_beat_position": False}
ROWS = {
    "jsb-rnn": {**JSB, "cell": "rnn", "output": "bernoulli"},
    "jsb-gru": {**JSB, "cell": "gru", "output": "bernoulli"},
    "jsb-lstm": {**JSB, "cell": "lstm", "output": "bernoulli"},
    "jsb-lstm-nade": {**JSB, "cell": "lstm", "output": "nade"},
    "default": {},
}
PUBLISHED = ("published JSB test NLL per frame (another edition and split; indicative only): "
             "Chung et al. 2014: tanh RNN 9.19, LSTM 8.67, GRU 8.54")


def pitch_frequency_nll(train, test) -> float:
    """Baseline: each pitch an independent Bernoulli with its training frequency (no context), nats per frame."""
    y = np.concatenate([r.sounding for r in train]).astype(np.float64)
    p = np.clip(y.mean(0), 1e-4, 1 - 1e-4)
    t = np.concatenate([r.sounding for r in test]).astype(np.float64)
    return float(-(t * np.log(p) + (1 - t) * np.log1p(-p)).sum(1).mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--rows", default=",".join(ROWS))
    ap.add_argument("--pieces", type=int, default=20, help="pieces generated for the statistics")
    ap.add_argument("--json", default=None, help="also write every figure to this JSON file")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    data = lstmkit.datasets.load("bach-chorales")
    print(f"bach-chorales: {len(data.train)} / {len(data.valid)} / {len(data.test)} chorales (train / valid / test), "
          f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    print(f"baseline, pitch frequencies (no context): test NLL {pitch_frequency_nll(data.train, data.test):.3f}")
    results: dict[str, list[dict]] = {}
    models: dict[str, LSTMMusicModel] = {}
    print(f"{'row':15} {'seed':>4} {'params':>7} {'epochs':>6} {'fit s':>6} {'test nll':>8} {'onset':>6} "
          f"{'F1':>6} {'acc':>6}")
    for row in args.rows.split(","):
        for seed in range(args.seeds):
            model = LSTMMusicModel(**ROWS[row], random_state=seed, trainer={"max_epochs": args.epochs, "quiet": True})
            start = time.perf_counter()
            model.fit(data.train, data.valid)
            seconds = time.perf_counter() - start
            m = model.evaluate(data.test)
            n_params = sum(p.numel() for p in model.network_.parameters())
            m.update(seed=seed, seconds=seconds, epochs=len(model.history_), params=n_params)
            results.setdefault(row, []).append(m)
            models.setdefault(row, model)
            print(f"{row:15} {seed:4d} {n_params:7d} {len(model.history_):6d} {seconds:6.0f} {m['nll']:8.3f} "
                  f"{m['onset_nll']:6.3f} {m['frame_f1']:6.3f} {m['frame_accuracy']:6.3f}", flush=True)
    print("\nmean (sd) over seeds:")
    for row, ms in results.items():
        nll = [m["nll"] for m in ms]
        sd = statistics.stdev(nll) if len(nll) > 1 else 0.0
        print(f"  {row:15} test NLL {statistics.mean(nll):.3f} ({sd:.3f}), frame F1 "
              f"{statistics.mean(m['frame_f1'] for m in ms):.3f}, fit {statistics.mean(m['seconds'] for m in ms):.0f} s")
    print(PUBLISHED)

    if "default" in models:
        model = models["default"]
        reference = music_statistics([model.pipeline_.read(r) for r in data.train])  # the training set as the model sees it
        pieces = [model.generate(None, 8, seed=k) for k in range(args.pieces)]
        generated = music_statistics(pieces)
        comparison = compare_statistics(generated, reference)
        print(f"\n{args.pieces} pieces of 8 bars generated by the default model (seed 0), from silence, temperature 1:")
        for k, v in comparison.items():
            print(f"  {k}: {v}")
        inside = reference["pitch_low"] <= generated["pitch_low"] and generated["pitch_high"] <= reference["pitch_high"]
        print(f"  pitch range {generated['pitch_low']}-{generated['pitch_high']} within the training set's "
              f"{reference['pitch_low']}-{reference['pitch_high']}: {inside}; voices {generated['voices']} <= "
              f"training {reference['voices']}: {generated['voices'] <= reference['voices']}")
        results["generated_statistics"] = [comparison]  # type: ignore[list-item]
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main()
