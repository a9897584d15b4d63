"""``LSTMCaptioner``: describe images or short videos in words, with attention (network:
:class:`~lstmkit.models.captioner.CaptionerNetwork`)::

    model = LSTMCaptioner().fit(images, captions)   # (N, H, W, C) uint8; a str or list of str each
    model.predict(images)                            # -> ["a large red circle left of a small blue square"]
    caps = model.describe(images[:1])                # words + attention (T_out + 1, h, w) per image
    model.evaluate(images, captions)                 # BLEU-4, chrF (sacrebleu), token accuracy

Clips (N, T, H, W, C) train a video captioner (temporal attention over frames); the kind is
taken from the training data. Inputs of another size than the training ones are resized to it;
another channel count is a ShapeError (:mod:`lstmkit.data.captions`).
"""

from __future__ import annotations

import dataclasses
import numbers
from typing import Any, ClassVar

import numpy as np
import torch

from lstmkit.data.captions import CaptionDataset, CaptionPipeline, check_captions, check_visuals
from lstmkit.data.seq2seq import BOS_ID, EOS_ID
from lstmkit.errors import ConfigError, suggest
from lstmkit.estimators.base import Estimator, Prepared
from lstmkit.models.captioner import CaptionerNetwork, CaptionerNetworkConfig
from lstmkit.models.decoder import DECODER_ATTENTION, check_decoding
from lstmkit.models.text_scores import bleu, chrf
from lstmkit.persist import register

__all__ = ["LSTMCaptioner", "Caption"]


@dataclasses.dataclass
class Caption:
    """One described input: ``text``, ``tokens`` and ``attention``: (T_out + 1, h, w) over the
    image's regions, or (T_out + 1, T) over a clip's frames (the last row produced ``<eos>``; T_out
    rows when ``max_tokens`` cut the caption first); None without attention."""

    text: str
    tokens: list[str]
    attention: np.ndarray | None


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


