"""Sequence labelling network: one tag per step from a BiLSTM, per-step softmax or a CRF layer,
and the tagging metrics (token accuracy, BIO entity precision/recall/F1).

``TaggerNetwork`` is a :class:`~lstmkit.models.base.TaskModel`; the estimator around it is
:class:`lstmkit.estimators.LSTMTagger`. Input is token ids (B, T) (+ characters (B, T, W)) or
numeric features (B, T, F).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import nn

from lstmkit.errors import ConfigError, ShapeError
from lstmkit.models.base import TaskModel
from lstmkit.models.heads import CRF, LSTMEncoder, length_mask
from lstmkit.persist import migration, register

__all__ = ["TaggerNetwork", "TaggerNetworkConfig", "token_accuracy", "bio_entities", "is_bio", "entity_scores"]


# --- metrics ----------------------------------------------------------------------------
def token_accuracy(y_true: list[list[Any]], y_pred: list[list[Any]]) -> float:
    """Share of steps whose predicted tag equals the true tag."""
    n = ok = 0
    for i, (t, p) in enumerate(zip(y_true, y_pred)):
        if len(t) != len(p):
            raise ShapeError(f"sentence {i}: {len(t)} true tags but {len(p)} predicted")
        n += len(t)
        ok += sum(a == b for a, b in zip(t, p))
    return ok / max(n, 1)


def bio_entities(tags: list[str]) -> set[tuple[str, int, int]]:
    """Entities ``(type, start, end_exclusive)`` from BIO/IOB2 tags (conlleval rules: an
    ``I-X`` that does not continue an ``X`` entity starts a new one)."""
    ents, start, typ = set(), None, None
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, _, t = tag.partition("-") if tag != "O" else ("O", "", "")
        if start is not None and (prefix in ("O", "B") or t != typ):
            ents.add((typ, start, i))
            start, typ = None, None
        if prefix == "B" or (prefix == "I" and start is None):
            start, typ = i, t
    return ents


def is_bio(tagset: set[str]) -> bool:
    return bool(tagset) and all(t == "O" or (t[:2] in ("B-", "I-") and len(t) > 2) for t in tagset) and any(
        t.startswith("B-") for t in tagset
    )


def entity_scores(y_true: list[list[str]], y_pred: list[list[str]]) -> dict[str, float]:
    """Entity-level precision, recall and F1 (an entity counts when type and span match exactly)."""
    tp = n_true = n_pred = 0
    for t, p in zip(y_true, y_pred):
        et, ep = bio_entities(t), bio_entities(p)
        tp += len(et & ep)
        n_true += len(et)
        n_pred += len(ep)
    prec = tp / n_pred if n_pred else 0.0
    rec = tp / n_true if n_true else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"precision": prec, "recall": rec, "f1": f1}


# --- task model --------------------------------------------------------------------------
@dataclasses.dataclass
class TaggerNetworkConfig:
    num_tags: int  # C (from the training tags)
    vocab_size: int = 0  # token input: vocabulary size incl. <pad>, <unk>; 0 for numeric input
    input_size: int = 0  # numeric input: features per step F; 0 for token input
    embedding_dim: int = 64  # token embedding size; larger helps big corpora, overfits small
    char_vocab_size: int = 0  # characters incl. <pad>, <unk>; 0 disables character features
    char_dim: int = 16  # character embedding size
    char_filters: int = 32  # character-CNN filters (width 3, max-pooled per token)
    hidden_size: int = 64  # LSTM units per direction
    num_layers: int = 1  # stacked LSTM layers
    bidirectional: bool = True  # context from both sides (the standard tagger); False: left context only
    dropout: float = 0.25  # on embeddings and LSTM outputs; regularises
    use_crf: bool = False  # CRF output layer (tag transitions, Viterbi decoding); helps BIO tags

    def __post_init__(self) -> None:
        problems = []
        for name in ("vocab_size", "input_size", "char_vocab_size", "char_dim", "char_filters"):
            v = getattr(self, name)
            if not (isinstance(v, int) and not isinstance(v, bool) and v >= 0):
                problems.append(f"{name} must be an int >= 0, got {v!r}")
        for name in ("bidirectional", "use_crf"):
            if not isinstance(getattr(self, name), bool):
                problems.append(f"{name} must be True or False, got {getattr(self, name)!r}")
        if problems:
            raise ConfigError("TaggerNetworkConfig: " + "; ".join(problems))
        if (self.vocab_size > 0) == (self.input_size > 0):
            problems.append(f"exactly one of vocab_size ({self.vocab_size}) and input_size ({self.input_size}) must be positive")
        for name in ("num_tags", "hidden_size", "num_layers", "embedding_dim"):
            v = getattr(self, name)
            if not (isinstance(v, int) and not isinstance(v, bool) and v > 0):
                problems.append(f"{name} must be a positive int, got {v!r}")
        if not (isinstance(self.dropout, (int, float)) and not isinstance(self.dropout, bool) and 0 <= self.dropout < 1):
            problems.append(f"dropout must be in [0, 1), got {self.dropout!r}")
        if problems:
            raise ConfigError("TaggerNetworkConfig: " + "; ".join(problems))


@register
class TaggerNetwork(TaskModel):
    """Per-step tag scores (B, T, C) from token ids (B, T) [+ chars (B, T, W)] or features (B, T, F)."""

    config_class = TaggerNetworkConfig

    def __init__(self, config: TaggerNetworkConfig) -> None:
        super().__init__(config)
        c = config
        in_size = c.input_size
        if c.vocab_size:
            self.embed = nn.Embedding(c.vocab_size, c.embedding_dim, padding_idx=0)
            in_size = c.embedding_dim
            if c.char_vocab_size:
                self.char_embed = nn.Embedding(c.char_vocab_size, c.char_dim, padding_idx=0)
                self.char_conv = nn.Conv1d(c.char_dim, c.char_filters, kernel_size=3, padding=1)
                in_size += c.char_filters
        self.drop = nn.Dropout(c.dropout)
        self.encoder = LSTMEncoder(in_size, c.hidden_size, c.num_layers, c.bidirectional, c.dropout)
        self.out = nn.Linear(self.encoder.output_size, c.num_tags)
        self.crf = CRF(c.num_tags) if c.use_crf else None

    def emissions(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        x, lengths = batch["x"], batch["lengths"]
        if self.config.vocab_size:
            h = self.embed(x)  # (B, T, E)
            if self.config.char_vocab_size:
                ch = batch["chars"]  # (B, T, W)
                B, T, W = ch.shape
                e = self.char_embed(ch.reshape(B * T, W)).transpose(1, 2)  # (B*T, Cd, W)
                feats = torch.relu(self.char_conv(e)).amax(2).reshape(B, T, -1)  # (B, T, filters)
                h = torch.cat([h, feats], dim=-1)  # (B, T, E + filters)
        else:
            h = x
        out, _ = self.encoder(self.drop(h), lengths)  # (B, T, D*H)
        return self.out(self.drop(out))  # (B, T, C)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.emissions(batch)

    def loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        emit = self.emissions(batch)
        if self.crf is not None:
            return self.crf.nll(emit, batch["y"], batch["lengths"]) / batch["lengths"].float().mean()
        return nn.functional.cross_entropy(emit.reshape(-1, emit.shape[-1]), batch["y"].reshape(-1), ignore_index=-100)

    @torch.no_grad()
    def decode(self, batch: dict[str, torch.Tensor]) -> list[list[int]]:
        emit = self.emissions(batch)
        if self.crf is not None:
            return self.crf.decode(emit, batch["lengths"])
        best = emit.argmax(-1)
        return [best[b, : int(n)].tolist() for b, n in enumerate(batch["lengths"])]

    @torch.no_grad()
    def metrics(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        loss = float(self.loss(batch))
        mask = length_mask(batch["lengths"], batch["x"].shape[1])
        pred = torch.zeros_like(batch["y"])
        for b, p in enumerate(self.decode(batch)):
            pred[b, : len(p)] = torch.tensor(p)
        acc = float(((pred == batch["y"]) & mask).sum() / mask.sum())
        return {"loss": loss, "token_accuracy": acc}


@migration(1, "LSTMTaggerModel")
def _from_v1(meta: dict, tensors: dict) -> tuple[dict, dict]:
    """0.1.0 called this network LSTMTaggerModel; its config and weights are unchanged."""
    return {**meta, "type": "TaggerNetwork"}, tensors
