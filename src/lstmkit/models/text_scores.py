"""Scores of generated text against references, shared by every model that writes text
(translation, captioning); re-exported by :mod:`lstmkit.evaluation`.

BLEU (Papineni et al. 2002) and chrF (Popović 2015) come from sacrebleu (Post 2018), with its
default tokenisation ("13a") on detokenised text, so figures compare with published sacrebleu
numbers. References go in as *one list per hypothesis* (``references[i]`` holds the references
of hypothesis ``i``, one or several) and are transposed into sacrebleu's reference streams
here, the step that is easy to get wrong (sacrebleu issue #220: passing a flat list of strings
scores each hypothesis against the wrong reference); a hypothesis with fewer references than
others gets ``None`` in the missing streams, which sacrebleu skips.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lstmkit.errors import DataError, MissingDependencyError, ShapeError

__all__ = ["bleu", "chrf", "exact_match", "score_by_length", "check_references"]


def check_references(hypotheses: Sequence[str], references: Any) -> list[list[str]]:
    """References as one list of str per hypothesis (a str alone is one reference)."""
    if isinstance(hypotheses, str) or not hasattr(hypotheses, "__iter__"):
        raise DataError(f"hypotheses must be a list of str, got {type(hypotheses).__name__}")
    hyps = list(hypotheses)
    for i, h in enumerate(hyps):
        if not isinstance(h, str):
            raise DataError(f"hypotheses[{i}] must be a str, got {type(h).__name__}")
    if isinstance(references, str) or not hasattr(references, "__len__"):
        raise DataError(f"references must be a list with one entry (a str or a list of str) per hypothesis, "
                        f"got {type(references).__name__}")
    refs = [[r] if isinstance(r, str) else list(r) if hasattr(r, "__iter__") and not isinstance(r, bytes) else [r]
            for r in references]
    if len(refs) != len(hyps):
        raise ShapeError(f"{len(hyps)} hypotheses but {len(refs)} reference entries; give one entry per hypothesis")
    for i, r in enumerate(refs):
        if not r or not all(isinstance(s, str) for s in r):
            raise DataError(f"references[{i}] must be a str or a non-empty list of str, got {r!r}")
    if not hyps:
        raise DataError("no hypotheses to score")
    return refs


def _sacrebleu() -> Any:
    try:
        import sacrebleu
    except ImportError:  # pragma: no cover - depends on the environment
        raise MissingDependencyError("BLEU and chrF need sacrebleu: pip install 'lstmkit[seq2seq]'") from None
    return sacrebleu


def _streams(refs: list[list[str]]) -> list[list[str | None]]:
    k = max(len(r) for r in refs)
    return [[r[j] if j < len(r) else None for r in refs] for j in range(k)]


def bleu(hypotheses: Sequence[str], references: Any, *, max_order: int = 4) -> float:
    """Corpus BLEU (0-100) of ``hypotheses`` against ``references`` (one entry per hypothesis:
    a str or a list of str); ``max_order`` is the n-gram order (4: BLEU-4)."""
    refs = check_references(hypotheses, references)
    sb = _sacrebleu()
    metric = sb.metrics.BLEU(max_ngram_order=max_order)
    return float(metric.corpus_score(list(hypotheses), _streams(refs)).score)


def chrf(hypotheses: Sequence[str], references: Any) -> float:
    """Corpus chrF (0-100), character n-gram F-score (sacrebleu's chrF2 defaults)."""
    refs = check_references(hypotheses, references)
    sb = _sacrebleu()
    return float(sb.metrics.CHRF().corpus_score(list(hypotheses), _streams(refs)).score)


def exact_match(hypotheses: Sequence[str], references: Any) -> float:
    """Share (0-1) of hypotheses equal to one of their references, character for character."""
    refs = check_references(hypotheses, references)
    return float(np.mean([h in r for h, r in zip(hypotheses, refs)]))


def score_by_length(hypotheses: Sequence[str], references: Any, lengths: Sequence[int],
                    edges: Sequence[int] = (10, 20, 30, 40, 50)) -> list[dict[str, Any]]:
    """BLEU per source-length bucket: rows ``{"bucket": "11-20", "n": ..., "bleu": ...}``.

    ``lengths``: the source length of each hypothesis (tokens); buckets are closed on the right
    (``<= 10``, ``11-20``, ..., ``> 50``); empty buckets are left out.
    """
    refs = check_references(hypotheses, references)
    if len(lengths) != len(refs):
        raise ShapeError(f"{len(refs)} hypotheses but {len(lengths)} lengths")
    bounds = [0, *edges, None]
    rows = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        idx = [i for i, n in enumerate(lengths) if (n > lo or lo == 0) and (hi is None or n <= hi)]
        if not idx:
            continue
        name = f"<= {hi}" if lo == 0 else (f"> {lo}" if hi is None else f"{lo + 1}-{hi}")
        rows.append({"bucket": name, "n": len(idx),
                     "bleu": bleu([hypotheses[i] for i in idx], [refs[i] for i in idx])})
    return rows
