"""Parallel text for encoder-decoders: tokenising, frozen vocabularies, padded batches.

:class:`Seq2SeqPipeline` is fitted once on the training pairs and saved with the model (JSON):

* ``level="char"``: every character is a token (case kept unless ``lowercase``); decoding
  concatenates.
* ``level="word"``: words and punctuation marks are tokens (``\\w+`` runs and single
  non-space symbols); a token written without a space before it carries the prefix ``##``
  (WordPiece's continuation mark), so "Jesus," is "Jesus" + "##," and "2002-04-03" is "2002" +
  "##-" + "##04" + "##-" + "##03". Decoding puts the spaces back exactly where they were (runs
  of white space become one space), so a perfect model reproduces its references.

Vocabulary ids: 0 ``<pad>``, 1 ``<unk>``, 2 ``<bos>``, 3 ``<eos>``, then tokens by decreasing
training frequency (``min_freq``, ``max_vocab``). Every source ends with ``<eos>`` (so an empty
source is one token and the encoder always has a memory position); every target is ``<bos>``
+ tokens + ``<eos>``. Unknown tokens map to ``<unk>``. ``share_vocab`` builds one vocabulary
from both sides (needed to share embeddings).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from lstmkit.data.vocab import Vocabulary
from lstmkit.errors import ConfigError, DataError, ShapeError

__all__ = ["Seq2SeqPipeline", "Seq2SeqDataset", "check_texts", "build_vocabulary", "tokenize", "detokenize", "display_tokens", "BOS", "EOS",
           "BOS_ID", "EOS_ID", "SEQ2SEQ_LEVELS"]

BOS, EOS = "<bos>", "<eos>"
BOS_ID, EOS_ID = 2, 3
SEQ2SEQ_LEVELS = ("char", "word")
_WORD = re.compile(r"(\s*)(\w+|[^\w\s])")
GLUE = "##"  # prefix of a token written without a space before it


def check_texts(X: Any, name: str = "X") -> list[str]:
    """A non-empty sequence of str (one text per example), else a DataError naming the item."""
    if isinstance(X, Mapping) or hasattr(X, "columns"):
        raise DataError(f"{name} must be a list of str, got a {type(X).__name__}: pass one column, e.g. df['source']")
    if isinstance(X, np.ndarray) and X.ndim != 1:
        raise DataError(f"{name} must be a 1-D list of str, got an array of shape {X.shape}")
    if isinstance(X, (str, bytes)) or not hasattr(X, "__iter__"):
        raise DataError(f"{name} must be a list of str (one text per example), got {type(X).__name__}")
    out = list(X)
    if not out:
        raise DataError(f"{name} holds no texts")
    for i, t in enumerate(out):
        if not isinstance(t, str):
            raise DataError(f"{name}[{i}] must be a str, got {type(t).__name__}")
    return out


def tokenize(text: str, level: str = "word", lowercase: bool = False) -> list[str]:
    """Characters (``level="char"``), or words and punctuation marks (``"word"``; a token glued
    to the one before it carries the prefix ``##``) of ``text``. Unicode is NFC-normalised first,
    so composed and decomposed accents are the same token."""
    text = unicodedata.normalize("NFC", text)
    if lowercase:
        text = text.lower()
    if level == "char":
        return list(text)
    return [tok if (space or k == 0) else GLUE + tok for k, (space, tok) in enumerate(_WORD.findall(text))]


def detokenize(tokens: Sequence[str], level: str = "word") -> str:
    """Inverse of :func:`tokenize` (word level: a space before every token without ``##``)."""
    if level == "char":
        return "".join(tokens)
    out = []
    for tok in tokens:
        if tok.startswith(GLUE) and len(tok) > len(GLUE):
            out.append(tok[len(GLUE):])
        else:
            out.append((" " if out else "") + tok)
    return "".join(out)


def display_tokens(tokens: Sequence[str]) -> list[str]:
    """Tokens as a reader sees them (plot labels): the ``##`` glue mark dropped (``"##."`` -> ``"."``)."""
    return [tok[len(GLUE):] if tok.startswith(GLUE) and len(tok) > len(GLUE) else tok for tok in tokens]


def build_vocabulary(texts: Iterable[list[str]], min_freq: int = 1, max_vocab: int | None = None) -> Vocabulary:
    """A frozen vocabulary of tokenised texts: ``<pad>`` 0, ``<unk>`` 1, ``<bos>`` 2, ``<eos>`` 3,
    then tokens seen at least ``min_freq`` times by decreasing frequency (at most ``max_vocab``)."""
    counts = Counter(t for toks in texts for t in toks)
    keep = sorted((t for t, c in counts.items() if c >= min_freq), key=lambda t: (-counts[t], t))
    if max_vocab is not None:
        keep = keep[:max_vocab]
    return Vocabulary([BOS, EOS] + [t for t in keep if t not in (BOS, EOS)])


class Seq2SeqPipeline:
    """Source and target texts <-> id arrays (see the module docstring).

    Args:
        level: ``"char"`` or ``"word"``.
        lowercase: fold case before tokenising (both sides).
        min_freq: tokens seen fewer times in training are ``<unk>``.
        max_vocab: keep at most this many tokens per vocabulary (None: all).
        share_vocab: one vocabulary for source and target.

    Raises:
        ConfigError: a bad argument.
    """

    def __init__(self, level: str = "char", lowercase: bool = False, min_freq: int = 1, max_vocab: int | None = None,
                 share_vocab: bool = False) -> None:
        problems = []
        if level not in SEQ2SEQ_LEVELS:
            problems.append(f"level must be one of {list(SEQ2SEQ_LEVELS)}, got {level!r}")
        if isinstance(min_freq, bool) or not isinstance(min_freq, int) or min_freq < 1:
            problems.append(f"min_freq must be an int >= 1, got {min_freq!r}")
        if max_vocab is not None and (isinstance(max_vocab, bool) or not isinstance(max_vocab, int) or max_vocab < 1):
            problems.append(f"max_vocab must be None or an int >= 1, got {max_vocab!r}")
        for name, v in (("lowercase", lowercase), ("share_vocab", share_vocab)):
            if not isinstance(v, bool):
                problems.append(f"{name} must be True or False, got {v!r}")
        if problems:
            raise ConfigError("; ".join(problems))
        self.level, self.lowercase, self.min_freq = level, lowercase, min_freq
        self.max_vocab, self.share_vocab = max_vocab, share_vocab
        self.source_vocab_: Vocabulary | None = None
        self.target_vocab_: Vocabulary | None = None
        self.max_target_length_ = 0  # tokens of the longest training target (without <bos>/<eos>)

    # --- tokens ----------------------------------------------------------------------------
    def tokenize(self, text: str) -> list[str]:
        return tokenize(text, self.level, self.lowercase)

    def detokenize(self, tokens: Sequence[str]) -> str:
        return detokenize(tokens, self.level)

    # --- fitting and encoding ---------------------------------------------------------------
    def fit(self, sources: Any, targets: Any) -> "Seq2SeqPipeline":
        src, tgt = check_texts(sources, "X"), check_texts(targets, "y")
        if len(src) != len(tgt):
            raise ShapeError(f"X has {len(src)} texts and y has {len(tgt)}; give one target per source")
        src_tok, tgt_tok = [self.tokenize(s) for s in src], [self.tokenize(t) for t in tgt]
        if not any(tgt_tok):
            raise DataError("y holds only empty texts; there is nothing to learn to produce")
        if self.share_vocab:
            self.source_vocab_ = self.target_vocab_ = build_vocabulary(src_tok + tgt_tok, self.min_freq, self.max_vocab)
        else:
            self.source_vocab_ = build_vocabulary(src_tok, self.min_freq, self.max_vocab)
            self.target_vocab_ = build_vocabulary(tgt_tok, self.min_freq, self.max_vocab)
        self.max_target_length_ = max(len(t) for t in tgt_tok)
        return self

    def _fitted(self) -> tuple[Vocabulary, Vocabulary]:
        if self.source_vocab_ is None or self.target_vocab_ is None:
            raise DataError("the Seq2SeqPipeline is not fitted yet")
        return self.source_vocab_, self.target_vocab_

    def encode_sources(self, texts: Any, name: str = "X") -> list[np.ndarray]:
        """Source ids (S_i,) per text, ``<eos>`` last."""
        vocab = self._fitted()[0]
        return [np.append(vocab.encode(self.tokenize(t)), EOS_ID) for t in check_texts(texts, name)]

    def encode_targets(self, texts: Any, name: str = "y") -> list[np.ndarray]:
        """Target ids (T_i + 2,) per text: ``<bos>`` + tokens + ``<eos>``."""
        vocab = self._fitted()[1]
        return [np.concatenate([[BOS_ID], vocab.encode(self.tokenize(t)), [EOS_ID]]).astype(np.int64)
                for t in check_texts(texts, name)]

    def decode_target(self, ids: Iterable[int]) -> str:
        return self.detokenize(self.target_tokens(ids))

    def target_tokens(self, ids: Iterable[int]) -> list[str]:
        itos = self._fitted()[1].itos
        return [itos[i] for i in ids if i not in (0, BOS_ID, EOS_ID)]

    def source_tokens(self, text: str) -> list[str]:
        """The source as the encoder reads it (unknown tokens shown as ``<unk>``), ``<eos>`` last."""
        vocab = self._fitted()[0]
        return [t if t in vocab.stoi else "<unk>" for t in self.tokenize(text)] + [EOS]

    def unknown(self, text: str) -> list[str]:
        """Source tokens of ``text`` that the vocabulary maps to ``<unk>``."""
        vocab = self._fitted()[0]
        return [t for t in self.tokenize(text) if t not in vocab.stoi]

    def to_dict(self) -> dict[str, Any]:
        src, tgt = self._fitted()
        return {"level": self.level, "lowercase": self.lowercase, "min_freq": self.min_freq, "max_vocab": self.max_vocab,
                "share_vocab": self.share_vocab, "source_vocab": src.to_json()["itos"],
                "target_vocab": None if self.share_vocab else tgt.to_json()["itos"],
                "max_target_length": self.max_target_length_}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Seq2SeqPipeline":
        p = cls(d["level"], d["lowercase"], d["min_freq"], d["max_vocab"], d["share_vocab"])
        p.source_vocab_ = Vocabulary(list(d["source_vocab"]))
        p.target_vocab_ = p.source_vocab_ if d["share_vocab"] else Vocabulary(list(d["target_vocab"]))
        p.max_target_length_ = int(d["max_target_length"])
        return p


class Seq2SeqDataset(torch.utils.data.Dataset):
    """Encoded pairs; ``collate`` pads a batch into ``{"x": (B, S), "x_lengths": (B,), "y": (B, T)}``
    (0 = padding; ``y`` absent when the dataset has no targets)."""

    def __init__(self, sources: list[np.ndarray], targets: list[np.ndarray] | None = None) -> None:
        self.sources, self.targets = sources, targets

    def __len__(self) -> int:
        return len(self.sources)

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray | None]:
        return self.sources[i], None if self.targets is None else self.targets[i]

    @staticmethod
    def collate(items: list[tuple[np.ndarray, np.ndarray | None]]) -> dict[str, torch.Tensor]:
        lengths = torch.tensor([len(s) for s, _ in items], dtype=torch.long)
        x = torch.zeros(len(items), int(lengths.max()), dtype=torch.long)
        for b, (s, _) in enumerate(items):
            x[b, : len(s)] = torch.from_numpy(np.asarray(s, dtype=np.int64))
        batch = {"x": x, "x_lengths": lengths}
        if items[0][1] is not None:
            y = torch.zeros(len(items), max(len(t) for _, t in items), dtype=torch.long)
            for b, (_, t) in enumerate(items):
                y[b, : len(t)] = torch.from_numpy(np.asarray(t, dtype=np.int64))
            batch["y"] = y
        return batch

