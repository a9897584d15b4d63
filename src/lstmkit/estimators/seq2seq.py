"""``LSTMSeq2Seq``: BiLSTM encoder + attention LSTM decoder for text-to-text tasks (translation,
normalisation), scikit-learn style (network: :class:`~lstmkit.models.seq2seq.Seq2SeqNetwork`)::

    model = LSTMSeq2Seq(level="char").fit(sources, targets)       # lists of str
    model.predict(["miércoles, 3 de abril de 2002"])               # -> ["2002-04-03"]
    model.translate(["..."], num_beams=5)[0].attention             # (T_out, S) weights
    model.evaluate(sources, targets)   # exact match, BLEU, chrF (sacrebleu), token accuracy

Decoding: greedy by default (``num_beams=1``); beam search with length normalisation
(score = log-probability / length ** ``length_penalty``) with ``num_beams`` > 1. Each source
may produce at most ``max_tokens`` tokens; ``None`` allows ``max(longest training target,
2 x the source's length) + 10``, so a source longer than any seen in training still gets room.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from typing import Any, ClassVar

import numpy as np
import torch

from lstmkit.data.seq2seq import BOS_ID, EOS_ID, SEQ2SEQ_LEVELS, Seq2SeqDataset, Seq2SeqPipeline, check_texts
from lstmkit.errors import ConfigError, DataError, ShapeError, suggest
from lstmkit.estimators.base import Estimator, Prepared
from lstmkit.models.decoder import DECODER_ATTENTION, check_decoding
from lstmkit.models.seq2seq import Seq2SeqNetwork, Seq2SeqNetworkConfig
from lstmkit.models.text_scores import bleu, check_references, chrf, exact_match
from lstmkit.persist import register

__all__ = ["LSTMSeq2Seq", "Translation"]


@dataclasses.dataclass
class Translation:
    """One decoded source: ``text``, its ``tokens``, the ``source_tokens`` the encoder read
    (``<unk>`` for unknown ones, ``<eos>`` last) and ``attention`` (T_out + 1, S) (the last row is
    the step that produced ``<eos>``; T_out rows when ``max_tokens`` cut the output first; None for
    a model without attention)."""

    text: str
    tokens: list[str]
    source_tokens: list[str]
    attention: np.ndarray | None


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


@register
class LSTMSeq2Seq(Estimator):
    """Encoder-decoder with attention for text -> text (see the module docstring).

    Args:
        level: ``"char"`` or ``"word"`` tokens (:class:`~lstmkit.data.seq2seq.Seq2SeqPipeline`).
        lowercase, min_freq, max_vocab, share_vocab: the vocabularies (tokens outside them are
            ``<unk>``; ``share_vocab`` also shares the embedding matrix).
        embedding_dim, hidden_size, num_layers, dropout: the network (``hidden_size`` per encoder
            direction and for the decoder).
        attention: ``"additive"`` (Bahdanau), ``"dot"``, ``"general"`` (Luong), ``"none"`` (the
            decoder sees only the bridged final encoder state).
        input_feeding, coverage, scheduled_sampling: decoder options (see
            :class:`~lstmkit.models.decoder.LSTMDecoder`).
        num_beams, length_penalty, max_tokens: default decoding (module docstring).
        val_size: share of the training pairs held out (seeded) for early stopping; 0 for none.
        trainer: :class:`~lstmkit.train.TrainerConfig` fields over ``trainer_defaults`` (Adam 2e-3,
            batch 64, at most 30 epochs, patience 4 on the validation loss).
        random_state: seeds the split, the initialisation and the training order.

    Raises:
        ConfigError: a bad argument (``fit`` reports all at once); DataError / ShapeError: bad
        input, naming the item.
    """

    network_class: ClassVar[type] = Seq2SeqNetwork
    pipeline_class: ClassVar[type] = Seq2SeqPipeline
    trainer_defaults: ClassVar[dict[str, Any]] = {"max_epochs": 30, "batch_size": 64, "lr": 2e-3, "patience": 4}

    def __init__(
        self,
        level: str = "char",
        lowercase: bool = False,
        min_freq: int = 1,
        max_vocab: int | None = None,
        share_vocab: bool = False,
        embedding_dim: int = 64,
        hidden_size: int = 128,
        num_layers: int = 1,
        dropout: float = 0.2,
        attention: str = "additive",
        input_feeding: bool = False,
        coverage: bool = False,
        scheduled_sampling: float = 0.0,
        num_beams: int = 1,
        length_penalty: float = 1.0,
        max_tokens: int | None = None,
        val_size: float = 0.1,
        trainer: Any = None,
        random_state: int = 0,
    ) -> None:
        self.level = level
        self.lowercase = lowercase
        self.min_freq = min_freq
        self.max_vocab = max_vocab
        self.share_vocab = share_vocab
        self.embedding_dim = embedding_dim
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.attention = attention
        self.input_feeding = input_feeding
        self.coverage = coverage
        self.scheduled_sampling = scheduled_sampling
        self.num_beams = num_beams
        self.length_penalty = length_penalty
        self.max_tokens = max_tokens
        self.val_size = val_size
        self.trainer = trainer
        self.random_state = random_state

    # --- fit --------------------------------------------------------------------------------
    def _check_params(self) -> None:
        p = []
        if self.level not in SEQ2SEQ_LEVELS:
            p.append(f"level must be one of {list(SEQ2SEQ_LEVELS)}, got {self.level!r}{suggest(str(self.level), SEQ2SEQ_LEVELS)}")
        if self.attention not in DECODER_ATTENTION:
            p.append(f"attention must be one of {list(DECODER_ATTENTION)}, got {self.attention!r}"
                     f"{suggest(str(self.attention), DECODER_ATTENTION)}")
        for name in ("lowercase", "share_vocab", "input_feeding", "coverage"):
            if not isinstance(getattr(self, name), bool):
                p.append(f"{name} must be True or False, got {getattr(self, name)!r}")
        for name in ("embedding_dim", "hidden_size", "num_layers", "num_beams", "min_freq"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                p.append(f"{name} must be a positive int, got {v!r}")
        for name in ("max_tokens", "max_vocab"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                p.append(f"{name} must be None or a positive int, got {v!r}")
        for name in ("dropout", "scheduled_sampling"):
            v = getattr(self, name)
            if not _is_num(v) or not 0 <= v < 1:
                p.append(f"{name} must be in [0, 1), got {v!r}")
        if not _is_num(self.length_penalty) or self.length_penalty < 0:
            p.append(f"length_penalty must be a number >= 0, got {self.length_penalty!r}")
        if not _is_num(self.val_size) or not 0 <= self.val_size < 0.5:
            p.append(f"val_size must be a fraction in [0, 0.5), got {self.val_size!r}")
        if self.attention == "none" and (self.input_feeding is True or self.coverage is True):
            p.append("input_feeding and coverage need attention; with attention='none' set both False")
        if self.coverage is True and self.attention in ("dot", "general"):
            p.append(f"coverage needs attention='additive', got {self.attention!r}")
        if p:
            raise ConfigError(f"{type(self).__name__}: " + "; ".join(p))

    def fit(self, X: Any, y: Any, *, resume: bool = False) -> "LSTMSeq2Seq":
        """Learn vocabularies and the network from source texts ``X`` and target texts ``y``
        (lists of str, one target per source). ``resume=True`` continues from ``trainer.run_dir``."""
        return self._fit(X, y, resume=resume)

    def _prepare(self, X: Any, y: Any) -> Prepared:
        src, tgt = check_texts(X, "X"), check_texts(y, "y")
        if len(src) != len(tgt):
            raise ShapeError(f"X has {len(src)} texts and y has {len(tgt)}; give one target per source")
        n_val = int(round(self.val_size * len(src))) if len(src) >= 10 else 0
        order = np.random.default_rng(self._check_seed()).permutation(len(src))
        val_idx, train_idx = np.sort(order[:n_val]), np.sort(order[n_val:])
        pipe = Seq2SeqPipeline(self.level, self.lowercase, self.min_freq, self.max_vocab, self.share_vocab)
        pipe.fit([src[i] for i in train_idx], [tgt[i] for i in train_idx])
        sources, targets = pipe.encode_sources(src), pipe.encode_targets(tgt)
        config = Seq2SeqNetworkConfig(
            source_vocab_size=len(pipe.source_vocab_), target_vocab_size=len(pipe.target_vocab_),
            embedding_dim=self.embedding_dim, hidden_size=self.hidden_size, num_layers=self.num_layers,
            attention=self.attention, input_feeding=self.input_feeding, coverage=self.coverage, dropout=self.dropout,
            scheduled_sampling=self.scheduled_sampling, share_embeddings=self.share_vocab)
        train = Seq2SeqDataset([sources[i] for i in train_idx], [targets[i] for i in train_idx])
        val = Seq2SeqDataset([sources[i] for i in val_idx], [targets[i] for i in val_idx]) if n_val else None
        return Prepared(pipe, config, train, val)

    # --- decoding ---------------------------------------------------------------------------
    def _limits(self, sources: list[np.ndarray], max_tokens: int | None) -> list[int]:
        if max_tokens is not None:
            return [max_tokens] * len(sources)
        longest = self.pipeline_.max_target_length_
        return [max(longest, 2 * (len(s) - 1)) + 10 for s in sources]

    def _decode_options(self, num_beams: int | None, length_penalty: float | None,
                        max_tokens: int | None) -> tuple[int, float, int | None]:
        return check_decoding(self.num_beams if num_beams is None else num_beams,
                              self.length_penalty if length_penalty is None else length_penalty,
                              self.max_tokens if max_tokens is None else max_tokens)

    @torch.no_grad()
    def _decode_ids(self, X: Any, num_beams: int | None, length_penalty: float | None,
                    max_tokens: int | None) -> tuple[list[str], list[np.ndarray], list[list[int]]]:
        self._check_fitted()
        beam, lp, limit = self._decode_options(num_beams, length_penalty, max_tokens)
        texts = check_texts(X, "X")
        sources = self.pipeline_.encode_sources(texts)
        net = self.networks_[0]

        def run(items: list[tuple[np.ndarray, int]]) -> list[list[int]]:
            batch = Seq2SeqDataset.collate([(s, None) for s, _ in items])
            return net.decode(batch["x"], batch["x_lengths"], bos_id=BOS_ID, eos_id=EOS_ID,
                              max_len=torch.tensor([n for _, n in items]), beam_size=beam, length_penalty=lp)

        items = list(zip(sources, self._limits(sources, limit)))
        ids = self._batched(items, run, length=lambda it: len(it[0]))
        return texts, sources, ids

    def predict(self, X: Any, *, num_beams: int | None = None, length_penalty: float | None = None,
                max_tokens: int | None = None) -> list[str]:
        """The output text of each source text in ``X`` (a list of str); decoding options
        default to the estimator's. Unknown source tokens are read as ``<unk>``; an empty
        source is read as ``<eos>`` alone."""
        _, _, ids = self._decode_ids(X, num_beams, length_penalty, max_tokens)
        return [self.pipeline_.decode_target(i) for i in ids]

    @torch.no_grad()
    def translate(self, X: Any, *, num_beams: int | None = None, length_penalty: float | None = None,
                  max_tokens: int | None = None) -> list[Translation]:
        """Like :meth:`predict`, with tokens and attention weights per source (:class:`Translation`)."""
        texts, sources, ids = self._decode_ids(X, num_beams, length_penalty, max_tokens)
        limits = self._limits(sources, self._decode_options(num_beams, length_penalty, max_tokens)[2])
        net, pipe = self.networks_[0], self.pipeline_
        out = []
        for text, src, tgt, limit in zip(texts, sources, ids, limits):
            weights = None
            if net.decoder.attention is not None:
                x = torch.from_numpy(np.asarray(src, dtype=np.int64))[None]
                y_in = torch.tensor([[BOS_ID, *tgt]])
                weights = net.attention_weights(x, torch.tensor([len(src)]), y_in)[0].numpy()  # (T_out + 1, S)
                if len(tgt) >= limit:  # cut at max_tokens: no step produced <eos>
                    weights = weights[: len(tgt)]
            out.append(Translation(pipe.decode_target(tgt), pipe.target_tokens(tgt), pipe.source_tokens(text), weights))
        return out

    # --- scoring ----------------------------------------------------------------------------
    @torch.no_grad()
    def token_accuracy(self, X: Any, y: Any) -> float:
        """Teacher-forced next-token accuracy on the references (each target token predicted from
        the source and the reference tokens before it)."""
        self._check_fitted()
        src, tgt = self.pipeline_.encode_sources(X), self.pipeline_.encode_targets(y)
        if len(src) != len(tgt):
            raise ShapeError(f"X has {len(src)} texts and y has {len(tgt)}")
        net, correct, total = self.networks_[0], 0.0, 0.0
        for start in range(0, len(src), 256):
            batch = Seq2SeqDataset.collate(list(zip(src[start:start + 256], tgt[start:start + 256])))
            m = net.metrics(batch)
            n = float((batch["y"][:, 1:] != 0).sum())
            correct, total = correct + m["token_accuracy"] * n, total + n
        return correct / total

    def _references(self, y: Any, n: int) -> list[list[str]]:
        """References as lists of str, NFC-normalised, lowercased when the model writes lowercase."""
        if isinstance(y, str) or not hasattr(y, "__len__"):
            raise DataError(f"y must be a list with one reference (str) or list of references per source, "
                            f"got {type(y).__name__}")
        if len(y) != n:
            raise ShapeError(f"X has {n} texts and y has {len(y)} references")
        refs = check_references([""] * n, list(y))
        fold = str.lower if self.pipeline_.lowercase else (lambda t: t)
        return [[fold(unicodedata.normalize("NFC", r)) for r in rs] for rs in refs]

    def evaluate(self, X: Any, y: Any, **decode: Any) -> dict[str, float]:
        """``exact_match`` (0-1), ``bleu`` and ``chrf`` (0-100, sacrebleu) of the decoded outputs
        against ``y`` (a str per source, or a list of reference strs), and ``token_accuracy``
        (teacher-forced, first reference). A model with ``lowercase=True`` is scored against
        lowercased references. ``decode``: options of :meth:`predict`."""
        texts = check_texts(X, "X")
        refs = self._references(y, len(texts))
        hyps = self.predict(texts, **decode)
        return {"exact_match": exact_match(hyps, refs), "bleu": bleu(hyps, refs), "chrf": chrf(hyps, refs),
                "token_accuracy": self.token_accuracy(texts, [r[0] for r in refs])}

    def score(self, X: Any, y: Any) -> float:
        """Corpus BLEU (0-100) of the decoded outputs against ``y``."""
        texts = check_texts(X, "X")
        return bleu(self.predict(texts), self._references(y, len(texts)))
