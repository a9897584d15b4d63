"""``LSTMMusicModel``: polyphonic music modelling and composition over piano rolls::

    model = LSTMMusicModel().fit(train_pieces, valid_pieces)   # score paths, music21 Streams or PianoRolls
    model.evaluate(test_pieces)    # NLL per frame (nats), onset NLL, frame P/R/F1/accuracy
    piece = model.generate(primer="intro.mid", bars=8, temperature=0.9, seed=1)
    write_midi(piece, "out.mid")   # lstmkit.data.pianoroll

Data: :mod:`lstmkit.data.pianoroll` (grid, onsets, transposition to a common key, pitch range);
network: :class:`~lstmkit.models.music.MusicNetwork` (LSTM / GRU / tanh RNN core, RNN-NADE or
independent Bernoulli output). Evaluation protocol (:meth:`LSTMMusicModel.evaluate`): every
frame of every piece is predicted from the frames before it (the first from nothing), from a
zero state at the start of each piece; NLL in nats summed over the modelled pitches, averaged over
frames (the definition behind the JSB chorales figures of Boulanger-Lewandowski et al. 2012 and
Chung et al. 2014).
"""

from __future__ import annotations

import math
import warnings
from typing import Any, ClassVar

import numpy as np
import torch

from lstmkit.data.pianoroll import (
    PianoRoll,
    check_pieces,
    PianoRollDataset,
    PianoRollPipeline,
    check_pipeline_args,
)
from lstmkit.errors import ConfigError, DataError
from lstmkit.estimators.base import Estimator, Prepared
from lstmkit.models.decoding import check_sampling
from lstmkit.models.music import MusicNetwork, MusicNetworkConfig, frame_scores
from lstmkit.persist import register

__all__ = ["LSTMMusicModel"]


def _is_int(v: Any, low: int = 0) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, np.integer)) and v >= low


