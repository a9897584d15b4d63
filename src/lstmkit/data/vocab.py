"""Token and character vocabularies for token-sequence models (JSON round-trip)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch

from lstmkit.errors import DataError

__all__ = ["Vocabulary", "TokenDataset", "check_token_sentences"]

PAD, UNK = "<pad>", "<unk>"


class Vocabulary:
    """Index of tokens: ``<pad>`` = 0, ``<unk>`` = 1, then tokens by decreasing frequency.

    Tokens rarer than ``min_freq`` map to ``<unk>``; ``lowercase`` folds case first.
    """

    def __init__(self, tokens: list[str], lowercase: bool = False) -> None:
        self.itos = [PAD, UNK] + [t for t in tokens if t not in (PAD, UNK)]
        self.stoi = {t: i for i, t in enumerate(self.itos)}
        self.lowercase = lowercase
        self.counts: Counter[str] = Counter()  # training frequencies (set by build; not saved)

    @classmethod
    def build(cls, sentences: Iterable[Iterable[str]], min_freq: int = 1, lowercase: bool = False) -> "Vocabulary":
        counts = Counter(t.lower() if lowercase else t for s in sentences for t in s)
        keep = sorted((t for t, c in counts.items() if c >= min_freq), key=lambda t: (-counts[t], t))
        vocab = cls(keep, lowercase)
        vocab.counts = counts
        return vocab

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, tokens: Iterable[str]) -> np.ndarray:
        f = str.lower if self.lowercase else (lambda t: t)
        return np.array([self.stoi.get(f(t), 1) for t in tokens], dtype=np.int64)

    def to_json(self) -> dict[str, Any]:
        return {"itos": self.itos[2:], "lowercase": self.lowercase}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "Vocabulary":
        return cls(list(d["itos"]), bool(d["lowercase"]))


def check_token_sentences(X: Any, name: str = "X") -> list[list[str]]:
    """A list of sentences, each a non-empty list of str tokens."""
    if isinstance(X, (str, bytes)) or not hasattr(X, "__len__"):
        raise DataError(f"{name} must be a list of sentences (lists of str tokens), got {type(X).__name__}")
    out = []
    for i, s in enumerate(X):
        if isinstance(s, str) or not hasattr(s, "__iter__"):
            raise DataError(f"{name}[{i}] must be a list of str tokens, got {type(s).__name__} (split sentences into tokens)")
        s = list(s)
        if not s:
            raise DataError(f"{name}[{i}] is an empty sentence; every sentence needs at least one token")
        bad = [t for t in s if not isinstance(t, str)]
        if bad:
            raise DataError(f"{name}[{i}] holds a non-str token {bad[0]!r}; tokens must be strings")
        out.append(s)
    if not out:
        raise DataError(f"{name} holds no sentences")
    return out


class TokenDataset(torch.utils.data.Dataset):
    """Encoded sentences (+ char ids, + tag ids); ``collate`` pads a batch into a dict.

    Batch: ``{"x": (B, T) long, "lengths": (B,), "chars": (B, T, W) long (if chars), "y": (B, T) long (-100 pad)}``.
    """

    def __init__(self, ids: list[np.ndarray], chars: list[np.ndarray] | None = None, tags: list[np.ndarray] | None = None) -> None:
        self.ids, self.chars, self.tags = ids, chars, tags

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> tuple:
        return self.ids[i], None if self.chars is None else self.chars[i], None if self.tags is None else self.tags[i]

    @staticmethod
    def collate(items: list[tuple]) -> dict[str, torch.Tensor]:
        lengths = torch.tensor([len(a) for a, _, _ in items], dtype=torch.long)
        B, T = len(items), int(lengths.max())
        x = torch.zeros(B, T, dtype=torch.long)
        batch: dict[str, torch.Tensor] = {"x": x, "lengths": lengths}
        for b, (a, _, _) in enumerate(items):
            x[b, : len(a)] = torch.from_numpy(a)
        if items[0][1] is not None:
            W = max(c.shape[1] for _, c, _ in items)
            chars = torch.zeros(B, T, W, dtype=torch.long)
            for b, (_, c, _) in enumerate(items):
                chars[b, : c.shape[0], : c.shape[1]] = torch.from_numpy(c)
            batch["chars"] = chars
        if items[0][2] is not None:
            y = torch.full((B, T), -100, dtype=torch.long)
            for b, (_, _, t) in enumerate(items):
                y[b, : len(t)] = torch.from_numpy(t)
            batch["y"] = y
        return batch
