"""LSTMTagger on a real part-of-speech treebank, next to most-frequent-tag baselines.

Data: Google's Turkish Web Treebank (Apache-2.0), CoNLL-U, shipped offline by the PyPI
package ``turkish-treebanks``; universal POS tags (UPOS column); held out: the last 20% of
the sentences of each section (web, wiki), see ``lstmkit.datasets.load("turkish_web_treebank")``.

Baselines, fitted on the training part only:
* majority: every token gets the most frequent tag;
* most-frequent-tag: each known word gets its most frequent training tag, unknown words
  the majority tag (the standard POS baseline).

    python benchmarks/bench_tag.py            # softmax and CRF taggers, seed 0
"""

from __future__ import annotations

import argparse
import time
from collections import Counter, defaultdict

import torch

import lstmkit.datasets
from lstmkit.estimators import LSTMTagger
from lstmkit.models.tagger import token_accuracy
from lstmkit.train import TrainerConfig


def baselines(tok_tr, tag_tr, tok_te, tag_te):
    overall = Counter(t for s in tag_tr for t in s)
    majority = overall.most_common(1)[0][0]
    per_word = defaultdict(Counter)
    for ws, ts in zip(tok_tr, tag_tr):
        for w, t in zip(ws, ts):
            per_word[w][t] += 1
    mft = [[per_word[w].most_common(1)[0][0] if w in per_word else majority for w in ws] for ws in tok_te]
    return (token_accuracy(tag_te, [[majority] * len(s) for s in tok_te]), token_accuracy(tag_te, mft),
            sum(w not in per_word for s in tok_te for w in s) / sum(map(len, tok_te)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--crf", choices=["both", "no", "yes"], default="both")
    args = ap.parse_args()
    torch.set_num_threads(1)
    d = lstmkit.datasets.load("turkish_web_treebank")
    n_tr, n_te = sum(map(len, d.tokens_train)), sum(map(len, d.tokens_test))
    print(f"Turkish Web Treebank (turkish-treebanks, Apache-2.0): {len(d.tokens_train)} train sentences / {n_tr} tokens, "
          f"{len(d.tokens_test)} held-out sentences / {n_te} tokens; torch {torch.__version__}, 1 thread, seed {args.seed}")
    maj, mft, oov = baselines(d.tokens_train, d.tags_train, d.tokens_test, d.tags_test)
    print(f"{'majority tag baseline':34s} token accuracy {maj:.4f}")
    print(f"{'most-frequent-tag baseline':34s} token accuracy {mft:.4f}   (unknown-word rate {oov:.3f})")
    for use_crf in {"both": (False, True), "no": (False,), "yes": (True,)}[args.crf]:
        tc = TrainerConfig(max_epochs=args.epochs, batch_size=32, lr=2e-3, seed=args.seed, quiet=True)
        est = dict(embedding_dim=64, hidden_size=64, dropout=0.25, use_char_features=True, use_crf=use_crf)
        t0 = time.perf_counter()
        tagger = LSTMTagger(**est, trainer=tc).fit(d.tokens_train, d.tags_train)
        fit_s = time.perf_counter() - t0
        acc = tagger.score(d.tokens_test, d.tags_test)
        name = f"LSTMTagger BiLSTM{' + CRF' if use_crf else ''}"
        print(f"{name:34s} token accuracy {acc:.4f}   fit {fit_s:.0f}s  settings {est} epochs={args.epochs} "
              f"batch=32 lr=2e-3 adam seed={args.seed}", flush=True)


if __name__ == "__main__":
    main()
