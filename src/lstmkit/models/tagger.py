"""Sequence labelling: one tag per step from a BiLSTM, per-step softmax or a CRF layer.

``LSTMTaggerModel`` is the task model; ``LSTMTagger`` the scikit-learn-style estimator::

    from lstmkit.models.tagger import LSTMTagger
    tagger = LSTMTagger(use_crf=True).fit(sentences, tags)   # lists of token / tag lists
    tagger.predict([["Ankara", "güzel", "."]])               # -> [["NOUN", "ADJ", "PUNCT"]]
    tagger.evaluate(sentences, tags)   # token accuracy (+ entity P/R/F1 for BIO tags)

Input is either token sequences (lists of str: a vocabulary with ``<unk>`` for unseen
tokens, optional character-CNN features so unseen words still get a representation) or
numeric sequences (a list of (T_i, F) arrays, or a 3-D array), with one tag per step.
"""

from __future__ import annotations

import dataclasses
import os
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator
from torch import nn

from lstmkit.data.sequences import SequenceDataset, pad_sequences, to_sequences
from lstmkit.data.vocab import TokenDataset, Vocabulary, check_token_sentences
from lstmkit.errors import ConfigError, DataError, NotFittedError, ShapeError
from lstmkit.models._fitting import make_trainer_config, run_trainer, trainer_config_to_dict
from lstmkit.models.base import TaskModel, _load_tensors, register, save_model
from lstmkit.models.heads import CRF, LSTMEncoder, length_mask

__all__ = ["LSTMTagger", "LSTMTaggerModel", "LSTMTaggerConfig", "token_accuracy", "bio_entities", "entity_scores"]


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
class LSTMTaggerConfig:
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
        if (self.vocab_size > 0) == (self.input_size > 0):
            problems.append(f"exactly one of vocab_size ({self.vocab_size}) and input_size ({self.input_size}) must be positive")
        for name in ("num_tags", "hidden_size", "num_layers", "embedding_dim"):
            v = getattr(self, name)
            if not (isinstance(v, int) and v > 0):
                problems.append(f"{name} must be a positive int, got {v!r}")
        if not 0 <= self.dropout < 1:
            problems.append(f"dropout must be in [0, 1), got {self.dropout!r}")
        if problems:
            raise ConfigError("LSTMTaggerConfig: " + "; ".join(problems))


@register
class LSTMTaggerModel(TaskModel):
    """Per-step tag scores (B, T, C) from token ids (B, T) [+ chars (B, T, W)] or features (B, T, F)."""

    config_class = LSTMTaggerConfig

    def __init__(self, config: LSTMTaggerConfig) -> None:
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


# --- estimator ---------------------------------------------------------------------------
def _is_token_input(X: Any) -> bool:
    try:
        first = X[0]
        return not isinstance(first, str) and len(first) > 0 and isinstance(first[0], str)
    except (TypeError, IndexError, KeyError):
        return False


