"""Images or clips with captions, for captioning models: validation, a frozen caption
vocabulary, and batches.

Images are (N, H, W, C) arrays (uint8 0-255, or floats in [0, 1]); clips are (N, T, H, W, C).
A (N, H, W) array is N grey images (C = 1). :class:`CaptionPipeline` remembers the training
images' H, W, C (and T for clips); at prediction time other sizes are resized to the training
size (bilinear, antialiased), while a different channel count or kind (image vs clip) is an
error. Captions are word-level (:func:`lstmkit.data.seq2seq.tokenize`), lowercased by default;
each image may have one caption (a str) or several references (a list of str).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lstmkit.data.seq2seq import BOS_ID, EOS_ID, build_vocabulary, detokenize, tokenize
from lstmkit.data.vocab import Vocabulary
from lstmkit.errors import DataError, ShapeError

__all__ = ["CaptionPipeline", "CaptionDataset", "check_visuals", "check_captions"]


def _resize_uint8(a: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(..., H, W, C) uint8 -> (..., h, w, C) uint8 (bilinear, antialiased)."""
    x = torch.from_numpy(np.ascontiguousarray(a)).float().movedim(-1, -3)
    lead = x.shape[:-3]
    x = torch.nn.functional.interpolate(x.reshape(-1, *x.shape[-3:]), size=size, mode="bilinear", antialias=True,
                                        align_corners=False)
    return x.reshape(*lead, *x.shape[-3:]).movedim(-3, -1).round().clamp(0, 255).to(torch.uint8).numpy()


def check_visuals(X: Any, name: str = "X", video: bool | None = None, size: tuple[int, int] | None = None) -> np.ndarray:
    """X as (N, H, W, C) images or (N, T, H, W, C) clips, uint8 (``video`` None: decided by ndim).

    A (N, H, W) array is N grey images; a 3-D array whose last axis is 4 or less looks like ONE
    image (H, W, C) and is refused (give ``X[None]``). A list of arrays of different sizes is
    resized item by item to ``size`` (H, W) when given (prediction), else refused (training
    images share one size, or are resized with ``image_size``).

    Raises:
        DataError: not numeric, empty, non-finite, or values outside 0-255 / [0, 1];
        ShapeError: a shape that is neither, a zero-size image, one image without the batch axis.
    """
    if isinstance(X, (list, tuple)) and X and all(hasattr(x, "shape") or isinstance(x, (list, tuple)) for x in X):
        items = [np.asarray(x) for x in X]
        shapes = {i.shape for i in items}
        if len(shapes) > 1:
            first = items[0].shape
            if size is None:
                k = next(k for k, i in enumerate(items) if i.shape != first)
                raise ShapeError(f"{name}[{k}] has shape {items[k].shape} but {name}[0] has {first}; training images "
                                 "must share one size (or set image_size to resize them)")
            items = [check_visuals(i[None], f"{name}[{k}]", video, size)[0] for k, i in enumerate(items)]
        X = np.stack(items)
    a = np.asarray(X)
    if a.dtype == object or np.iscomplexobj(a) or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise DataError(f"{name} must be a real numeric array of images (N, H, W, C) or clips (N, T, H, W, C), "
                        f"got dtype {a.dtype}")
    if a.dtype == bool:
        a = a.astype(np.uint8) * 255
    if a.ndim == 3 and video is not True:
        if a.shape[-1] <= 4:
            raise ShapeError(f"{name} has shape {a.shape}: that looks like one image (H, W, C); give a batch "
                             f"(N, H, W, C), e.g. X[None] for a single image")
        a = a[..., None]  # (N, H, W) grey images
    want = {None: (4, 5), False: (4,), True: (5,)}[video]
    if a.ndim not in want:
        kinds = {4: "images (N, H, W, C)", 5: "clips (N, T, H, W, C)"}
        raise ShapeError(f"{name} must be {' or '.join(kinds[k] for k in want)}, got shape {a.shape}")
    if a.shape[0] == 0:
        raise DataError(f"{name} holds no images")
    if 0 in a.shape:
        raise ShapeError(f"{name} has shape {a.shape}: every image needs at least one pixel (and a clip one frame)")
    if a.shape[-1] > 4:
        raise ShapeError(f"{name} must be channels-last (..., H, W, C) with C <= 4, got shape {a.shape}")
    if np.issubdtype(a.dtype, np.floating):
        if not np.isfinite(a).all():
            raise DataError(f"{name} holds non-finite values")
        if a.min() < 0 or a.max() > 1:
            raise DataError(f"{name}: float images must be in [0, 1] (uint8 images in 0-255), got values in "
                            f"[{a.min():.3g}, {a.max():.3g}]")
        a = np.round(a * 255)
    elif a.min() < 0 or a.max() > 255:
        raise DataError(f"{name}: integer images must be in 0-255, got values in [{a.min()}, {a.max()}]")
    a = a.astype(np.uint8)
    if size is not None and tuple(a.shape[-3:-1]) != tuple(size):
        a = _resize_uint8(a, tuple(size))
    return a


