r"""Connectionist temporal classification (Graves et al. 2006): the length rule that makes a target
possible, decoding of per-frame posteriors, and a character n-gram language model for shallow
fusion.

* :func:`ctc_min_frames`: a label sequence of length L with R adjacent repeats needs at least
  L + R frames (a blank must separate each repeat); :func:`check_ctc_targets` reports every
  example that cannot fit *before* training, instead of the silent ``inf`` (or NaN gradients)
  that ``torch.nn.CTCLoss`` gives for it.
* :func:`ctc_greedy`: best path decoding: the most likely symbol per frame, repeats collapsed,
  blanks removed.
* :func:`ctc_prefix_beam_search`: prefix beam search (Hannun et al. 2014, "First-Pass Large
  Vocabulary Continuous Speech Recognition using Bi-Directional Recurrent DNNs"; Graves 2012,
  ch. 7): each prefix keeps the probability of ending in a blank and in its last symbol, so
  paths that collapse to the same labelling are summed. With a language model the score of a
  prefix is ``log p_ctc + lm_weight * log p_lm + insertion_bonus * length`` (shallow fusion).
* :class:`CharNGramLM`: an interpolated Witten-Bell character n-gram model (Witten & Bell 1991;
  as in SRILM's ``-wbdiscount``), estimated from text, serialisable to JSON.

Posteriors are log-probabilities (T, V) over the symbols and the blank (``blank`` index).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch

from lstmkit.errors import ConfigError, DataError

__all__ = ["ctc_min_frames", "check_ctc_targets", "ctc_greedy", "ctc_prefix_beam_search", "CharNGramLM"]

NEG_INF = float("-inf")


def ctc_min_frames(target: Sequence[int]) -> int:
    """Frames a CTC path needs for ``target``: its length plus one blank between equal neighbours."""
    return len(target) + sum(1 for a, b in zip(target[:-1], target[1:]) if a == b)


def check_ctc_targets(input_lengths: Sequence[int], targets: Sequence[Sequence[int]], name: str = "y") -> None:
    """Raise a DataError naming every example whose target cannot be aligned to its frames.

    Raises:
        DataError: ``name[i]`` needs more frames than its input gives (the message says how
        many, and how to make room: a wider input or less downsampling).
    """
    bad = [(i, ctc_min_frames(t), n) for i, (n, t) in enumerate(zip(input_lengths, targets)) if ctc_min_frames(t) > n]
    if bad:
        shown = "; ".join(f"{name}[{i}] needs {need} frames, its input gives {n}" for i, need, n in bad[:5])
        more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
        raise DataError(f"{len(bad)} target(s) cannot fit their input under CTC: {shown}{more}. A target of L "
                        "symbols with R repeated neighbours needs L + R frames: give wider inputs or downsample less")


def ctc_greedy(log_probs: torch.Tensor | np.ndarray, blank: int = 0, lengths: Sequence[int] | None = None) -> list[list[int]]:
    """Best-path decoding of (T, V) or (B, T, V) posteriors: labels per example (repeats collapsed,
    blanks removed). ``lengths``: frames of each example in a padded batch."""
    lp = torch.as_tensor(log_probs)
    batched = lp.dim() == 3
    lp = lp if batched else lp[None]
    best = lp.argmax(-1).tolist()  # (B, T)
    out = []
    for b, path in enumerate(best):
        n = len(path) if lengths is None else int(lengths[b])
        labels, prev = [], None
        for s in path[:n]:
            if s != prev and s != blank:
                labels.append(s)
            prev = s
        out.append(labels)
    return out if batched else out[0]


def _logadd(a: float, b: float) -> float:
    if a == NEG_INF:
        return b
    if b == NEG_INF:
        return a
    m = max(a, b)
    return m + math.log1p(math.exp(-abs(a - b)))


def ctc_prefix_beam_search(log_probs: torch.Tensor | np.ndarray, beam_size: int = 8, blank: int = 0, *,
                           lm: "CharNGramLM | None" = None, lm_weight: float = 0.0, insertion_bonus: float = 0.0,
                           symbols: Sequence[str] | None = None, prune: float = -12.0) -> list[tuple[list[int], float]]:
    """Prefix beam search over one example's posteriors (T, V); the hypotheses, best first, as
    (labels, score).

    Args:
        beam_size: prefixes kept after each frame; 1 keeps only the best prefix (close to, not
            always equal to, greedy decoding: it sums the paths of a prefix).
        lm, lm_weight, insertion_bonus: shallow fusion with a character language model; the LM
            scores each appended symbol as ``symbols[label]`` (required with ``lm``).
        prune: symbols whose frame log-probability is below this are not tried (speed).

    Raises:
        ConfigError: a bad argument.
    """
    if isinstance(beam_size, bool) or not isinstance(beam_size, int) or beam_size < 1:
        raise ConfigError(f"beam_size must be a positive int, got {beam_size!r}")
    if lm is not None and symbols is None:
        raise ConfigError("ctc_prefix_beam_search: an lm needs symbols (the character of each label)")
    lp = torch.as_tensor(log_probs, dtype=torch.float64).cpu().numpy()
    T, V = lp.shape
    # prefix (tuple) -> [log p ending in blank, log p ending in its last symbol]
    beams: dict[tuple[int, ...], list[float]] = {(): [0.0, NEG_INF]}
    lm_cache: dict[tuple[int, ...], float] = {(): 0.0}

    def lm_score(prefix: tuple[int, ...]) -> float:
        if lm is None or lm_weight == 0:
            return 0.0
        if prefix not in lm_cache:
            history = "".join(symbols[s] for s in prefix[:-1])
            lm_cache[prefix] = lm_score(prefix[:-1]) + lm.log_prob(symbols[prefix[-1]], history)
        return lm_cache[prefix]

    def total(prefix: tuple[int, ...], pb: float, pnb: float) -> float:
        return _logadd(pb, pnb) + lm_weight * lm_score(prefix) + insertion_bonus * len(prefix)

    for t in range(T):
        frame = lp[t]
        candidates = [s for s in range(V) if frame[s] >= prune] or [int(frame.argmax())]
        nxt: dict[tuple[int, ...], list[float]] = defaultdict(lambda: [NEG_INF, NEG_INF])
        for prefix, (pb, pnb) in beams.items():
            for s in candidates:
                p = float(frame[s])
                if s == blank:
                    entry = nxt[prefix]
                    entry[0] = _logadd(entry[0], _logadd(pb, pnb) + p)
                    continue
                last = prefix[-1] if prefix else None
                extended = prefix + (s,)
                entry = nxt[extended]
                if s == last:
                    entry[1] = _logadd(entry[1], pb + p)  # a repeat needs a blank between
                    same = nxt[prefix]
                    same[1] = _logadd(same[1], pnb + p)  # the symbol held over frames
                else:
                    entry[1] = _logadd(entry[1], _logadd(pb, pnb) + p)
        alive = [kv for kv in nxt.items() if max(kv[1]) > NEG_INF]  # a repeat without a blank before it is no path
        ranked = sorted(alive, key=lambda kv: total(kv[0], *kv[1]), reverse=True)
        beams = dict(ranked[:beam_size])
    result = [(list(prefix), total(prefix, pb, pnb)) for prefix, (pb, pnb) in beams.items()]
    result.sort(key=lambda r: r[1], reverse=True)
    return result


class CharNGramLM:
    """Interpolated Witten-Bell character n-gram language model.

    ``P(c | h) = (C(h c) + N1+(h .) * P(c | h')) / (C(h) + N1+(h .))`` with ``h'`` the history
    shortened by one character, down to a uniform distribution over the alphabet plus an unknown
    symbol; ``N1+(h .)`` is the number of distinct characters seen after ``h``. Each text is
    padded on the left with ``order - 1`` start marks.

    Args:
        order: n (2-8); 5 suits character models of a few megabytes of text.

    Raises:
        ConfigError: ``order`` out of range; DataError: no text to estimate from.
    """

    START = "\x02"

    def __init__(self, order: int = 5) -> None:
        if isinstance(order, bool) or not isinstance(order, int) or not 2 <= order <= 8:
            raise ConfigError(f"order must be an int in 2..8, got {order!r}")
        self.order = order
        self.counts: dict[str, dict[str, int]] = {}
        self.alphabet: list[str] = []

    def fit(self, texts: Iterable[str]) -> "CharNGramLM":
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        chars: set[str] = set()
        n = 0
        for text in texts:
            if not isinstance(text, str):
                raise DataError(f"CharNGramLM.fit takes str texts, got {type(text).__name__}")
            padded = self.START * (self.order - 1) + text
            chars.update(text)
            for i in range(self.order - 1, len(padded)):
                for k in range(self.order):
                    counts[padded[i - k:i]][padded[i]] += 1
            n += len(text)
        if n == 0:
            raise DataError("CharNGramLM.fit: the texts hold no characters")
        self.counts = {h: dict(c) for h, c in counts.items()}
        self.alphabet = sorted(chars)
        self._totals = {h: (sum(c.values()), len(c)) for h, c in self.counts.items()}
        return self

    def log_prob(self, char: str, history: str) -> float:
        """Natural-log probability of ``char`` after ``history`` (the last order - 1 characters count)."""
        if not self.counts:
            raise DataError("this CharNGramLM is not fitted yet; call fit(texts)")
        h = (self.START * (self.order - 1) + history)[-(self.order - 1):]
        p = 1.0 / (len(self.alphabet) + 1)  # uniform over the alphabet and one unknown symbol
        for k in range(0, self.order):
            ctx = h[len(h) - k:] if k else ""
            if ctx not in self.counts:
                continue
            total, distinct = self._totals[ctx]
            p = (self.counts[ctx].get(char, 0) + distinct * p) / (total + distinct)
        return math.log(p)

    def score(self, text: str) -> float:
        """Summed log-probability of every character of ``text`` (from the start of a text)."""
        return sum(self.log_prob(c, text[:i]) for i, c in enumerate(text))

    def to_dict(self) -> dict[str, Any]:
        return {"order": self.order, "counts": self.counts, "alphabet": self.alphabet}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "CharNGramLM":
        lm = cls(int(d["order"]))
        lm.counts = {h: {c: int(n) for c, n in cs.items()} for h, cs in d["counts"].items()}
        lm.alphabet = list(d["alphabet"])
        lm._totals = {h: (sum(c.values()), len(c)) for h, c in lm.counts.items()}
        return lm
