"""``LSTMTranscriber``: BiLSTM-CTC transcription of unsegmented handwriting (line images or pen
strokes) and speech (spectral frames), scikit-learn style (network:
:class:`~lstmkit.models.transcriber.TranscriberNetwork`)::

    model = LSTMTranscriber().fit(images, texts)     # a list of (H, W_i) images, a list of str
    model.predict(images)                             # greedy (best path) decoding
    model.predict(images, decoder="beam", lm_weight=0.5)   # prefix beam search + character LM
    model.evaluate(images, texts)                     # character and word error rates (jiwer)

Decoders (:mod:`lstmkit.models.ctc`): ``"greedy"`` (best path), ``"beam"`` (prefix beam search,
``num_beams`` prefixes) and the same with shallow fusion of a character n-gram language model
(``lm_weight`` > 0). The language model is estimated at fit time from the training transcripts,
or from ``lm_text`` (a larger text of the same domain) when given; order ``lm_order``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from lstmkit.data.transcription import TranscriptionDataset, TranscriptionPipeline, check_inputs, check_transcripts
from lstmkit.errors import ConfigError, DataError, MissingDependencyError, suggest
from lstmkit.estimators.base import Estimator, Prepared
from lstmkit.models.ctc import CharNGramLM, check_ctc_targets, ctc_greedy, ctc_min_frames, ctc_prefix_beam_search
from lstmkit.models.transcriber import TranscriberNetwork, TranscriberNetworkConfig
from lstmkit.persist import migration, register

__all__ = ["LSTMTranscriber", "DECODERS", "auto_conv_blocks", "auto_frame_stack"]

DECODERS = ("greedy", "beam")
INPUT_KINDS = ("auto", "image", "sequence")
FRAMES_PER_SYMBOL = 4  # frame_stack="auto" leaves about this many steps per symbol for the median input
CONV_ROWS = 8  # conv_blocks="auto" pools image lines down to about this many rows


def _every_input_fits(pairs: list[tuple[int, Any]], down: int) -> bool:
    """Whether every (frames or columns, target) pair keeps the frames CTC needs after ``down``."""
    return all(n // down >= ctc_min_frames(list(t)) for n, t in pairs)


def auto_frame_stack(lengths: Any, targets: Any) -> int:
    """The ``frame_stack="auto"`` rule: the k that leaves the median input nearest to
    ``FRAMES_PER_SYMBOL`` (4) steps per target symbol, that is k = round(median(T_i / L_i) / 4)
    (halves rounded up), at least 1, then lowered until every input still has the L_i + R_i steps
    CTC needs (R_i: repeated neighbours). ``fit`` passes every input it is given, the validation
    part included. Pen trajectories sampled at ~24 points per character get k = 6; speech at
    100 frames/s (~7.3 frames per character) gets k = 2, about 3.6 steps per character (on a
    validation draw of espeak-ng speech, k = 2 read as well as k = 1 at half the training time;
    ``benchmarks/RESULTS.md``).

    Args:
        lengths: frames T_i of each input.
        targets: label sequences (or strings) of each input; empty targets are ignored.
    """
    pairs = [(int(n), t) for n, t in zip(lengths, targets) if len(t)]
    if not pairs:
        return 1
    k = max(1, int(np.floor(np.median([n / len(t) for n, t in pairs]) / FRAMES_PER_SYMBOL + 0.5)))
    while k > 1 and not _every_input_fits(pairs, k):
        k -= 1
    return k


def auto_conv_blocks(widths: Any, targets: Any, height: int) -> int:
    """The ``conv_blocks="auto"`` rule for images: the number b of 2x2 pooling blocks that leaves the
    feature map nearest to ``CONV_ROWS`` (8) rows, b = round(log2(H / 8)), at least 1, then lowered
    (not below 1) until every image still has the L_i + R_i frames CTC needs (W_i / 2 ** b >=
    L_i + R_i; R_i: repeated neighbours). ``fit`` passes every image it is given, the validation
    part included. Lines 16 px high (the bundled digit strings) get 1 block, 32 px (the bundled
    text lines) 2, 64 px 3.

    How it was chosen (``benchmarks/RESULTS.md``): on digit strings, 1 block against the former
    fixed 2 erred less on a validation draw (2.4 % against 4.2 % CER) and on writers held out of
    the training forms (3.9 % against 5.1 %). A first rule by width per symbol gave text lines
    1 block as well, and their test CER rose (4.2-4.5 % to 6.4 % with the language model), so text
    lines keep 2: the rule keeps the feature rows, not the frames per symbol.

    Args:
        widths: width W_i (columns) of each image.
        targets: label sequences (or strings) of each image; empty targets are ignored.
        height: the images' height H in pixels.
    """
    b = max(1, int(np.floor(np.log2(max(1, height) / CONV_ROWS) + 0.5)))
    pairs = [(int(w), t) for w, t in zip(widths, targets) if len(t)]
    while b > 1 and not _every_input_fits(pairs, 2 ** b):
        b -= 1
    return b


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _jiwer() -> Any:
    try:
        import jiwer
    except ImportError:  # pragma: no cover - depends on the environment
        raise MissingDependencyError("character and word error rates need jiwer: pip install 'lstmkit[transcribe]'") from None
    return jiwer


@register
class LSTMTranscriber(Estimator):
    """BiLSTM-CTC transcriber (see the module docstring).

    Args:
        input_kind: ``"auto"`` (images of one height vs frames of one width; see
            :func:`~lstmkit.data.transcription.check_inputs`), ``"image"`` or ``"sequence"``.
        conv_channels, conv_blocks: the image front end (T = W / 2 ** conv_blocks frames);
            ``conv_blocks="auto"``: chosen from the training images by :func:`auto_conv_blocks`
            (about 8 feature rows left: 1 block for 16-px lines, 2 for 32 px).
        frame_stack: sequences: frames concatenated per step (T / k steps), or ``"auto"``: chosen
            from the training inputs by :func:`auto_frame_stack` (about 4 steps per symbol; at
            least the frames CTC needs for every input).
        hidden_size, num_layers, dropout: the BiLSTM.
        augment: images: each training image is re-written at every epoch by
            :func:`~lstmkit.data.transcription.augment_line` (slant, scale, shift, elastic
            distortion; seeded by ``random_state``, the epoch and the item); validation images
            and prediction never are. ``"auto"``: on for images, off for sequences (True for
            sequences is a ConfigError).
        decoder, num_beams, lm_weight, insertion_bonus: default decoding.
        lm_order: order of the character language model estimated at fit time.
        val_size: share of the training inputs held out (seeded) for early stopping.
        trainer: :class:`~lstmkit.train.TrainerConfig` fields over ``trainer_defaults`` (Adam 1e-3,
            batch 16, at most 40 epochs, patience 5, gradient norm clipped at 5).
        random_state: seeds the split, the initialisation and the training order.

    Raises:
        ConfigError: a bad argument; DataError / ShapeError: bad input, naming the item; a
        DataError before training for targets that cannot fit their input under CTC.
    """

    network_class: ClassVar[type] = TranscriberNetwork
    pipeline_class: ClassVar[type] = TranscriptionPipeline
    learned_attributes: ClassVar[tuple[str, ...]] = ("pipeline_", "networks_", "history_", "lm_")
    trainer_defaults: ClassVar[dict[str, Any]] = {"max_epochs": 40, "batch_size": 16, "lr": 1e-3, "patience": 5,
                                                  "grad_clip": 5.0}

    def __init__(
        self,
        input_kind: str = "auto",
        conv_channels: int = 16,
        conv_blocks: int | str = "auto",
        frame_stack: int | str = "auto",
        hidden_size: int = 128,
        num_layers: int = 2,
        dropout: float = 0.2,
        augment: bool | str = "auto",
        decoder: str = "greedy",
        num_beams: int = 8,
        lm_order: int = 5,
        lm_weight: float = 0.0,
        insertion_bonus: float = 0.0,
        val_size: float = 0.1,
        trainer: Any = None,
        random_state: int = 0,
    ) -> None:
        self.input_kind = input_kind
        self.conv_channels = conv_channels
        self.conv_blocks = conv_blocks
        self.frame_stack = frame_stack
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.augment = augment
        self.decoder = decoder
        self.num_beams = num_beams
        self.lm_order = lm_order
        self.lm_weight = lm_weight
        self.insertion_bonus = insertion_bonus
        self.val_size = val_size
        self.trainer = trainer
        self.random_state = random_state

    def _check_params(self) -> None:
        p = []
        if self.input_kind not in INPUT_KINDS:
            p.append(f"input_kind must be one of {list(INPUT_KINDS)}, got {self.input_kind!r}{suggest(str(self.input_kind), INPUT_KINDS)}")
        if self.decoder not in DECODERS:
            p.append(f"decoder must be one of {list(DECODERS)}, got {self.decoder!r}{suggest(str(self.decoder), DECODERS)}")
        for name in ("conv_channels", "conv_blocks", "frame_stack", "hidden_size", "num_layers", "num_beams"):
            v = getattr(self, name)
            if name in ("conv_blocks", "frame_stack") and v == "auto":
                continue
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                alternative = " or 'auto'" if name in ("conv_blocks", "frame_stack") else ""
                p.append(f"{name} must be a positive int{alternative}, got {v!r}")
        if isinstance(self.lm_order, bool) or not isinstance(self.lm_order, int) or not 2 <= self.lm_order <= 8:
            p.append(f"lm_order must be an int in 2..8, got {self.lm_order!r}")
        if self.augment != "auto" and not isinstance(self.augment, bool):
            p.append(f"augment must be True, False or 'auto', got {self.augment!r}")
        if not _is_num(self.dropout) or not 0 <= self.dropout < 1:
            p.append(f"dropout must be in [0, 1), got {self.dropout!r}")
        if not _is_num(self.lm_weight) or self.lm_weight < 0:
            p.append(f"lm_weight must be a number >= 0, got {self.lm_weight!r}")
        if not _is_num(self.insertion_bonus):
            p.append(f"insertion_bonus must be a number, got {self.insertion_bonus!r}")
        if not _is_num(self.val_size) or not 0 <= self.val_size < 0.5:
            p.append(f"val_size must be a fraction in [0, 0.5), got {self.val_size!r}")
        if p:
            raise ConfigError(f"{type(self).__name__}: " + "; ".join(p))

    # --- fit --------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any, *, lm_text: Any = None, resume: bool = False) -> "LSTMTranscriber":
        """Learn from inputs ``X`` (a list of (H, W_i) images or (T_i, F) frame arrays) and their
        transcripts ``y`` (a list of str). ``lm_text``: a str or list of str for the character
        language model (default: the training transcripts)."""
        return self._fit(X, y, lm_text, resume=resume)

    def _prepare(self, X: Any, y: Any, lm_text: Any = None) -> Prepared:
        inputs, kind = check_inputs(X, "X", self.input_kind)
        texts = check_transcripts(y, len(inputs))
        if self.augment is True and kind != "image":
            raise ConfigError(f"{type(self).__name__}: augment=True applies to images; frame sequences have no "
                              "augmentation (use False or 'auto')")
        n = len(inputs)
        n_val = int(round(self.val_size * n)) if n >= 10 else 0
        order = np.random.default_rng(self._check_seed()).permutation(n)
        val_idx, train_idx = np.sort(order[:n_val]), np.sort(order[n_val:])
        pipe = TranscriptionPipeline().fit([inputs[i] for i in train_idx], kind, [texts[i] for i in train_idx])
        if lm_text is not None and not isinstance(lm_text, str) and not all(isinstance(t, str) for t in lm_text):
            raise DataError("lm_text must be a str or a list of str")
        lm_source = [texts[i] for i in train_idx] if lm_text is None else \
            ([lm_text] if isinstance(lm_text, str) else list(lm_text))
        self.lm_ = CharNGramLM(self.lm_order).fit(lm_source)  # fitted with the pipeline; networks_ come after
        x = pipe.transform(inputs, kind)
        labels = [pipe.encode_text(t) for t in texts]
        stack, blocks = self.frame_stack, self.conv_blocks
        all_labels = [lab.tolist() for lab in labels]  # the rules see every input fit is given: each
        if stack == "auto":  # one, validation included, must keep the frames CTC needs
            stack = 1 if kind == "image" else auto_frame_stack([a.shape[0] for a in x], all_labels)
        if blocks == "auto":
            blocks = 2 if kind != "image" else auto_conv_blocks([a.shape[1] for a in x], all_labels, pipe.height_)
        config = TranscriberNetworkConfig(
            n_symbols=pipe.n_symbols, input_kind=kind, input_size=pipe.height_ if kind == "image" else len(pipe.mean_),
            conv_channels=self.conv_channels, conv_blocks=blocks, frame_stack=stack,
            hidden_size=self.hidden_size, num_layers=self.num_layers, dropout=self.dropout)
        down = config.downsample
        check_ctc_targets([max(1, (a.shape[1] if kind == "image" else a.shape[0]) // down) for a in x],
                          [lab.tolist() for lab in labels])
        augment = kind == "image" if self.augment == "auto" else bool(self.augment)
        train = TranscriptionDataset([x[i] for i in train_idx], kind, [labels[i] for i in train_idx],
                                     augment=augment, seed=self._check_seed(),
                                     min_widths=[ctc_min_frames(labels[i].tolist()) * down for i in train_idx])
        val = TranscriptionDataset([x[i] for i in val_idx], kind, [labels[i] for i in val_idx]) if n_val else None
        return Prepared(pipe, config, train, val)

    # --- decoding ---------------------------------------------------------------------------
    @torch.no_grad()
    def posteriors(self, X: Any) -> list[np.ndarray]:
        """Per-frame log-posteriors (T'_i, V) of each input (column 0: the blank; column k: the
        k-th symbol of ``pipeline_.symbols_``)."""
        self._check_fitted()
        inputs, kind = check_inputs(X, "X", self.pipeline_.kind_ if self.input_kind == "auto" else self.input_kind)
        x = self.pipeline_.transform(inputs, kind)
        net = self.networks_[0]
        items = [(a, kind, None) for a in x]

        def run(batch_items: list[tuple]) -> list[np.ndarray]:
            b = TranscriptionDataset.collate(batch_items)
            lp, lengths = net(b["x"], b["lengths"])
            return [lp[i, : int(n)].numpy() for i, n in enumerate(lengths)]

        length = (lambda it: it[0].shape[1]) if kind == "image" else (lambda it: it[0].shape[0])
        return self._batched(items, run, batch_size=64, length=length)

    def predict(self, X: Any, *, decoder: str | None = None, num_beams: int | None = None,
                lm_weight: float | None = None, insertion_bonus: float | None = None) -> list[str]:
        """The transcript of each input; decoding options default to the estimator's."""
        dec = self.decoder if decoder is None else decoder
        beams = self.num_beams if num_beams is None else num_beams
        weight = self.lm_weight if lm_weight is None else lm_weight
        bonus = self.insertion_bonus if insertion_bonus is None else insertion_bonus
        if dec not in DECODERS:
            raise ConfigError(f"decoder must be one of {list(DECODERS)}, got {dec!r}{suggest(str(dec), DECODERS)}")
        if not _is_num(weight) or weight < 0:
            raise ConfigError(f"lm_weight must be a number >= 0, got {weight!r}")
        if weight > 0 and dec == "greedy":
            raise ConfigError("lm_weight needs decoder='beam' (the language model scores the beam's prefixes)")
        out = []
        for lp in self.posteriors(X):
            if dec == "greedy":
                labels = ctc_greedy(lp)
            else:
                symbols = ["<blank>", *self.pipeline_.symbols_]
                labels = ctc_prefix_beam_search(lp, beams, lm=self.lm_ if weight > 0 else None, lm_weight=weight,
                                                insertion_bonus=bonus, symbols=symbols)[0][0]
            out.append(self.pipeline_.decode(labels))
        return out

    def evaluate(self, X: Any, y: Any, **decode: Any) -> dict[str, float]:
        """``cer`` and ``wer`` (corpus level: edits / reference length, through jiwer) and
        ``exact_match``; ``decode``: options of :meth:`predict`."""
        hyps = self.predict(X, **decode)
        refs = check_transcripts(y, len(hyps))
        if not any(refs):
            raise DataError("y holds only empty transcripts; error rates need reference text")
        jiwer = _jiwer()
        return {"cer": float(jiwer.cer(refs, hyps)), "wer": float(jiwer.wer(refs, hyps)),
                "exact_match": float(np.mean([h == r for h, r in zip(hyps, refs)]))}

    def _record_data(self, prepared: Prepared, train: Any) -> tuple[Any, str] | None:
        """As the base class, but the training lines as they are, never augmented."""
        picked = super()._record_data(prepared, train)
        if picked is not None and getattr(picked[0], "augment", False):
            d = picked[0]
            picked = (TranscriptionDataset(d.inputs, d.kind, d.labels), picked[1])
        return picked

    # --- persistence: the language model beside the pipeline ---------------------------------
    def _saved_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor], dict[str, Any]]:
        config, tensors, state = super()._saved_state()
        return config, tensors, {**state, "lm": self.lm_.to_dict()}

    @classmethod
    def _from_saved(cls, config: dict, tensors: dict[str, torch.Tensor], state: dict) -> "LSTMTranscriber":
        est = super()._from_saved(config, tensors, state)
        est.lm_ = CharNGramLM.from_dict(state["lm"])
        return est

    def score(self, X: Any, y: Any) -> float:
        """1 - character error rate (higher is better, for model selection)."""
        return 1.0 - self.evaluate(X, y)["cer"]


@migration(5, "LSTMTranscriber")
def _from_v5(meta: dict, tensors: dict) -> tuple[dict, dict]:
    """Format 5 had no ``augment``: those models were trained without augmentation (False)."""
    config = dict(meta["config"])
    config["params"] = {**config["params"], "augment": False}
    return {**meta, "config": config}, tensors