def check_captions(y: Any, n: int, name: str = "y") -> list[list[str]]:
    """One entry per image: a str or a non-empty list of str -> a list of references each."""
    if isinstance(y, str) or not hasattr(y, "__len__"):
        raise DataError(f"{name} must be a list with one caption (str) or list of captions per image, "
                        f"got {type(y).__name__}")
    out = [[c] if isinstance(c, str) else list(c) if hasattr(c, "__iter__") and not isinstance(c, bytes) else c for c in y]
    if len(out) != n:
        raise ShapeError(f"{name} has {len(out)} entries for {n} images; give one caption or list of captions per image")
    for i, refs in enumerate(out):
        if not isinstance(refs, list) or not refs or not all(isinstance(c, str) for c in refs):
            raise DataError(f"{name}[{i}] must be a str or a non-empty list of str, got {refs!r}")
    return out


class CaptionPipeline:
    """Image geometry + caption vocabulary (see the module docstring); JSON round trip.

    Args:
        lowercase: fold caption case.
        min_freq: caption words seen fewer times are ``<unk>``.
    """

    def __init__(self, lowercase: bool = True, min_freq: int = 1) -> None:
        self.lowercase, self.min_freq = lowercase, min_freq
        self.vocab_: Vocabulary | None = None
        self.shape_: tuple[int, ...] = ()  # (H, W, C) or (T, H, W, C) of the training inputs
        self.video_ = False
        self.max_caption_length_ = 0

    def fit(self, X: np.ndarray, captions: list[list[str]]) -> "CaptionPipeline":
        self.video_ = X.ndim == 5
        self.shape_ = tuple(int(s) for s in X.shape[1:])
        toks = [tokenize(c, "word", self.lowercase) for refs in captions for c in refs]
        if not any(toks):
            raise DataError("y holds only empty captions; there is nothing to learn to say")
        self.vocab_ = build_vocabulary(toks, self.min_freq)
        self.max_caption_length_ = max(len(t) for t in toks)
        return self

    def encode(self, caption: str) -> np.ndarray:
        """``<bos>`` + word ids + ``<eos>`` (T + 2,)."""
        return np.concatenate([[BOS_ID], self.vocab_.encode(tokenize(caption, "word", self.lowercase)), [EOS_ID]]).astype(np.int64)

    def tokens(self, ids: list[int]) -> list[str]:
        return [self.vocab_.itos[i] for i in ids if i not in (0, BOS_ID, EOS_ID)]

    def decode(self, ids: list[int]) -> str:
        return detokenize(self.tokens(ids), "word")

    def transform(self, X: Any, name: str = "X") -> torch.Tensor:
        """Images/clips -> float tensor (N, [T,] C, H, W) in [0, 1] of the training geometry
        (other sizes resized, bilinear and antialiased).

        Raises:
            ShapeError: images for a clip model or the other way round, or another channel count.
        """
        *_, H, W, C = self.shape_
        a = check_visuals(X, name, video=self.video_, size=(H, W))
        if a.shape[-1] != C:
            raise ShapeError(f"{name} has shape {a.shape} with {a.shape[-1]} channel(s); the model was trained on "
                             f"{C}-channel {'clips' if self.video_ else 'images'} of shape {self.shape_}")
        x = torch.from_numpy(a).float().div_(255.0)
        return x.movedim(-1, -3).contiguous()  # (N, [T,] C, H, W)

    def to_dict(self) -> dict[str, Any]:
        return {"lowercase": self.lowercase, "min_freq": self.min_freq, "vocab": self.vocab_.to_json()["itos"],
                "shape": list(self.shape_), "video": self.video_, "max_caption_length": self.max_caption_length_}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "CaptionPipeline":
        p = cls(bool(d["lowercase"]), int(d["min_freq"]))
        p.vocab_ = Vocabulary(list(d["vocab"]))
        p.shape_, p.video_ = tuple(int(s) for s in d["shape"]), bool(d["video"])
        p.max_caption_length_ = int(d["max_caption_length"])
        return p


class CaptionDataset(torch.utils.data.Dataset):
    """Images with their reference captions over one uint8 tensor of images (no image copied).

    ``one_per_epoch=True`` (training): one item per image, whose caption is one of its
    references drawn per epoch (seeded by ``seed``, the epoch and the index; the trainer calls
    :meth:`set_epoch`), so an epoch encodes each image once. ``False`` (validation): one item
    per (image, reference) pair. ``collate`` -> ``{"images": (B, [T,] C, H, W) float in [0, 1],
    "y": (B, L) long}``.
    """

    def __init__(self, images: torch.Tensor, captions: list[list[np.ndarray]], index: Any = None, *,
                 one_per_epoch: bool = True, seed: int = 0) -> None:
        self.images, self.captions = images, captions  # images (N, [T,] C, H, W) uint8; ids per reference
        index = np.arange(len(captions)) if index is None else np.asarray(index)
        self.one_per_epoch, self.seed, self.epoch = one_per_epoch, seed, 0
        self.items = [(int(i), None) for i in index] if one_per_epoch else \
            [(int(i), k) for i in index for k in range(len(captions[i]))]

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, j: int) -> tuple[torch.Tensor, np.ndarray]:
        i, k = self.items[j]
        if k is None:
            k = int(np.random.default_rng((self.seed, self.epoch, i)).integers(len(self.captions[i])))
        return self.images[i], self.captions[i][k]

    @staticmethod
    def collate(items: list[tuple[torch.Tensor, np.ndarray]]) -> dict[str, torch.Tensor]:
        images = torch.stack([im for im, _ in items]).float().div_(255.0)
        y = torch.zeros(len(items), max(len(t) for _, t in items), dtype=torch.long)
        for b, (_, t) in enumerate(items):
            y[b, : len(t)] = torch.from_numpy(t)
        return {"images": images, "y": y}