@register
class LSTMMusicModel(Estimator):
    """Polyphonic music model over piano-roll frames (scikit-learn style).

    Args:
        grid: time grid, ``"quarter"`` (JSB's), ``"eighth"`` or ``"sixteenth"``.
        transpose: ``"common_key"`` (every piece shifted so its tonic is C, as Boulanger-Lewandowski
            et al. did for their "transposed" results) or ``"none"``.
        use_onsets: also model note onsets, so repeated notes stay distinct from held ones.
        use_beat_position: feed each frame's position in its bar (metre conditioning).
        use_key: feed each piece's key (tonic and mode; key conditioning).
        pitch_margin: semitones modelled below and above the training range.
        cell: recurrent core, ``"lstm"``, ``"gru"`` or ``"rnn"`` (tanh).
        hidden_size, num_layers, dropout: the core (:class:`~lstmkit.models.music.MusicNetworkConfig`).
        output: ``"nade"`` (RNN-NADE: chords modelled jointly) or ``"bernoulli"`` (independent pitches).
        nade_hidden_size: NADE hidden units.
        augment_transpose: also train on every piece shifted by 1..k semitones up and down (0: off).
        val_size: share of the pieces held out (seeded, whole pieces, at least one) for early
            stopping when ``fit`` gets no ``X_val``; 0 for none (a single piece: none, with a warning).
        random_state: seeds initialisation, the validation split, training order and dropout.
        trainer: :class:`~lstmkit.train.TrainerConfig` fields over ``trainer_defaults`` (Adam 2e-3,
            batch 8, at most 200 epochs, early stopping after 15 epochs without a better
            validation loss, best weights restored).

    Raises:
        ConfigError: an argument out of range (``fit`` reports all of them at once).
        DataError: no pieces, a piece without notes, an unreadable score file.
    """

    network_class: ClassVar[type] = MusicNetwork
    pipeline_class: ClassVar[type] = PianoRollPipeline
    trainer_defaults: ClassVar[dict[str, Any]] = {"max_epochs": 200, "batch_size": 8, "lr": 2e-3, "patience": 15,
                                                  "grad_clip": 1.0}

    def __init__(
        self,
        grid: str = "quarter",
        transpose: str = "common_key",
        use_onsets: bool = True,
        use_beat_position: bool = True,
        pitch_margin: int = 2,
        use_key: bool = False,
        cell: str = "lstm",
        hidden_size: int = 128,
        num_layers: int = 1,
        dropout: float = 0.3,
        output: str = "nade",
        nade_hidden_size: int = 64,
        augment_transpose: int = 0,
        val_size: float = 0.1,
        random_state: int = 0,
        trainer: Any = None,
    ) -> None:
        self.grid = grid
        self.transpose = transpose
        self.use_onsets = use_onsets
        self.use_beat_position = use_beat_position
        self.pitch_margin = pitch_margin
        self.use_key = use_key
        self.cell = cell
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.output = output
        self.nade_hidden_size = nade_hidden_size
        self.augment_transpose = augment_transpose
        self.val_size = val_size
        self.random_state = random_state
        self.trainer = trainer

    # --- fit ----------------------------------------------------------------------------------
    def fit(self, X: Any, X_val: Any = None, *, resume: bool = False) -> "LSTMMusicModel":
        """Learn from pieces ``X`` (a list of score paths, music21 Streams or :class:`PianoRoll`);
        ``X_val`` (same forms) for early stopping, else ``val_size`` of ``X``. ``resume=True``
        continues from ``trainer.run_dir``."""
        return self._fit(X, X_val, resume=resume)

    def _check_params(self) -> None:
        problems = check_pipeline_args(self.grid, self.transpose)
        for name in ("use_onsets", "use_beat_position", "use_key"):
            if not isinstance(getattr(self, name), bool):
                problems.append(f"{name} must be True or False, got {getattr(self, name)!r}")
        for name in ("pitch_margin", "augment_transpose"):
            if not _is_int(getattr(self, name)) or getattr(self, name) > 24:
                problems.append(f"{name} must be an int in [0, 24] (semitones), got {getattr(self, name)!r}")
        try:  # the network's own checks (sizes, dropout, cell, output), before any data is read
            MusicNetworkConfig(input_size=1, n_pitches=1, cell=self.cell, hidden_size=self.hidden_size,
                               num_layers=self.num_layers, dropout=self.dropout, output=self.output,
                               nade_hidden_size=self.nade_hidden_size, use_onsets=bool(self.use_onsets))
        except ConfigError as e:
            problems.append(str(e).removeprefix("MusicNetworkConfig: "))
        if isinstance(self.val_size, bool) or not isinstance(self.val_size, (int, float)) or not 0 <= self.val_size < 1:
            problems.append(f"val_size must be a fraction in [0, 1), got {self.val_size!r}")
        if problems:
            raise ConfigError("LSTMMusicModel: " + "; ".join(problems))

    def _pipeline(self) -> PianoRollPipeline:
        return PianoRollPipeline(self.grid, self.transpose, self.use_onsets, self.use_beat_position, self.pitch_margin,
                                 self.use_key)

    def _prepare(self, X: Any, X_val: Any) -> Prepared:
        pipe = self._pipeline()
        rolls = pipe.read_many(X, "X")
        val_rolls = None if X_val is None else pipe.read_many(X_val, "X_val")
        if val_rolls is None and self.val_size > 0:
            n_val = max(1, int(round(len(rolls) * self.val_size)))  # whole pieces, at least one
            if n_val >= len(rolls):
                warnings.warn(f"X holds {len(rolls)} piece(s): none is held out for validation (val_size="
                              f"{self.val_size}); early stopping watches the training loss. Give more pieces or "
                              "X_val, or val_size=0 to silence this", stacklevel=3)
            else:
                order = np.random.default_rng(self._check_seed()).permutation(len(rolls))
                held = set(order[:n_val].tolist())
                val_rolls = [r for i, r in enumerate(rolls) if i in held]
                rolls = [r for i, r in enumerate(rolls) if i not in held]
        train_rolls = list(rolls)
        for k in range(1, self.augment_transpose + 1):
            for shift in (k, -k):
                for r in rolls:
                    try:
                        train_rolls.append(r.transpose(shift))
                    except DataError:  # would leave the MIDI range: skip that copy
                        pass
        pipe.fit(train_rolls)
        config = MusicNetworkConfig(
            input_size=pipe.n_features, n_pitches=pipe.n_pitches, cell=self.cell, hidden_size=self.hidden_size,
            num_layers=self.num_layers, dropout=self.dropout, output=self.output,
            nade_hidden_size=self.nade_hidden_size, use_onsets=self.use_onsets,
        )
        train = PianoRollDataset([pipe.encode(r, f"X[{i}]") for i, r in enumerate(train_rolls)])
        val = None if not val_rolls else PianoRollDataset([pipe.encode(r, f"X_val[{i}]") for i, r in enumerate(val_rolls)])
        return Prepared(pipe, config, train, val)

    # --- run record: baseline ------------------------------------------------------------------
    def _baselines(self, prepared: Prepared) -> Any:
        """Each pitch's training frequency as an independent Bernoulli (no context)."""
        y = np.concatenate([it["y"] for it in prepared.train.items])  # (N, P)
        p = np.clip(y.mean(0), 1e-4, 1 - 1e-4)
        logp1, logp0 = torch.from_numpy(np.log(p)), torch.from_numpy(np.log1p(-p))

        def run(batch: dict[str, torch.Tensor]) -> list[tuple[str, dict[str, float]]]:
            m = batch["mask"][..., None].double()
            yy = batch["y"].double()
            nll = float(-((yy * logp1 + (1 - yy) * logp0) * m).sum() / m.sum().clamp(min=1))
            return [("pitch frequencies (no context)", {"nll": nll})]

        return run

    def _record_notes(self) -> dict[str, Any]:
        return {"units": "nll is the negative log-likelihood of each frame's sounding notes (nats per frame); "
                         "loss adds the onsets' NLL"}

    # --- evaluate / predict ---------------------------------------------------------------------
    def _encode_many(self, X: Any, name: str) -> tuple[list[PianoRoll], list[dict[str, np.ndarray]], int, list[int]]:
        pipe = self.pipeline_
        read = [pipe.read(x, f"{name}[{i}]", return_shift=True) for i, x in enumerate(check_pieces(X, name))]
        rolls, shifts = [r for r, _ in read], [k for _, k in read]
        items, outside = [], 0
        for i, r in enumerate(rolls):
            s, o, n = pipe.targets(r, f"{name}[{i}]")
            outside += n
            items.append({"x": pipe.inputs(s, o, r.bar_frames, r.bar_start, r.key), "y": s, "onset": o})
        return rolls, items, outside, shifts

    @torch.no_grad()
    def evaluate(self, X: Any) -> dict[str, float]:
        """Held-out quality of pieces ``X`` (protocol in the module docstring).

        Returns:
            ``nll`` (sounding notes, nats per frame), ``onset_nll`` (nats per frame; 0 without
            onsets), ``loss`` (their sum), ``frame_precision``, ``frame_recall``, ``frame_f1``,
            ``frame_accuracy`` (Bay et al. 2009; each frame predicted greedily from the true frames
            before it), ``frames``, ``pieces`` and ``notes_outside_range`` (frame-notes outside the
            modelled pitches, ignored with a warning).

        Raises:
            DataError: no pieces, or a piece without notes.
        """
        self._check_fitted()
        _, items, outside, _ = self._encode_many(X, "X")
        net = self.networks_[0].eval()
        nll = onset = frames = 0.0
        predicted, true = [], []
        for start in range(0, len(items), 16):
            batch = PianoRollDataset.collate(items[start:start + 16])
            a, b, n = net.nll_sums(batch)
            nll, onset, frames = nll + float(a), onset + float(b), frames + float(n)
            h, _ = net.hidden(batch["x"])
            m = batch["mask"]
            P = net.config.n_pitches
            v, _ = net.sample_frame(h[m], batch["x"][m][:, :P], temperature=0)  # (N, P) greedy, teacher-forced
            predicted.append(v)
            true.append(batch["y"][m])
        scores = frame_scores(torch.cat(predicted), torch.cat(true))
        return {"nll": nll / frames, "onset_nll": onset / frames, "loss": (nll + onset) / frames, **scores,
                "frames": int(frames), "pieces": len(items), "notes_outside_range": int(outside)}

    def score(self, X: Any, y: Any = None) -> float:
        """Minus the NLL per frame (sounding notes and onsets; higher is better, for scikit-learn)."""
        return -self.evaluate(X)["loss"]

    @torch.no_grad()
    def predict(self, X: Any) -> list[PianoRoll]:
        """For each piece, every frame predicted (greedily) from the true frames before it, as a
        PianoRoll in the piece's own key."""
        self._check_fitted()
        rolls, items, _, shifts = self._encode_many(X, "X")
        net, pipe = self.networks_[0].eval(), self.pipeline_
        out = []
        for r, it, shift in zip(rolls, items, shifts):
            h, _ = net.hidden(torch.from_numpy(it["x"])[None])
            v, o = net.sample_frame(h[0], torch.from_numpy(it["x"][:, : pipe.n_pitches]), temperature=0)
            roll = pipe.decode(v.numpy(), o.numpy(), r.bar_frames, r.bar_start, name=f"prediction of {r.name}")
            roll.key = r.key
            out.append(roll.transpose(-shift))
        return out

    # --- generate -----------------------------------------------------------------------------
    @torch.no_grad()
    def generate(self, primer: Any = None, bars: int = 8, *, temperature: float = 1.0, top_p: float | None = None,
                 seed: int | None = None, max_notes: int | None = None, use_voice_ranges: bool = True,
                 include_primer: bool = True, mode: str = "major") -> PianoRoll:
        """Compose ``bars`` bars, continuing ``primer`` (a score path, music21 Stream or PianoRoll;
        None starts from silence).

        Args:
            temperature: 0 picks the more likely outcome of every note decision; > 1 is wilder.
            top_p: a note decision's less likely outcome is possible only while the more likely
                one's probability is below ``top_p`` (nucleus sampling over the two outcomes).
            seed: seed of the sampling generator (same seed, same piece); None draws a fresh one.
            max_notes: most notes at once (default: the most seen in a training frame).
            use_voice_ranges: keep the k-th lowest note of every frame inside the range the k-th
                lowest note had in training (so the voices stay in their registers); notes beyond
                the training voices (``max_notes`` above them) may take any modelled pitch.
            include_primer: the returned piece starts with the primer, exactly as given (notes
                outside the modelled range included; the model does not hear those).
            mode: ``"major"`` or ``"minor"``: the key a ``use_key`` model composes in when there is
                no primer (in C, or the tonic the model's pieces were not transposed to).

        Returns:
            A :class:`PianoRoll` in the primer's key (the model's common key when there is no primer);
            write it with :func:`lstmkit.data.pianoroll.write_midi`.

        Raises:
            ConfigError: a sampling argument out of range; DataError: an unreadable primer.
        """
        self._check_fitted()
        check_sampling(temperature, None, top_p)
        pipe, net = self.pipeline_, self.networks_[0].eval()
        problems = []
        if not math.isfinite(temperature):
            problems.append(f"temperature must be finite, got {temperature!r}")
        if not _is_int(bars, 1) or bars > 100_000:
            problems.append(f"bars must be a positive int (at most 100000), got {bars!r}")
        if max_notes is not None and not _is_int(max_notes, 1):
            problems.append(f"max_notes must be None or a positive int, got {max_notes!r}")
        if seed is not None and (not _is_int(seed) or seed >= 2**63):
            problems.append(f"seed must be None or an int in [0, 2**63), got {seed!r}")
        for name, v in (("use_voice_ranges", use_voice_ranges), ("include_primer", include_primer)):
            if not isinstance(v, bool):
                problems.append(f"{name} must be True or False, got {v!r}")
        if mode not in ("major", "minor"):
            problems.append(f"mode must be 'major' or 'minor', got {mode!r}")
        if problems:
            raise ConfigError("; ".join(problems))
        P = pipe.n_pitches
        shift, bar_frames, bar_start, key = 0, pipe.bar_frames_, 0, (0, mode)
        roll = None
        if primer is not None:
            roll, shift = pipe.read(primer, "primer", return_shift=True)
            s, o, _ = pipe.targets(roll, "primer")
            bar_frames, bar_start, key = roll.bar_frames, roll.bar_start, roll.key
        else:
            s, o = np.zeros((0, P), np.float32), np.zeros((0, P), np.float32)
        T0, n = len(s), bars * bar_frames
        gen = torch.Generator()
        if seed is None:
            gen.seed()
        else:
            gen.manual_seed(int(seed))
        state = None
        if T0:
            _, state = net.hidden(torch.from_numpy(pipe.inputs(s, o, bar_frames, bar_start, key))[None])
        lo = pipe.low_
        ranges = [(a - lo, b - lo) for a, b in pipe.voice_ranges_] if use_voice_ranges else None
        limit = max_notes if max_notes is not None else pipe.max_notes_
        sounding = list(s)
        onsets = list(o)
        for t in range(T0, T0 + n):
            prev_s = sounding[t - 1] if t else np.zeros(P, np.float32)
            parts = [prev_s]
            if pipe.use_onsets:
                parts.append(onsets[t - 1] if t else np.zeros(P, np.float32))
            if pipe.use_beat_position:
                parts.append(pipe.beat_features(1, bar_frames, bar_start, offset=t)[0])
            if pipe.use_key:
                parts.append(pipe.key_features(key))
            x = torch.from_numpy(np.concatenate(parts).astype(np.float32))[None, None]  # (1, 1, F)
            h, state = net.hidden(x, state)
            v, on = net.sample_frame(h[:, 0], torch.from_numpy(prev_s)[None], temperature=temperature, top_p=top_p,
                                     generator=gen, max_notes=limit, voice_ranges=ranges)
            sounding.append(v[0].numpy())
            onsets.append(on[0].numpy())
        first = 0 if include_primer else T0
        out = pipe.decode(np.array(sounding[first:]).reshape(-1, P), np.array(onsets[first:]).reshape(-1, P),
                          bar_frames, (bar_start - first) % bar_frames, name="generated")
        out.key = (int(key[0]), key[1]) if key is not None else None
        out = out.transpose(-shift) if shift else out
        if roll is not None and include_primer:  # the primer exactly as given, out-of-range notes included
            given = roll.transpose(-shift)
            out.sounding[:T0], out.onsets[:T0] = given.sounding, given.onsets
            out.onsets[T0:T0 + 1] |= out.sounding[T0:T0 + 1] & ~given.sounding[-1:]  # a note after silence starts
        return out

    @property
    def pitch_range_(self) -> tuple[int, int]:
        """(lowest, highest) MIDI pitch the network models."""
        self._check_fitted()
        return self.pipeline_.low_, self.pipeline_.high_