@register
class LSTMTagger(BaseEstimator):
    """BiLSTM sequence tagger (one label per step) with optional CRF output layer.

    Parameters
    ----------
    embedding_dim, hidden_size, num_layers, bidirectional, dropout, use_crf:
        architecture (see :class:`LSTMTaggerConfig`).
    use_char_features, char_dim, char_filters, max_word_length:
        a character CNN per token (token input only): unseen words still get features.
    min_freq, lowercase, unk_replace:
        vocabulary: tokens seen fewer than ``min_freq`` times are ``<unk>``; ``unk_replace``
        is the share of training occurrences of once-seen tokens replaced by ``<unk>``
        (seeded), so the ``<unk>`` embedding is trained for test-time unknown words.
    trainer:
        a :class:`lstmkit.train.TrainerConfig` (or dict); None: 10 epochs, batch 32, Adam 2e-3.
    """

    def __init__(
        self,
        embedding_dim: int = 64,
        hidden_size: int = 64,
        num_layers: int = 1,
        bidirectional: bool = True,
        dropout: float = 0.25,
        use_crf: bool = False,
        use_char_features: bool = True,
        char_dim: int = 16,
        char_filters: int = 32,
        max_word_length: int = 20,
        min_freq: int = 1,
        lowercase: bool = False,
        unk_replace: float = 0.5,
        trainer: Any = None,
    ) -> None:
        self.embedding_dim = embedding_dim
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.use_crf = use_crf
        self.use_char_features = use_char_features
        self.char_dim = char_dim
        self.char_filters = char_filters
        self.max_word_length = max_word_length
        self.min_freq = min_freq
        self.lowercase = lowercase
        self.unk_replace = unk_replace
        self.trainer = trainer

    # --- encoding -----------------------------------------------------------------------
    def _chars(self, tokens: list[str]) -> np.ndarray:
        W = max(1, min(self.max_word_length, max(len(t) for t in tokens)))
        out = np.zeros((len(tokens), W), dtype=np.int64)
        for i, t in enumerate(tokens):
            out[i, : min(len(t), W)] = [self.chars_.get(ch, 1) for ch in t[:W]]
        return out

    def _scale(self, seqs: list[np.ndarray]) -> list[np.ndarray]:
        mean, std = (np.asarray(self.scaler_[k], dtype=np.float32) for k in ("mean", "std"))
        return [((s - mean) / std).astype(np.float32) for s in seqs]

    def _inputs(self, X: Any) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
        """Encode prediction input the way the training input was encoded."""
        if self.input_kind_ == "tokens":
            sents = check_token_sentences(X)
            ids = [self.vocab_.encode(s) for s in sents]
            return ids, ([self._chars(s) for s in sents] if self.chars_ is not None else None)
        if _is_token_input(X):
            raise DataError("X holds token sequences, but this tagger was fitted on numeric feature sequences")
        seqs, _ = to_sequences(X)
        if seqs[0].shape[1] != self.n_features_in_:
            raise ShapeError(f"X has {seqs[0].shape[1]} features per step, but the tagger was fitted with {self.n_features_in_}")
        return self._scale(seqs), None

    def _check_tags(self, X_lens: list[int], y: Any, name: str = "y") -> list[list[Any]]:
        if isinstance(y, (str, bytes)) or not hasattr(y, "__len__"):
            raise DataError(f"{name} must be a list of tag sequences, got {type(y).__name__}")
        y = [list(t) for t in y]
        if len(y) != len(X_lens):
            raise ShapeError(f"{name} has {len(y)} tag sequences, X has {len(X_lens)} sequences")
        for i, (n, t) in enumerate(zip(X_lens, y)):
            if len(t) != n:
                raise ShapeError(f"{name}[{i}] has {len(t)} tags for {n} steps; give exactly one tag per step")
        return y

    def fit(self, X: Any, y: Any) -> "LSTMTagger":
        """Fit on sequences ``X`` (token lists or numeric arrays) and per-step tags ``y``."""
        if not 0 <= self.unk_replace <= 1:
            raise ConfigError(f"unk_replace must be in [0, 1], got {self.unk_replace!r}")
        tcfg = make_trainer_config(self.trainer, max_epochs=10, batch_size=32, lr=2e-3)
        self.trainer_config_ = tcfg
        seed = tcfg.seed if tcfg.seed is not None else 0
        rng = np.random.default_rng(seed)
        self.chars_ = None
        if _is_token_input(X):
            self.input_kind_ = "tokens"
            sents = check_token_sentences(X)
            self.vocab_ = Vocabulary.build(sents, self.min_freq, self.lowercase)
            ids = [self.vocab_.encode(s) for s in sents]
            if self.unk_replace > 0:
                once = {i for t, i in self.vocab_.stoi.items() if self.vocab_.counts.get(t, 0) == 1}
                for a in ids:
                    hit = np.array([i in once for i in a]) & (rng.random(len(a)) < self.unk_replace)
                    a[hit] = 1
            chars = None
            if self.use_char_features:
                counts = Counter(ch for s in sents for t in s for ch in t)
                self.chars_ = {ch: i + 2 for i, ch in enumerate(sorted(counts))}
                chars = [self._chars(s) for s in sents]
            lens = [len(s) for s in sents]
            self.n_features_in_ = 1
        else:
            self.input_kind_ = "numeric"
            seqs, _ = to_sequences(X)
            self.n_features_in_ = int(seqs[0].shape[1])
            allsteps = np.concatenate(seqs)
            self.scaler_ = {"mean": allsteps.mean(0).tolist(), "std": np.maximum(allsteps.std(0), 1e-8).tolist()}
            chars = None
            ids = self._scale(seqs)
            lens = [len(s) for s in seqs]
        tags = self._check_tags(lens, y)
        try:
            self.classes_ = np.array(sorted({t for s in tags for t in s}))
        except TypeError:
            self.classes_ = np.array(list(dict.fromkeys(t for s in tags for t in s)), dtype=object)
        index = {c: i for i, c in enumerate(self.classes_.tolist())}
        codes = [np.array([index[t] for t in s], dtype=np.int64) for s in tags]
        torch.manual_seed(seed)
        config = LSTMTaggerConfig(
            num_tags=len(self.classes_),
            vocab_size=len(self.vocab_) if self.input_kind_ == "tokens" else 0,
            input_size=self.n_features_in_ if self.input_kind_ == "numeric" else 0,
            embedding_dim=self.embedding_dim,
            char_vocab_size=(len(self.chars_) + 2) if self.chars_ is not None else 0,
            char_dim=self.char_dim,
            char_filters=self.char_filters,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            bidirectional=self.bidirectional,
            dropout=self.dropout,
            use_crf=self.use_crf,
        )
        self.model_ = LSTMTaggerModel(config)
        train = TokenDataset(ids, chars, codes) if self.input_kind_ == "tokens" else SequenceDataset(ids, codes)
        self.history_ = run_trainer(self.model_, train, None, tcfg)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError("this LSTMTagger is not fitted yet; call fit(X, y) first")

    @torch.no_grad()
    def predict(self, X: Any) -> list[list[Any]]:
        """Tags per step: a list with one list of tags per input sequence."""
        self._check_fitted()
        ids, chars = self._inputs(X)
        self.model_.eval()
        order = np.argsort([len(a) for a in ids], kind="stable")
        out: list[list[Any]] = [None] * len(ids)  # type: ignore[list-item]
        for start in range(0, len(ids), 256):
            idx = order[start : start + 256]
            if self.input_kind_ == "tokens":
                batch = TokenDataset.collate([(ids[i], None if chars is None else chars[i], None) for i in idx])
            else:
                x, lens = pad_sequences([ids[i] for i in idx])
                batch = {"x": x, "lengths": lens}
            for i, path in zip(idx, self.model_.decode(batch)):
                out[i] = [self.classes_[k].item() if hasattr(self.classes_[k], "item") else self.classes_[k] for k in path]
        return out

    def evaluate(self, X: Any, y: Any) -> dict[str, float]:
        """``token_accuracy`` (+ entity ``precision``/``recall``/``f1`` when the tags are BIO)."""
        self._check_fitted()
        pred = self.predict(X)
        y = self._check_tags([len(p) for p in pred], y)
        known = set(self.classes_.tolist())
        unknown = sorted({repr(t) for s in y for t in s if t not in known})
        if unknown:
            raise DataError(f"y contains tag(s) never seen at fit time: {', '.join(unknown[:5])}; the model knows {sorted(map(str, known))[:20]}")
        res = {"token_accuracy": token_accuracy(y, pred)}
        if is_bio({str(t) for t in known}):
            res.update(entity_scores(y, pred))
        return res

    def score(self, X: Any, y: Any) -> float:
        """Token accuracy (a DataError for tags never seen at fit time)."""
        return self.evaluate(X, y)["token_accuracy"]

    # --- persistence --------------------------------------------------------------------
    def save(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write the fitted model to directory ``path`` (see :func:`lstmkit.models.base.save_model`)."""
        self._check_fitted()
        return save_model(self, path, overwrite=overwrite)

    def _saved_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor], dict[str, Any]]:
        from lstmkit.models._fitting import labels_to_json

        params = self.get_params(deep=False)
        params["trainer"] = trainer_config_to_dict(self.trainer)
        state: dict[str, Any] = {
            "classes": labels_to_json(self.classes_),
            "input_kind": self.input_kind_,
            "n_features_in": self.n_features_in_,
            "history": self.history_,
        }
        if self.input_kind_ == "tokens":
            state["vocab"] = self.vocab_.to_json()
            state["chars"] = None if self.chars_ is None else sorted(self.chars_, key=self.chars_.get)
        else:
            state["scaler"] = self.scaler_
        return {"params": params, "model": self.model_.get_config()}, dict(self.model_.state_dict()), state

    @classmethod
    def _from_saved(cls, config: dict, tensors: dict[str, torch.Tensor], state: dict) -> "LSTMTagger":
        from lstmkit.models._fitting import labels_from_json

        params = dict(config["params"])
        if params.get("trainer") is not None:
            params["trainer"] = make_trainer_config(params["trainer"])
        est = cls(**params)
        est.model_ = LSTMTaggerModel.from_config(config["model"])
        _load_tensors(est.model_, tensors)
        est.model_.eval()
        est.classes_ = labels_from_json(state["classes"])
        est.input_kind_ = state["input_kind"]
        est.n_features_in_ = int(state["n_features_in"])
        est.history_ = state.get("history", [])
        est.chars_ = None
        if est.input_kind_ == "tokens":
            est.vocab_ = Vocabulary.from_json(state["vocab"])
            if state.get("chars") is not None:
                est.chars_ = {ch: i + 2 for i, ch in enumerate(state["chars"])}
        else:
            est.scaler_ = state["scaler"]
        return est
