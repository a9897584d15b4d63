"""Text for language models: reading, tokenising and a fitted vocabulary (JSON round-trip).

:class:`TextPipeline` turns text into one stream of token ids and back:

* ``level="word"``: each line is split on whitespace and ends with ``<eos>`` (the convention
  of Mikolov's Penn Treebank files, where one line is one sentence); decoding joins words
  with spaces and turns ``<eos>`` into a line break;
* ``level="char"``: every character, line breaks included; decoding concatenates.

The vocabulary is frozen at fit time: ``<pad>`` = 0 (never produced), ``<unk>`` = 1, then
tokens by decreasing training frequency. Tokens rarer than ``min_freq``, or beyond the
``max_vocab`` most frequent, and tokens never seen map to ``<unk>``; ``lowercase`` folds case
first. A text that already holds the literal token ``<unk>`` (Penn Treebank does) keeps it as
the unknown token.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lstmkit.data.vocab import UNK, Vocabulary
from lstmkit.errors import ConfigError, DataError, suggest

__all__ = ["TextPipeline", "TextWindows", "read_text", "EOS", "TEXT_LEVELS"]

EOS = "<eos>"
TEXT_LEVELS = ("word", "char")


def read_text(source: Any, name: str = "text") -> str:
    """Text from a str, a list of str (joined by line breaks), a .txt file or a folder of .txt files.

    A str is taken as text unless it is an existing path (a Path object always is a path); a
    one-word str that looks like a path (``.txt``, a ``/``) but does not exist is an error. Line
    breaks are normalised to ``\\n`` (Windows ``\\r\\n`` and old Mac ``\\r``).

    Raises:
        DataError: the source is empty, not text, or a path that does not exist or holds no .txt files.
    """
    if isinstance(source, os.PathLike) or (isinstance(source, str) and "\n" not in source and len(source) < 4096
                                           and os.path.exists(source)):
        path = Path(source)
        if path.is_dir():
            files = sorted(path.rglob("*.txt"))
            if not files:
                raise DataError(f"{name}: the folder {str(path)!r} holds no .txt files")
            text = "\n".join(f.read_text(encoding="utf-8", errors="replace") for f in files)
        elif path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
        else:
            raise DataError(f"{name}: {str(path)!r} does not exist")
    elif isinstance(source, str):
        if "\n" not in source and not any(c.isspace() for c in source.strip()) and (
                source.lower().endswith(".txt") or os.sep in source or "/" in source):
            raise DataError(f"{name}: {source!r} looks like a path but does not exist (to pass it as text, give "
                            "a str with a line break or a list of lines)")
        text = source
    elif isinstance(source, (list, tuple)) and all(isinstance(s, str) for s in source):
        text = "\n".join(source)
    else:
        raise DataError(f"{name} must be a str, a list of str, or the path of a .txt file or folder, "
                        f"got {type(source).__name__}")
    if not text.strip():
        raise DataError(f"{name} is empty (no tokens to learn from)")
    return text.replace("\r\n", "\n").replace("\r", "\n")  # one line break whatever the platform


class TextPipeline:
    """Tokeniser + frozen vocabulary (see the module docstring).

    Args:
        level: ``"word"`` or ``"char"``.
        min_freq: tokens seen fewer times in training map to ``<unk>``.
        max_vocab: keep at most this many tokens (the most frequent), or None.
        lowercase: fold case before counting and encoding.
    """

    def __init__(self, level: str = "word", min_freq: int = 1, max_vocab: int | None = None,
                 lowercase: bool = False) -> None:
        problems = []
        if level not in TEXT_LEVELS:
            problems.append(f"level must be one of {list(TEXT_LEVELS)}, got {level!r}{suggest(str(level), TEXT_LEVELS)}")
        if isinstance(min_freq, bool) or not isinstance(min_freq, int) or min_freq < 1:
            problems.append(f"min_freq must be an int >= 1, got {min_freq!r}")
        if max_vocab is not None and (isinstance(max_vocab, bool) or not isinstance(max_vocab, int) or max_vocab < 1):
            problems.append(f"max_vocab must be None or an int >= 1, got {max_vocab!r}")
        if problems:
            raise ConfigError("; ".join(problems))
        self.level, self.min_freq, self.max_vocab, self.lowercase = level, min_freq, max_vocab, bool(lowercase)
        self.vocab_: Vocabulary | None = None

    # --- tokens -------------------------------------------------------------------------------
    def tokenize(self, text: str, *, end_of_text: bool = True) -> list[str]:
        """Tokens of ``text``; at word level each line ends with ``<eos>`` (the last line only
        when ``end_of_text``: a prompt that ends mid-line gets none)."""
        if self.lowercase:
            text = text.lower()
        if self.level == "char":
            return list(text)
        lines = text.split("\n")
        tokens: list[str] = []
        for i, line in enumerate(lines):
            words = line.split()
            last = i == len(lines) - 1
            if last and not line.strip():  # text ending in a line break: no extra empty sentence
                break
            tokens.extend(words)
            if words and (end_of_text or not last):
                tokens.append(EOS)
        return tokens

    def fit(self, text: str) -> "TextPipeline":
        tokens = self.tokenize(text)
        if not tokens:
            raise DataError("text holds no tokens (only white space)")
        counts = Counter(tokens)
        keep = sorted((t for t, c in counts.items() if c >= self.min_freq and t != UNK), key=lambda t: (-counts[t], t))
        if self.max_vocab is not None:
            keep = keep[: self.max_vocab]
        self.vocab_ = Vocabulary(keep)
        self.vocab_.counts = counts
        return self

    def _check_fitted(self) -> Vocabulary:
        if self.vocab_ is None:
            raise DataError("this TextPipeline is not fitted; call fit(text) first")
        return self.vocab_

    def encode(self, text: str, *, end_of_text: bool = True) -> np.ndarray:
        """Token ids (N,) int64; unknown tokens -> ``<unk>`` (id 1)."""
        return self.encode_tokens(self.tokenize(text, end_of_text=end_of_text))

    def encode_tokens(self, tokens: Iterable[str]) -> np.ndarray:
        vocab = self._check_fitted()
        return np.array([vocab.stoi.get(t, 1) for t in tokens], dtype=np.int64)

    def unknown(self, text: str) -> list[str]:
        """Distinct tokens of ``text`` that the vocabulary maps to ``<unk>``, in order of appearance."""
        vocab = self._check_fitted()
        return list(dict.fromkeys(t for t in self.tokenize(text) if t not in vocab.stoi and t != EOS))

    def token(self, i: int) -> str:
        return self._check_fitted().itos[int(i)]

    def decode(self, ids: Iterable[int]) -> str:
        """Text of token ids: words joined by spaces (``<eos>`` -> line break), chars concatenated."""
        itos = self._check_fitted().itos
        if self.level == "char":
            return "".join(itos[int(i)] for i in ids)
        out: list[str] = []
        for i in ids:
            t = itos[int(i)]
            out.append("\n" if t == EOS else t + " ")
        return "".join(out).replace(" \n", "\n").rstrip(" ")

    def join(self, token: str, previous: str | None) -> str:
        """How ``token`` is printed after ``previous`` when streaming (a space between words)."""
        if self.level == "char":
            return token
        if token == EOS:
            return "\n"
        return token if previous in (None, EOS) else " " + token

    @property
    def eos_id(self) -> int | None:
        """Id of ``<eos>`` (word level; at char level the line break), or None when not in the vocabulary."""
        vocab = self._check_fitted()
        return vocab.stoi.get(EOS if self.level == "word" else "\n")

    def __len__(self) -> int:
        return len(self._check_fitted())

    # --- JSON -----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        vocab = self._check_fitted()
        return {"level": self.level, "min_freq": self.min_freq, "max_vocab": self.max_vocab,
                "lowercase": self.lowercase, "vocab": vocab.itos[2:]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TextPipeline":
        pipe = cls(d["level"], int(d["min_freq"]), d.get("max_vocab"), bool(d["lowercase"]))
        pipe.vocab_ = Vocabulary(list(d["vocab"]))
        return pipe


class TextWindows(torch.utils.data.Dataset):
    """Non-overlapping windows of a token stream for next-token scoring: item i is
    (x, y) = (ids[i*K : (i+1)*K], ids[i*K+1 : (i+1)*K+1]); ``collate`` stacks them into
    ``{"x": (B, K) long, "y": (B, K) long}``. Each window is read from a zero state, so its
    figures are higher than the one-stream evaluation of :class:`LSTMLanguageModel`.

    Args:
        ids: token ids (N,).
        length: tokens per window (K).
    """

    def __init__(self, ids: Any, length: int = 64) -> None:
        self.ids = torch.as_tensor(np.asarray(ids, dtype=np.int64))
        self.length = int(length)

    def __len__(self) -> int:
        return max(0, (len(self.ids) - 1) // self.length)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        s = i * self.length
        return self.ids[s:s + self.length], self.ids[s + 1:s + 1 + self.length]

    @staticmethod
    def collate(items: list[tuple[torch.Tensor, torch.Tensor]]) -> dict[str, torch.Tensor]:
        return {"x": torch.stack([x for x, _ in items]), "y": torch.stack([y for _, y in items])}
