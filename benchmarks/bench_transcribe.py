"""Transcription with LSTMTranscriber's defaults (BiLSTM + CTC) on the four offline input kinds,
held-out writers, fonts and voices, three decoders in one table.

- ``digits``: strings of 3-8 real handwritten digits (scikit-learn's digits, joined with overlap
  and elastic distortion); test digits come from held-out forms (writers). Target CER < 3 %.
- ``text``: rendered text lines (Penn Treebank phrases) in held-out fonts (the serif families),
  with slant, wobble, blur and noise. Target CER < 5 %; WER reported.
- ``pen``: pen trajectories from the Hershey single-stroke fonts, held-out writer styles. Target
  CER < 5 %.
- ``speech``: espeak-ng utterances (log-mel frames), held-out voices. Target CER < 10 %.

Decoders: best path; prefix beam search (8 prefixes); beam + a character 5-gram language model
estimated from the Penn Treebank's training text (digits: from the training transcripts), its
weight chosen from {0.25, 0.5, 1.0} on a validation set drawn like the training data (never the
test set). Every estimator setting is a default, chosen before these data were scored.

    python benchmarks/bench_transcribe.py --task digits                 # 20,000 strings, ~20 min
    python benchmarks/bench_transcribe.py --task speech --train 2000    # default 16,000: ~1 hour
    python benchmarks/bench_transcribe.py --task pen --run-dir runs/tr --resume   # spread over sessions
"""

from __future__ import annotations

import argparse
import json
import time

import torch

import lstmkit.datasets
from lstmkit.estimators.transcriber import LSTMTranscriber

DATASETS = {"digits": "digit-strings", "text": "text-lines", "pen": "pen-lines", "speech": "spoken-lines"}
TRAIN = {"digits": 20000, "text": 4000, "pen": 3000, "speech": 16000}  # chosen on validation (RESULTS.md)
WEIGHTS = (0.25, 0.5, 1.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", choices=sorted(DATASETS), required=True)
    ap.add_argument("--train", type=int, help="training inputs (default per task)")
    ap.add_argument("--test", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--save", metavar="DIR", help="also save the trained model here")
    ap.add_argument("--out", help="append the result as a JSON line to this file")
    ap.add_argument("--run-dir", help="checkpoint the training under DIR/<task> (metrics.csv, checkpoints)")
    ap.add_argument("--resume", action="store_true", help="continue the training in --run-dir")
    ap.add_argument("--max-minutes", type=float, help="wall-clock cap on the training (reported)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    name = DATASETS[args.task]
    n_train = args.train or TRAIN[args.task]
    t = time.perf_counter()
    train = lstmkit.datasets.load(name, n=n_train, split="train", seed=0)
    val = lstmkit.datasets.load(name, n=300, split="train", seed=2)
    test = lstmkit.datasets.load(name, n=args.test, split="test", seed=1)
    data_s = time.perf_counter() - t
    lm_text = None
    if args.task != "digits":
        lm_text = lstmkit.datasets.load("ptb").train.replace("<unk>", "").replace(" N ", " 7 ")
    if args.resume and not args.run_dir:
        ap.error("--resume needs --run-dir")
    trainer = {"quiet": True}
    if args.run_dir:
        trainer["run_dir"] = f"{args.run_dir}/{args.task}"
    if args.max_minutes:
        trainer["max_minutes"] = args.max_minutes
    t = time.perf_counter()
    model = LSTMTranscriber(random_state=args.seed, trainer=trainer).fit(train.inputs, train.texts, lm_text=lm_text,
                                                                         resume=args.resume)
    fit_s = time.perf_counter() - t
    if args.run_dir:  # the whole run's training time, over every resumed session
        fit_s = sum(float(r.get("time_s", 0)) for r in model.history_) or fit_s
    if args.save:
        model.save(f"{args.save}/{args.task}.model", overwrite=True)
    weight = max(WEIGHTS, key=lambda w: -model.evaluate(val.inputs, val.texts, decoder="beam", lm_weight=w)["cer"])
    rows = {}
    for label, opts in (("greedy", {}), ("beam 8", {"decoder": "beam"}),
                        (f"beam 8 + char LM (weight {weight})", {"decoder": "beam", "lm_weight": weight})):
        t = time.perf_counter()
        rows[label] = {**model.evaluate(test.inputs, test.texts, **opts), "seconds": round(time.perf_counter() - t, 1)}
    result = {"task": args.task, "dataset": name, "train": n_train, "test": args.test, "seed": args.seed,
              "data_s": round(data_s, 1), "fit_s": round(fit_s, 1),
              "max_minutes": args.max_minutes, "epochs": len(model.history_),
              "lm_weight_from_validation": weight, "rows": rows,
              "examples": list(zip(model.predict(test.inputs[:3]), test.texts[:3]))}
    print(json.dumps(result, indent=1))
    if args.out:
        with open(args.out, "a", encoding="utf-8") as f:
            f.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
