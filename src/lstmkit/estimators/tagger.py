"""``LSTMTagger``: BiLSTM sequence tagger (one label per step) with an optional CRF output layer
(network: :class:`~lstmkit.models.tagger.TaggerNetwork`)::

    tagger = LSTMTagger(use_crf=True).fit(sentences, tags)   # lists of token / tag lists
    tagger.predict([["Ankara", "güzel", "."]])               # -> [["NOUN", "ADJ", "PUNCT"]]
    tagger.evaluate(sentences, tags)   # token accuracy (+ entity P/R/F1 for BIO tags)

Input is either token sequences (lists of str: a vocabulary with ``<unk>`` for unseen tokens,
optional character-CNN features so unseen words still get a representation) or numeric
sequences (a list of (T_i, F) arrays, or a 3-D array), with one tag per step.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from lstmkit.data.labels import LabelEncoder
from lstmkit.data.sequence_pipeline import SequencePipeline
from lstmkit.data.sequences import SequenceDataset, pad_sequences
from lstmkit.data.supervised import SupervisedPipeline
from lstmkit.data.vocab import TokenDataset, TokenPipeline
from lstmkit.errors import ConfigError, DataError, ShapeError
from lstmkit.estimators.base import Estimator, Prepared
from lstmkit.models.tagger import TaggerNetwork, TaggerNetworkConfig, entity_scores, is_bio, token_accuracy
from lstmkit.persist import migration, register

__all__ = ["LSTMTagger"]


def _is_token_input(X: Any) -> bool:
    try:
        first = X[0]
        return not isinstance(first, str) and len(first) > 0 and isinstance(first[0], str)
    except (TypeError, IndexError, KeyError):
        return False


@register
class LSTMTagger(Estimator):
    """BiLSTM sequence tagger (one label per step) with optional CRF output layer.

    Args:
        embedding_dim: token embedding width (the network: see :class:`TaggerNetworkConfig`).
        hidden_size: LSTM units per direction.
        num_layers: stacked LSTM layers.
        bidirectional: read each sentence in both directions.
        dropout: dropout on embeddings and LSTM outputs.
        use_crf: a CRF output layer (consistent tag sequences) instead of per-step softmax.
        use_char_features: a character CNN per token (token input only): unseen words still
            get features.
        char_dim: character embedding width.
        char_filters: filters of the character CNN.
        max_word_length: characters read per token.
        min_freq: tokens seen fewer than ``min_freq`` times are ``<unk>``.
        lowercase: lowercase tokens before the vocabulary lookup.
        unk_replace: the share of training occurrences of once-seen tokens replaced by
            ``<unk>`` (seeded), so the ``<unk>`` embedding is trained.
        trainer: a :class:`lstmkit.train.TrainerConfig` or dict over ``trainer_defaults``
            (10 epochs, batch 32, Adam 2e-3).
        random_state: seeds the network, the training order and ``unk_replace``.

    Raises:
        ConfigError: a bad argument; DataError / ShapeError: bad input, naming the sentence.
    """

    network_class = TaggerNetwork
    pipeline_class = SupervisedPipeline
    trainer_defaults: ClassVar[dict[str, Any]] = {"max_epochs": 10, "batch_size": 32, "lr": 2e-3}

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
        random_state: int = 0,
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
        self.random_state = random_state

    @property
    def classes_(self) -> np.ndarray:
        """The tag set (C,)."""
        self._check_fitted()
        return self.pipeline_.labels.classes_

    # --- fit ----------------------------------------------------------------------------------
    def _check_params(self) -> None:
        problems = []
        if not (isinstance(self.unk_replace, (int, float)) and not isinstance(self.unk_replace, bool) and 0 <= self.unk_replace <= 1):
            problems.append(f"unk_replace must be in [0, 1], got {self.unk_replace!r}")
        for name in ("use_char_features", "lowercase"):
            if not isinstance(getattr(self, name), bool):
                problems.append(f"{name} must be True or False, got {getattr(self, name)!r}")
        if problems:
            raise ConfigError("LSTMTagger: " + "; ".join(problems))

    def fit(self, X: Any, y: Any, *, resume: bool = False) -> "LSTMTagger":
        """Fit on sequences ``X`` (token lists or numeric arrays) and per-step tags ``y``.

        ``resume``: continue an interrupted fit from ``trainer.run_dir``."""
        return self._fit(X, y, resume=resume)

    def _prepare(self, X: Any, y: Any) -> Prepared:
        chars = None
        if _is_token_input(X):
            inputs: TokenPipeline | SequencePipeline = TokenPipeline(self.min_freq, self.lowercase, self.use_char_features,
                                                                     self.max_word_length)
            ids, chars = inputs.fit_transform(X, unk_replace=self.unk_replace, seed=self._check_seed())
        else:
            inputs = SequencePipeline("standard")
            ids = inputs.fit_transform(X)
        tags = self._check_tags([len(a) for a in ids], y)
        labels = LabelEncoder()
        flat = labels.fit_transform([t for s in tags for t in s], name="y (tags)")
        codes = np.split(flat, np.cumsum([len(s) for s in tags])[:-1])
        tokens = isinstance(inputs, TokenPipeline)
        config = TaggerNetworkConfig(
            num_tags=len(labels.classes_), vocab_size=len(inputs.vocab_) if tokens else 0,
            input_size=0 if tokens else inputs.n_features_in_, embedding_dim=self.embedding_dim,
            char_vocab_size=len(inputs.chars_) if tokens and inputs.chars_ is not None else 0,
            char_dim=self.char_dim, char_filters=self.char_filters, hidden_size=self.hidden_size,
            num_layers=self.num_layers, bidirectional=self.bidirectional, dropout=self.dropout, use_crf=self.use_crf,
        )
        train = TokenDataset(ids, chars, codes) if tokens else SequenceDataset(ids, codes)
        return Prepared(SupervisedPipeline(inputs, labels), config, train)

    def _check_tags(self, lengths: list[int], y: Any, name: str = "y") -> list[list[Any]]:
        if isinstance(y, (str, bytes)) or not hasattr(y, "__len__"):
            raise DataError(f"{name} must be a list of tag sequences, got {type(y).__name__}")
        y = [list(t) for t in y]
        if len(y) != len(lengths):
            raise ShapeError(f"{name} has {len(y)} tag sequences, X has {len(lengths)} sequences")
        for i, (n, t) in enumerate(zip(lengths, y)):
            if len(t) != n:
                raise ShapeError(f"{name}[{i}] has {len(t)} tags for {n} steps; give exactly one tag per step")
        return y

    def _baselines(self, prepared: Prepared) -> Any:
        """The most frequent tag overall and, for token input, each token's most frequent training tag."""
        train = prepared.train
        tags = train.tags if isinstance(train, TokenDataset) else train.targets  # per sequence (T_i,)
        flat = np.concatenate(tags)
        n_tags = int(flat.max()) + 1
        majority = int(np.bincount(flat).argmax())
        per_token = None
        if isinstance(train, TokenDataset):
            ids = np.concatenate(train.ids)
            counts = np.zeros((int(ids.max()) + 1, n_tags), dtype=np.int64)
            np.add.at(counts, (ids, flat), 1)
            per_token = np.where(counts.sum(1) > 0, counts.argmax(1), majority)  # unseen ids: the majority tag

        def run(batch: dict[str, torch.Tensor]) -> list[tuple[str, dict[str, float]]]:
            y = batch["y"]  # (B, T), -100 past each end
            mask = y != -100
            rows = [("most frequent tag (of the training tags)",
                     {"token_accuracy": float(((y == majority) & mask).sum() / mask.sum())})]
            if per_token is not None:
                x = batch["x"].numpy()
                guess = torch.from_numpy(per_token[np.clip(x, 0, len(per_token) - 1)])
                guess[torch.from_numpy(x >= len(per_token))] = majority
                rows.append(("each token's most frequent training tag",
                             {"token_accuracy": float(((guess == y) & mask).sum() / mask.sum())}))
            return rows

        return run

    # --- predict ------------------------------------------------------------------------------
    @torch.no_grad()
    def predict(self, X: Any) -> list[list[Any]]:
        """Tags per step: a list with one list of tags per input sequence."""
        self._check_fitted()
        inputs, net = self.pipeline_.inputs, self.networks_[0]
        if isinstance(inputs, TokenPipeline):
            ids, chars = inputs.transform(X)
            items = list(zip(ids, chars if chars is not None else [None] * len(ids)))
            collate = lambda b: TokenDataset.collate([(a, c, None) for a, c in b])  # noqa: E731
        else:
            if _is_token_input(X):
                raise DataError("X holds token sequences, but this tagger was fitted on numeric feature sequences")
            items = [(a, None) for a in inputs.transform(X)]
            collate = lambda b: dict(zip(("x", "lengths"), pad_sequences([a for a, _ in b])))  # noqa: E731
        paths = self._batched(items, lambda b: net.decode(collate(b)), length=lambda it: len(it[0]))
        labels = self.pipeline_.labels
        return [labels.inverse_transform(p).tolist() for p in paths]

    def evaluate(self, X: Any, y: Any) -> dict[str, float]:
        """``token_accuracy`` (+ entity ``precision``/``recall``/``f1`` when the tags are BIO)."""
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


