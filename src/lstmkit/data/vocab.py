"""Token and character vocabularies for token-sequence models (JSON round-trip)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch

from lstmkit.errors import DataError

__all__ = ["Vocabulary", "TokenDataset", "TokenPipeline", "check_token_sentences"]

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


class TokenPipeline:
    """Token sentences -> token ids (T,) and character ids (T, W) per sentence, fitted once.

    Args:
        min_freq, lowercase: the token :class:`Vocabulary` (rarer tokens are ``<unk>``).
        use_char_features: also build a character vocabulary (unseen words keep features).
        max_word_length: characters kept per token (W is at most this).
    """

    def __init__(self, min_freq: int = 1, lowercase: bool = False, use_char_features: bool = True,
                 max_word_length: int = 20) -> None:
        self.min_freq = min_freq
        self.lowercase = lowercase
        self.use_char_features = use_char_features
        self.max_word_length = max_word_length
        self.vocab_: Vocabulary | None = None
        self.chars_: Vocabulary | None = None

    def fit_transform(self, X: Any, *, unk_replace: float = 0.0, seed: int = 0) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
        """Learn the vocabularies from ``X``; ``unk_replace`` is the share of training occurrences of
        once-seen tokens replaced by ``<unk>`` (seeded), so ``<unk>`` is trained for unknown words."""
        sents = check_token_sentences(X)
        self.vocab_ = Vocabulary.build(sents, self.min_freq, self.lowercase)
        if self.use_char_features:
            self.chars_ = Vocabulary(sorted({ch for s in sents for t in s for ch in t}))
        ids, chars = self._encode(sents)
        if unk_replace > 0:
            rng = np.random.default_rng(seed)
            once = {i for t, i in self.vocab_.stoi.items() if self.vocab_.counts.get(t, 0) == 1}
            for a in ids:
                hit = np.array([i in once for i in a]) & (rng.random(len(a)) < unk_replace)
                a[hit] = 1
        return ids, chars

    def transform(self, X: Any) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
        return self._encode(check_token_sentences(X))

    def _encode(self, sents: list[list[str]]) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
        ids = [self.vocab_.encode(s) for s in sents]
        return ids, (None if self.chars_ is None else [self._chars(s) for s in sents])

    def _chars(self, tokens: list[str]) -> np.ndarray:
        W = max(1, min(self.max_word_length, max(len(t) for t in tokens)))
        out = np.zeros((len(tokens), W), dtype=np.int64)  # (T, W), 0 = <pad>
        for i, t in enumerate(tokens):
            out[i, : min(len(t), W)] = self.chars_.encode(t[:W])
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"min_freq": self.min_freq, "max_word_length": self.max_word_length,
                "vocab": self.vocab_.to_json(), "chars": None if self.chars_ is None else self.chars_.to_json()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TokenPipeline":
        p = cls(d["min_freq"], bool(d["vocab"]["lowercase"]), d["chars"] is not None, d["max_word_length"])
        p.vocab_ = Vocabulary.from_json(d["vocab"])
        p.chars_ = None if d["chars"] is None else Vocabulary.from_json(d["chars"])
        return p
