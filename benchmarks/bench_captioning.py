"""Captioning: LSTMCaptioner with its defaults, attention over image regions vs the mean-pooled
encoder (attention="none"), in one run, on the rendered scenes of lstmkit.datasets.scenes.

- ``scenes``: 3,000 training images (64 x 64, 1-3 shapes, three reference captions each from the
  scene graph). Two test sets of 500 images: ``seen`` (new scenes from the training
  distribution) and ``held-out pairs`` (every scene holds a colour/shape pair never seen in
  training: red triangle, green circle, blue cross, yellow diamond). BLEU-4 against the three
  references (sacrebleu) and attribute accuracy: the share of captions whose every stated
  colour, shape, size and relation is true of the scene (lstmkit.datasets.scenes.check_caption).
- ``clips``: 1,500 training clips (8 frames of 48 x 48, one or two shapes moving in turn); test:
  300 clips with held-out pairs. BLEU-4 and event accuracy (every motion stated, in order, and
  true).

Every estimator setting is LSTMCaptioner's default (chosen before these data were scored),
except ``attention`` (the comparison). One thread.

    python benchmarks/bench_captioning.py --task scenes --seeds 0
    python benchmarks/bench_captioning.py --task clips --attention additive
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from lstmkit.datasets.scenes import attribute_accuracy, clip_event_accuracy, make_clips, make_scenes
from lstmkit.estimators.captioner import LSTMCaptioner
from lstmkit.models.text_scores import bleu


def run_scenes(seed: int, attention: str, plot: str | None) -> dict:
    train = make_scenes(3000, seed=0)
    tests = {"seen": make_scenes(500, split="train", seed=100), "held-out pairs": make_scenes(500, split="test", seed=1)}
    t = time.perf_counter()
    model = LSTMCaptioner(attention=attention, random_state=seed, trainer={"quiet": True}).fit(train.images, train.captions)
    out = {"task": "scenes", "seed": seed, "attention": attention, "fit_s": round(time.perf_counter() - t, 1),
           "epochs": len(model.history_)}
    for name, data in tests.items():
        hyps = model.predict(data.images)
        out[f"{name} bleu4"] = bleu(hyps, data.captions)
        out[f"{name} attribute_accuracy"] = attribute_accuracy(hyps, data.scenes)
        out[f"{name} examples"] = [(hyps[i], data.captions[i][0]) for i in (0, 1, 2)]
    if plot and attention != "none":
        from lstmkit.viz.attention import plot_image_attention

        data = tests["seen"]
        cap = model.describe(data.images[:1])[0]
        plot_image_attention(data.images[0], cap.attention, cap.tokens, plot, title=cap.text)
        out["plot"] = plot
    return out


def run_clips(seed: int, attention: str, plot: str | None) -> dict:
    train = make_clips(1500, seed=0)
    test = make_clips(300, split="test", seed=1)
    t = time.perf_counter()
    model = LSTMCaptioner(attention=attention, random_state=seed, trainer={"quiet": True}).fit(train.frames, train.captions)
    hyps = model.predict(test.frames)
    return {"task": "clips", "seed": seed, "attention": attention, "fit_s": round(time.perf_counter() - t, 1),
            "epochs": len(model.history_), "held-out pairs bleu4": bleu(hyps, test.captions),
            "held-out pairs event_accuracy": clip_event_accuracy(hyps, test.events),
            "examples": [(hyps[i], test.captions[i][0]) for i in (0, 1, 2)]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", choices=("scenes", "clips"), required=True)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--attention", nargs="+", default=["additive", "none"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--plot", help="PNG of the first seen image's per-word attention (attention models)")
    ap.add_argument("--out", help="append each result as a JSON line to this file")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s)")
    runner = run_scenes if args.task == "scenes" else run_clips
    for attention in args.attention:
        for seed in args.seeds:
            r = runner(seed, attention, args.plot)
            print(json.dumps(r), flush=True)
            if args.out:
                with open(args.out, "a", encoding="utf-8") as f:
                    f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
