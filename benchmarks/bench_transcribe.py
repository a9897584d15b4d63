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

``--dev`` never draws the test pool. It scores a change on writers or fonts held out of the
*training* pool, which is how the defaults are decided:

- ``digits``: trains on strings by the training forms 0-7 and scores the strings by forms 8-9 of
  the same draw (400 from ``--train`` 1,500 up);
- ``text``: trains on the training fonts less the two Mono families and scores 300 lines in those
  Mono fonts.

``--set NAME=JSON`` gives an estimator option, for example ``--set augment=false``::

    python benchmarks/bench_transcribe.py --task digits --dev --train 3000 --set conv_channels=32
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
    ap.add_argument("--dev", action="store_true", help="held-out groups of the training pool (see above); no test")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=JSON", help="an estimator option (repeatable)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    options = {}
    for item in args.set:
        key, eq, value = item.partition("=")
        if not eq:
            ap.error(f"--set wants NAME=JSON, got {item!r}")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            ap.error(f"--set {key}: {value!r} is not JSON (a string needs quotes: --set {key}=\'\"{value}\"\')")
    known = set(LSTMTranscriber._get_param_names()) - {"random_state"}
    for key, value in options.items():
        if key == "random_state":
            ap.error("--set random_state: give --seed")
        if key not in known:
            ap.error(f"--set {key}: not an LSTMTranscriber option (options: {', '.join(sorted(known))})")
        if key == "trainer" and not isinstance(value, dict):
            ap.error(f"--set trainer wants a JSON object of TrainerConfig fields, got {value!r}")
    if args.dev:
        given = [flag for flag, v in (("--run-dir", args.run_dir), ("--resume", args.resume),
                                      ("--max-minutes", args.max_minutes), ("--save", args.save)) if v]
        if given:
            ap.error(f"--dev does not take {', '.join(given)}")
        return dev(args, options)
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
    trainer = {"quiet": True, **options.get("trainer", {})}
    settings = {k: v for k, v in options.items() if k != "trainer"}
    if args.run_dir:
        trainer["run_dir"] = f"{args.run_dir}/{args.task}"
    if args.max_minutes:
        trainer["max_minutes"] = args.max_minutes
    t = time.perf_counter()
    model = LSTMTranscriber(**settings, random_state=args.seed, trainer=trainer)
    model.fit(train.inputs, train.texts, lm_text=lm_text, resume=args.resume)
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
    result = {"task": args.task, "dataset": name, "options": options, "train": n_train, "test": args.test,
              "seed": args.seed, "data_s": round(data_s, 1), "fit_s": round(fit_s, 1),
              "max_minutes": args.max_minutes, "epochs": len(model.history_),
              "lm_weight_from_validation": weight, "rows": rows,
              "examples": list(zip(model.predict(test.inputs[:3]), test.texts[:3]))}
    print(json.dumps(result, indent=1))
    if args.out:
        with open(args.out, "a", encoding="utf-8") as f:
            f.write(json.dumps(result) + "\n")


def dev(args: argparse.Namespace, options: dict) -> None:
    """Train on part of the training pool, score best path on writers (digits) or fonts (text)
    held out of it; the test pool is never drawn."""
    n = args.train or 3000
    if args.task == "digits":  # forms 0-7 train, forms 8-9 score (one pool draw, seed 5)
        pool = lstmkit.datasets.load("digit-strings", n=int(n / 0.78) + 400, split="train", seed=5)
        form = [int(g.rsplit("-", 1)[1]) for g in pool.groups]
        fit_idx = [i for i, f in enumerate(form) if f <= 7][:n]
        dev_idx = [i for i, f in enumerate(form) if f >= 8][:400]
        X, y = [pool.inputs[i] for i in fit_idx], [pool.texts[i] for i in fit_idx]
        X_dev, y_dev = [pool.inputs[i] for i in dev_idx], [pool.texts[i] for i in dev_idx]
        held_out = "forms 8-9"
    elif args.task == "text":  # the Mono families held out of the training fonts
        from lstmkit.datasets.handwriting import default_font_split

        fonts, test_fonts = default_font_split()
        mono = [f for f in fonts if "Mono" in f]
        rest = [f for f in fonts if "Mono" not in f]
        fit = lstmkit.datasets.load("text-lines", n=n, split="train", seed=0, fonts=rest, held_out_fonts=test_fonts)
        held = lstmkit.datasets.load("text-lines", n=300, split="train", seed=2, fonts=mono, held_out_fonts=test_fonts)
        X, y, X_dev, y_dev = fit.inputs, fit.texts, held.inputs, held.texts
        held_out = "the Mono fonts"
    else:
        raise SystemExit(f"--dev defines held-out groups for digits and text, not {args.task}")
    t = time.perf_counter()
    trainer = {"quiet": True, **options.get("trainer", {})}
    settings = {k: v for k, v in options.items() if k != "trainer"}
    model = LSTMTranscriber(**settings, random_state=args.seed, trainer=trainer).fit(X, y)
    result = {"task": args.task, "dev": held_out, "options": options, "train": len(X), "scored": len(X_dev),
              "seed": args.seed, "fit_s": round(time.perf_counter() - t, 1), "epochs": len(model.history_),
              "greedy": model.evaluate(X_dev, y_dev)}
    print(json.dumps(result, indent=1))
    if args.out:
        with open(args.out, "a", encoding="utf-8") as f:
            f.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