@migration(1, "LSTMTagger")
def _from_v1(meta: dict, tensors: dict) -> tuple[dict, dict]:
    """0.1.0: the seed in the trainer, loose vocab/chars/scaler state, tensors without a prefix."""
    params, state = dict(meta["config"]["params"]), meta["state"]
    trainer = params.get("trainer")  # 0.1.0 loaded a saved trainer dict as a TrainerConfig
    params["trainer"] = None if trainer is None else {"__class__": "TrainerConfig", **trainer}
    params["random_state"] = (trainer or {}).get("seed") or 0
    if state["input_kind"] == "tokens":
        chars = state.get("chars")
        inputs = {"min_freq": params["min_freq"], "max_word_length": params["max_word_length"], "vocab": state["vocab"],
                  "chars": None if chars is None else {"itos": chars, "lowercase": False}}
        kind = "tokens"
    else:
        sc = state["scaler"]
        inputs = {"scaler": "standard", "downsample": 1, "patch_size": 1, "id_col": "id", "time_col": "time",
                  "n_features_in": state["n_features_in"],
                  "fitted_scaler": {"kind": "standard", "center": sc["mean"], "scale": sc["std"]}}
        kind = "sequence"
    pipeline = {"input_kind": kind, "inputs": inputs, "labels": state["classes"]}
    config = {"params": params, "network": meta["config"]["model"]}
    return ({**meta, "config": config, "state": {"pipeline": pipeline, "history": state.get("history", []), "n_networks": 1}},
            {f"networks.0.{k}": t for k, t in tensors.items()})