@register
class LSTMCaptioner(Estimator):
    """Image or video captioner with attention (see the module docstring).

    Args:
        image_size: resize every image (and frame) to ``image_size`` x ``image_size`` pixels at fit
            and prediction (photos of several sizes; large photos make a long memory); None keeps
            the training images' own size (they must share one).
        conv_channels, conv_blocks: the CNN (channels of the first block, doubling; each block
            halves the image, so 64 px and 3 blocks attend over 8 x 8 regions).
        embedding_dim, hidden_size, num_layers, dropout: the decoder.
        attention: ``"additive"``, ``"dot"`` (needs ``hidden_size`` equal to the memory size),
            ``"general"`` or ``"none"`` (the mean-pooled encoder: the baseline).
        input_feeding: Luong's input feeding (slower).
        lowercase, min_freq: the caption vocabulary.
        num_beams, length_penalty, max_tokens: default decoding (``max_tokens`` None: the
            longest training caption + 10 words).
        val_size: share of the images (with all their captions) held out for early stopping.
            Each training epoch shows every other image once, with one of its references
            drawn per epoch (:class:`~lstmkit.data.captions.CaptionDataset`).
        trainer: :class:`~lstmkit.train.TrainerConfig` fields over ``trainer_defaults`` (Adam 2e-3,
            batch 32, at most 40 epochs, patience 5).
        random_state: seeds the split, the initialisation and the training order.

    Raises:
        ConfigError: a bad argument; DataError / ShapeError: bad images or captions.
    """

    network_class: ClassVar[type] = CaptionerNetwork
    pipeline_class: ClassVar[type] = CaptionPipeline
    trainer_defaults: ClassVar[dict[str, Any]] = {"max_epochs": 40, "batch_size": 32, "lr": 2e-3, "patience": 5}

    def __init__(
        self,
        image_size: int | None = None,
        conv_channels: int = 16,
        conv_blocks: int = 3,
        embedding_dim: int = 64,
        hidden_size: int = 256,
        num_layers: int = 1,
        dropout: float = 0.2,
        attention: str = "additive",
        input_feeding: bool = False,
        lowercase: bool = True,
        min_freq: int = 1,
        num_beams: int = 1,
        length_penalty: float = 1.0,
        max_tokens: int | None = None,
        val_size: float = 0.1,
        trainer: Any = None,
        random_state: int = 0,
    ) -> None:
        self.image_size = image_size
        self.conv_channels = conv_channels
        self.conv_blocks = conv_blocks
        self.embedding_dim = embedding_dim
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.attention = attention
        self.input_feeding = input_feeding
        self.lowercase = lowercase
        self.min_freq = min_freq
        self.num_beams = num_beams
        self.length_penalty = length_penalty
        self.max_tokens = max_tokens
        self.val_size = val_size
        self.trainer = trainer
        self.random_state = random_state

    def _check_params(self) -> None:
        p = []
        if self.attention not in DECODER_ATTENTION:
            p.append(f"attention must be one of {list(DECODER_ATTENTION)}, got {self.attention!r}"
                     f"{suggest(str(self.attention), DECODER_ATTENTION)}")
        for name in ("conv_channels", "conv_blocks", "embedding_dim", "hidden_size", "num_layers", "num_beams", "min_freq"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                p.append(f"{name} must be a positive int, got {v!r}")
        size = self.image_size
        if size is not None and (isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1):
            p.append(f"image_size must be None or a positive int (pixels), got {size!r}")
        if self.max_tokens is not None and (isinstance(self.max_tokens, bool) or not isinstance(self.max_tokens, int)
                                            or self.max_tokens < 1):
            p.append(f"max_tokens must be None or a positive int, got {self.max_tokens!r}")
        for name in ("lowercase", "input_feeding"):
            if not isinstance(getattr(self, name), bool):
                p.append(f"{name} must be True or False, got {getattr(self, name)!r}")
        if not _is_num(self.dropout) or not 0 <= self.dropout < 1:
            p.append(f"dropout must be in [0, 1), got {self.dropout!r}")
        if not _is_num(self.length_penalty) or self.length_penalty < 0:
            p.append(f"length_penalty must be a number >= 0, got {self.length_penalty!r}")
        if not _is_num(self.val_size) or not 0 <= self.val_size < 0.5:
            p.append(f"val_size must be a fraction in [0, 0.5), got {self.val_size!r}")
        if self.attention == "none" and self.input_feeding is True:
            p.append("input_feeding needs attention; with attention='none' set it False")
        if p:
            raise ConfigError(f"{type(self).__name__}: " + "; ".join(p))

    # --- fit --------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any, *, resume: bool = False) -> "LSTMCaptioner":
        """Learn from images (N, H, W, C) or clips (N, T, H, W, C) ``X`` and captions ``y`` (per
        input a str or a list of reference str). ``resume=True`` continues from ``trainer.run_dir``."""
        return self._fit(X, y, resume=resume)

    def _prepare(self, X: Any, y: Any) -> Prepared:
        size = None if self.image_size is None else (int(self.image_size), int(self.image_size))
        a = check_visuals(X, "X", size=size)
        refs = check_captions(y, a.shape[0])
        n = a.shape[0]
        n_val = int(round(self.val_size * n)) if n >= 10 else 0
        order = np.random.default_rng(self._check_seed()).permutation(n)
        val_idx, train_idx = np.sort(order[:n_val]), np.sort(order[n_val:])
        pipe = CaptionPipeline(self.lowercase, self.min_freq).fit(a[train_idx], [refs[i] for i in train_idx])
        *_, H, W, C = pipe.shape_
        if min(H, W) < 2 ** self.conv_blocks:
            raise ConfigError(f"conv_blocks={self.conv_blocks} halves the image {self.conv_blocks} times; "
                              f"images of {H} x {W} px need conv_blocks <= {int(np.log2(min(H, W)))}")
        images = torch.from_numpy(a).movedim(-1, -3).contiguous()  # (N, [T,] C, H, W) uint8
        config = CaptionerNetworkConfig(
            vocab_size=len(pipe.vocab_), in_channels=C, image_height=H, image_width=W, video=pipe.video_,
            conv_channels=self.conv_channels, conv_blocks=self.conv_blocks, embedding_dim=self.embedding_dim,
            hidden_size=self.hidden_size, num_layers=self.num_layers, attention=self.attention,
            input_feeding=self.input_feeding, dropout=self.dropout)

        ids = [[pipe.encode(c) for c in r] for r in refs]
        train = CaptionDataset(images, ids, train_idx, one_per_epoch=True, seed=self._check_seed())
        val = CaptionDataset(images, ids, val_idx, one_per_epoch=False) if n_val else None
        return Prepared(pipe, config, train, val)

    # --- describe ---------------------------------------------------------------------------
    def _options(self, num_beams: int | None, length_penalty: float | None, max_tokens: int | None) -> tuple[int, float, int]:
        beam, lp, limit = check_decoding(self.num_beams if num_beams is None else num_beams,
                                         self.length_penalty if length_penalty is None else length_penalty,
                                         self.max_tokens if max_tokens is None else max_tokens)
        return beam, lp, (self.pipeline_.max_caption_length_ + 10 if limit is None else limit)

    @torch.no_grad()
    def _decode(self, X: Any, num_beams: int | None, length_penalty: float | None,
                max_tokens: int | None) -> tuple[torch.Tensor, list[list[int]]]:
        self._check_fitted()
        beam, lp, limit = self._options(num_beams, length_penalty, max_tokens)
        x = self.pipeline_.transform(X)
        net = self.networks_[0]
        ids: list[list[int]] = []
        for start in range(0, x.shape[0], 128):
            ids += net.decode(x[start:start + 128], bos_id=BOS_ID, eos_id=EOS_ID, max_len=limit, beam_size=beam,
                              length_penalty=lp)
        return x, ids

    def predict(self, X: Any, *, num_beams: int | None = None, length_penalty: float | None = None,
                max_tokens: int | None = None) -> list[str]:
        """A caption per image or clip of ``X`` (decoding options default to the estimator's)."""
        _, ids = self._decode(X, num_beams, length_penalty, max_tokens)
        return [self.pipeline_.decode(i) for i in ids]

    @torch.no_grad()
    def describe(self, X: Any, *, num_beams: int | None = None, length_penalty: float | None = None,
                 max_tokens: int | None = None) -> list[Caption]:
        """Like :meth:`predict`, with the words and the attention of each word (:class:`Caption`)."""
        x, ids = self._decode(X, num_beams, length_penalty, max_tokens)
        limit = self._options(num_beams, length_penalty, max_tokens)[2]
        net, pipe = self.networks_[0], self.pipeline_
        out = []
        for k, tgt in enumerate(ids):
            weights = None
            if net.decoder.attention is not None:
                w = net(x[k:k + 1], torch.tensor([[BOS_ID, *tgt]]))[1][0].numpy()  # (T_out + 1, S)
                if len(tgt) >= limit:  # cut at max_tokens: no step produced <eos>
                    w = w[: len(tgt)]
                weights = w if net.config.video else w.reshape(len(w), *net.config.grid)
            out.append(Caption(pipe.decode(tgt), pipe.tokens(tgt), weights))
        return out

    @torch.no_grad()
    def token_accuracy(self, X: Any, y: Any) -> float:
        """Teacher-forced next-word accuracy on the first reference caption of each input."""
        x = (self._check_fitted(), self.pipeline_.transform(X))[1]
        refs = check_captions(y, x.shape[0])
        net, correct, total = self.networks_[0], 0.0, 0.0
        for start in range(0, x.shape[0], 128):
            ys = [self.pipeline_.encode(r[0]) for r in refs[start:start + 128]]
            batch = CaptionDataset.collate([(torch.zeros(1), t) for t in ys])
            m = net.metrics({"images": x[start:start + 128], "y": batch["y"]})
            n = float((batch["y"][:, 1:] != 0).sum())
            correct, total = correct + m["token_accuracy"] * n, total + n
        return correct / total

    def evaluate(self, X: Any, y: Any, **decode: Any) -> dict[str, float]:
        """``bleu`` (BLEU-4 against all references of each input, sacrebleu, 0-100), ``chrf`` and
        ``token_accuracy`` (teacher-forced, first reference). With ``lowercase`` (the default) the
        references are lowercased too, so case is not scored. ``decode``: options of :meth:`predict`."""
        hyps = self.predict(X, **decode)
        refs = self._references(y, len(hyps))
        return {"bleu": bleu(hyps, refs), "chrf": chrf(hyps, refs), "token_accuracy": self.token_accuracy(X, refs)}

    def _references(self, y: Any, n: int) -> list[list[str]]:
        """The references, lowercased when the model writes lowercase (so case is not scored)."""
        refs = check_captions(y, n)
        return [[r.lower() for r in rs] for rs in refs] if self.pipeline_.lowercase else refs

    def score(self, X: Any, y: Any) -> float:
        """BLEU-4 (0-100) of the captions against ``y``."""
        hyps = self.predict(X)
        return bleu(hyps, self._references(y, len(hyps)))
