"""Encoder-decoders on text: LSTMSeq2Seq with its defaults, with and without attention, in one run.

- ``dates``: multilingual date normalisation ("miércoles, 3 de abril de 2002" -> "2002-04-03"),
  pairs generated from Babel's CLDR formats (lstmkit.datasets.translation.dates: 12 training
  locales, 20,000 training pairs; test: 2,000 new dates in the same locales, and 2,000 in three
  locales never seen in training, reported apart). Character level. Exact match per split.
- ``greek``: Greek -> English New Testament verses (SBLGNT -> BSB, the fixed book split of
  lstmkit.datasets.translation.greek_english: test = Philippians, Colossians, 1-2 Thessalonians).
  Word level. BLEU and chrF (sacrebleu) on the test books, BLEU by source length, greedy and
  beam 5.

Every setting is LSTMSeq2Seq's default (chosen before these data were scored) except the
tokenisation level each task needs and ``attention`` (the comparison). The no-attention model
is the same network whose decoder sees only the bridged final encoder state.

    python benchmarks/bench_seq2seq.py --task dates --seeds 0 1 2
    python benchmarks/bench_seq2seq.py --task greek --seeds 0
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from lstmkit.datasets.translation import dates, greek_english
from lstmkit.estimators.seq2seq import LSTMSeq2Seq
from lstmkit.models.text_scores import bleu, chrf, exact_match, score_by_length


SAVE: dict[str, str | None] = {"dir": None}
TRAINER: dict = {"quiet": True}  # plus run_dir / max_minutes from the command line
RESUME = {"on": False}


def _trainer(name: str) -> dict:
    tr = dict(TRAINER)
    if tr.get("run_dir"):
        tr["run_dir"] = f"{tr['run_dir']}/{name}"
    return tr


def _keep(model: LSTMSeq2Seq, name: str) -> None:
    if SAVE["dir"]:
        model.save(f"{SAVE['dir']}/{name}.model", overwrite=True)


def run_dates(seed: int, attention: str) -> dict:
    data = dates()
    t = time.perf_counter()
    model = LSTMSeq2Seq(level="char", attention=attention, random_state=seed, trainer={"quiet": True}).fit(
        data.train.source, data.train.target)
    fit_s = time.perf_counter() - t
    _keep(model, f"dates-{attention}-{seed}")
    out = {"task": "dates", "seed": seed, "attention": attention, "fit_s": round(fit_s, 1),
           "epochs": len(model.history_)}
    for split in ("test", "test_unseen"):
        part = getattr(data, split)
        hyps = model.predict(part.source)
        out[f"{split}_exact_match"] = exact_match(hyps, part.target)
        by_locale = {}
        for loc in sorted(set(part.group)):
            idx = [i for i, g in enumerate(part.group) if g == loc]
            by_locale[loc] = round(exact_match([hyps[i] for i in idx], [part.target[i] for i in idx]), 4)
        out[f"{split}_by_locale"] = by_locale
        if split == "test_unseen":
            out["unseen_examples"] = [(part.source[i], hyps[i], part.target[i]) for i in range(0, 2000, 400)]
    return out


def run_greek(seed: int, attention: str) -> dict:
    data = greek_english()
    t = time.perf_counter()
    model = LSTMSeq2Seq(level="word", attention=attention, random_state=seed,
                        trainer=_trainer(f"greek-{attention}-{seed}")).fit(
        data.train.source, data.train.target, resume=RESUME["on"])
    fit_s = time.perf_counter() - t
    _keep(model, f"greek-{attention}-{seed}")
    src, ref = data.test.source, data.test.target
    out = {"task": "greek", "seed": seed, "attention": attention, "fit_s": round(fit_s, 1),
           "epochs": len(model.history_),
           "val_loss": [round(r["val_loss"], 4) for r in model.history_ if "val_loss" in r],
           "max_minutes": TRAINER.get("max_minutes"), "source_vocab": len(model.pipeline_.source_vocab_),
           "target_vocab": len(model.pipeline_.target_vocab_)}
    for beam in (1, 5):
        hyps = model.predict(src, num_beams=beam)
        out[f"beam{beam}_bleu"] = bleu(hyps, ref)
        out[f"beam{beam}_chrf"] = chrf(hyps, ref)
        if beam == 1:
            lengths = [len(model.pipeline_.tokenize(s)) for s in src]
            out["bleu_by_length"] = score_by_length(hyps, ref, lengths)
            out["examples"] = [(src[i], hyps[i], ref[i]) for i in (0, 100, 200)]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", choices=("dates", "greek"), required=True)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--attention", nargs="+", default=["additive", "none"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", help="append each result as a JSON line to this file")
    ap.add_argument("--save", metavar="DIR", help="also save each trained model in DIR (TASK-ATTENTION-SEED.model)")
    ap.add_argument("--run-dir", metavar="DIR", help="checkpoint each training in DIR/TASK-ATTENTION-SEED (resumable)")
    ap.add_argument("--max-minutes", type=float, help="a training budget per model (a cap, labelled in the results)")
    ap.add_argument("--resume", action="store_true", help="continue the trainings in --run-dir")
    args = ap.parse_args()
    SAVE["dir"] = args.save
    TRAINER.update({k: v for k, v in (("run_dir", args.run_dir), ("max_minutes", args.max_minutes)) if v is not None})
    RESUME["on"] = args.resume
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s)")
    runner = run_dates if args.task == "dates" else run_greek
    results = []
    for attention in args.attention:
        for seed in args.seeds:
            r = runner(seed, attention)
            results.append(r)
            print(json.dumps(r, ensure_ascii=False), flush=True)
            if args.out:
                with open(args.out, "a", encoding="utf-8") as f:
                    f.write(json.dumps(r, ensure_ascii=False) + "\n")
    keys = [k for k in results[0] if isinstance(results[0][k], float) and k not in ("fit_s",)]
    print(f"\n{args.task}: mean over seeds {args.seeds}")
    for attention in args.attention:
        rows = [r for r in results if r["attention"] == attention]
        cells = ", ".join(f"{k} {statistics.mean(r[k] for r in rows):.4f}" for k in keys)
        print(f"  attention={attention:9s} {cells}; fit {statistics.mean(r['fit_s'] for r in rows):.0f} s")


if __name__ == "__main__":
    main()
