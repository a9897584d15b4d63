"""``LSTMClassifier``: scikit-learn classifier of sequences. By default LSTM-FCN (a (Bi)LSTM with
pooling beside a fully convolutional branch, a dense softmax head; network:
:class:`~lstmkit.models.classifier.ClassifierNetwork`), its probabilities averaged with a MiniRocket
ridge classifier's (:mod:`lstmkit.models.minirocket`)::

    clf = LSTMClassifier(hidden_size=64, pooling="attention", trainer={"max_epochs": 100})
    clf.fit(X_train, y_train)          # (n, T, F) array, list of (T_i, F) arrays, or long DataFrame
    clf.predict_proba(X_test)          # (n, C), rows sum to one
    clf.save("gunpoint.lstm"); lstmkit.load("gunpoint.lstm").predict(X_test)
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import ClassifierMixin
from sklearn.linear_model import RidgeClassifierCV
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import type_of_target

from lstmkit.data.labels import LabelEncoder, label_array, labels_from_json, labels_to_json, to_python
from lstmkit.data.sequence_pipeline import SEQUENCE_SCALERS, SequencePipeline
from lstmkit.data.sequences import SequenceDataset, pad_sequences
from lstmkit.data.supervised import SupervisedPipeline
from lstmkit.errors import ConfigError, DataError, ShapeError, suggest
from lstmkit.estimators.base import Estimator, Prepared
from lstmkit.models.classifier import (ARCHITECTURES, ClassifierNetwork, ClassifierNetworkConfig, config_from_v1,
                                       config_from_v2, config_from_v4)
from lstmkit.models.minirocket import MiniRocketFusion, MiniRocketRidge, fit_minirocket, fit_temperature
from lstmkit.persist import migration, register

__all__ = ["LSTMClassifier", "auto_settings", "fit_minirocket_ridge"]

MAX_STEPS = 256  # downsample="auto": longer series are averaged down to at most this many steps
LSTM_STEPS = 64  # patch_size="auto": the LSTM reads at most about this many (patched) steps
MIN_VAL = 200  # val_size="auto": training sets this large hold out 10 % for validation


def auto_settings(lengths: Any, n_features: int, n_samples: int, *, scaler: Any = "auto", downsample: Any = "auto",
                  patch_size: Any = "auto", architecture: Any = "auto", val_size: Any = "auto",
                  series_stats: Any = "auto") -> dict[str, Any]:
    """Resolve the ``"auto"`` settings of :class:`LSTMClassifier` from the training data only.

    Rules (T: the median training length; values other than ``"auto"`` pass through):

    - ``architecture``: ``"lstm-fcn"`` (LSTM-FCN / MLSTM-FCN, Karim et al. 2017, 2019).
    - ``scaler``: ``"sequence"`` (each series z-normalised on its own, the UCR convention) for
      univariate input (F = 1), ``"standard"`` (per feature, training statistics) otherwise.
    - ``downsample``: ceil(T / 256), so the network reads at most about 256 steps (512 until
      2026-12-02: on 5-fold CV of PLAID's training split, T = 300, averaging pairs of steps kept
      accuracy, 0.911 against 0.912, and halved the fit; ``benchmarks/RESULTS.md``).
    - ``patch_size``: ceil(T' / 64) with T' = ceil(T / downsample): the LSTM reads at most about 64
      steps. With ``"lstm-fcn"`` only the LSTM branch is patched; the FCN reads every step.
    - ``val_size``: 0.1 (stratified) for 200 training sequences or more, else 0: small sets keep
      every sequence for training and train for the fixed step budget.
    - ``series_stats``: on for 200 training sequences or more (the threshold of ``val_size``),
      else off. The head then also reads each series' mean, log standard deviation and log
      length, which the per-series normalisation and the pooling take away. On the training
      splits of PLAID (n = 537) they raised held-out accuracy by 0.05 and 0.08 (two seeds) and
      left JapaneseVowels (n = 270) unchanged; on smaller sets they did not help
      (PickupGestureWiimoteZ, n = 50: unchanged; ACSF1, n = 100: 0.06 lower, one seed).

    Args:
        lengths: the training sequences' lengths T_i (n,).
        n_features: F. n_samples: n.

    Returns:
        dict with the resolved ``scaler``, ``downsample``, ``patch_size``, ``architecture``,
        ``val_size`` and ``series_stats``.
    """
    T = float(np.median(np.asarray(lengths, dtype=float))) if len(lengths) else 1.0
    out: dict[str, Any] = {}
    out["architecture"] = "lstm-fcn" if architecture == "auto" else architecture
    out["scaler"] = ("sequence" if n_features == 1 else "standard") if scaler == "auto" else scaler
    out["downsample"] = max(1, int(np.ceil(T / MAX_STEPS))) if downsample == "auto" else downsample
    steps = np.ceil(T / out["downsample"])
    out["patch_size"] = max(1, int(np.ceil(steps / LSTM_STEPS))) if patch_size == "auto" else patch_size
    out["val_size"] = (0.1 if n_samples >= MIN_VAL else 0) if val_size == "auto" else val_size
    out["series_stats"] = bool(n_samples >= MIN_VAL) if series_stats == "auto" else bool(series_stats)
    return out


RIDGE_ALPHAS = np.logspace(-3, 3, 10)  # minirocket: the reference's ridge penalties, chosen by leave-one-out CV


def fit_minirocket_ridge(seqs: list[np.ndarray], codes: np.ndarray, *, seed: int = 0,
                         class_weight: list[float] | None = None) -> MiniRocketRidge:
    """MiniRocket (Dempster et al. 2021) on scaled training sequences (each (T_i, F)) and a ridge
    classifier on its features, as the reference fits them: features divided by their training
    standard deviation (not centred), scikit-learn's ``RidgeClassifierCV`` over alphas 1e-3..1e3
    (efficient leave-one-out CV). Its probabilities: a softmax of the scores with one temperature
    fitted to the leave-one-out scores (:func:`~lstmkit.models.minirocket.fit_temperature`).
    ``codes``: class indices (n,); ``class_weight``: per class (C,)."""
    features = fit_minirocket(seqs, seed=seed)

    def run(batch: list[np.ndarray]) -> np.ndarray:
        x, lens = pad_sequences(batch)
        return features(x, lens).double().numpy()

    with torch.no_grad():
        phi = np.stack(Estimator._batched(seqs, run))  # (n, D)
    scale = phi.std(0)
    scale = np.where(scale > 0, scale, 1.0)
    cw = None if class_weight is None else dict(enumerate(class_weight))
    ridge = RidgeClassifierCV(alphas=RIDGE_ALPHAS, class_weight=cw, store_cv_results=True).fit(phi / scale, codes)
    loo = ridge.cv_results_[:, :, int(np.argmin(np.abs(RIDGE_ALPHAS - ridge.alpha_)))]  # (n, C') held-out scores
    temperature = fit_temperature(loo[:, 0] if loo.shape[1] == 1 else loo, codes)
    return MiniRocketRidge(features, torch.as_tensor(scale), torch.as_tensor(np.atleast_2d(ridge.coef_)),
                           torch.as_tensor(np.atleast_1d(ridge.intercept_)), torch.tensor(temperature))


def split_size(val_size: Any, n: int, name: str = "val_size") -> int:
    """Samples held out: ``val_size`` as a fraction in [0, 1) or a count (int >= 0, < n)."""
    if isinstance(val_size, (float, np.floating)) and 0 <= val_size < 1:
        return int(round(val_size * n))
    if isinstance(val_size, (int, np.integer)) and not isinstance(val_size, bool) and 0 <= val_size < n:
        return int(val_size)
    raise ConfigError(f"{name} must be a fraction in [0, 1) or a count in [0, {n}), got {val_size!r}")


def _continuous(y: Any) -> bool:
    """True for float labels that look like a regression target (scikit-learn's rule)."""
    try:
        return type_of_target(label_array(y)) == "continuous"
    except (TypeError, ValueError):  # mixed label types such as [1, 'one'] are classes
        return False


@register
class LSTMClassifier(ClassifierMixin, Estimator):
    """Scikit-learn classifier of sequences: by default LSTM-FCN (a (Bi)LSTM with pooling beside a
    fully convolutional branch, and a dense softmax head), averaged with MiniRocket (``minirocket``).

    Args:
        hidden_size: LSTM units per direction (the network: see :class:`ClassifierNetworkConfig`).
        num_layers: stacked LSTM layers.
        bidirectional: read each sequence in both directions.
        dropout: dropout between layers and before the head.
        pooling: how the steps become one vector: last | mean | max | attention.
        head_hidden_size: width of the dense layer of the head (0: linear head).
        architecture: "lstm" (the LSTM, pooling and head), "lstm-fcn" (a fully convolutional
            branch with squeeze-and-excite beside the LSTM, Karim et al. 2017/2019; see
            :mod:`lstmkit.models.classifier`) or "auto".
        fcn_filters, fcn_kernels: "lstm-fcn": channels and kernel widths of the convolution
            blocks (Karim et al.: 128, 256, 128 and 8, 5, 3).
        scaler: "standard" (per-feature z-score with training statistics), "minmax", "robust",
            "none", "sequence" (z-normalise each sequence and feature on its own, the UCR
            convention) or "auto".
        downsample: average non-overlapping windows of this many steps before the network (long
            series: fewer steps, faster, smoother; 1 = off) or "auto".
        patch_size: after scaling, stack non-overlapping frames of this many steps into one LSTM
            step of patch_size*F features (long series: fewer steps, nothing averaged away; with
            "lstm-fcn" the FCN branch still reads every step) or "auto".
        series_stats: give the head each series' mean and log standard deviation per feature and
            its log length beside the pooled features (standardised over the training set; those
            that do not vary are left out; the LSTM and FCN do not read them): True, False or
            "auto" (on from 200 training sequences; see :func:`auto_settings`).
        class_weight: None, "balanced" (n / (C * count_c)) or a dict label -> weight.
        val_size: stratified share (float in [0, 1)) or number (int) of training sequences held
            out for validation metrics and for keeping the best epoch's weights; 0: none; "auto".
        n_models: ensemble size (seeds ``random_state + k``); probabilities are averaged.
        minirocket: also fit MiniRocket (Dempster et al. 2021: about 10,000 fixed random dilated
            convolution features, each the proportion of positive values over a series' valid
            steps, and a ridge classifier, fitted in closed form on every training sequence) on the
            scaled series the FCN reads, and average its probabilities with the network's, half
            each (:class:`~lstmkit.models.minirocket.MiniRocketRidge`). On by default: on held-out
            data the average raised the network's accuracy (ACSF1 and OSULeaf test splits, 2 seeds:
            0.865 to 0.920; 5-fold CV of the ArrowHead, PickupGestureWiimoteZ and PLAID training
            splits: 0.803 to 0.871) and kept the network's on multivariate JapaneseVowels (0.981,
            where MiniRocket alone scored 0.941); on univariate series MiniRocket alone scored a
            little higher (0.932, 0.872). ``predict_proba(X, part=...)`` gives each half; False:
            the network alone (``benchmarks/RESULTS.md``).
        trainer: a :class:`lstmkit.train.TrainerConfig` or dict over ``trainer_defaults``
            (1,500 Adam steps of batch 16 at most, lr 1e-3 with 50 warm-up steps and cosine decay,
            the weights of the best epoch kept: validation loss with a validation split, else
            training loss).
        id_col: for long-format DataFrame input: the sequence id column. Labels are then a
            Series indexed by id, or an array in the order the ids first appear.
        time_col: for long-format DataFrame input: the ordering column.
        random_state: seeds the network, the training order and the validation split.

    The ``"auto"`` values are resolved at fit time from the training data only, by
    :func:`auto_settings` (its docstring gives each rule); ``settings_`` holds what they became.

    Raises:
        ConfigError: a bad argument; DataError / ShapeError: bad input, naming the sample.
    """

    network_class = ClassifierNetwork
    pipeline_class = SupervisedPipeline
    learned_attributes: ClassVar[tuple[str, ...]] = ("pipeline_", "networks_", "history_", "minirocket_")
    trainer_defaults: ClassVar[dict[str, Any]] = {"max_epochs": 10_000, "max_steps": 1500, "batch_size": 16, "lr": 1e-3,
                                                  "schedule": "cosine", "warmup_steps": 50, "patience": 10_000}

    def __init__(
        self,
        hidden_size: int = 64,
        num_layers: int = 1,
        bidirectional: bool = True,
        pooling: str = "mean",
        head_hidden_size: int = 64,
        dropout: float = 0.0,
        architecture: str = "auto",
        fcn_filters: tuple[int, ...] = (128, 256, 128),
        fcn_kernels: tuple[int, ...] = (8, 5, 3),
        scaler: str = "auto",
        downsample: int | str = "auto",
        patch_size: int | str = "auto",
        series_stats: bool | str = "auto",
        class_weight: Any = None,
        val_size: float | int | str = "auto",
        n_models: int = 1,
        minirocket: bool = True,
        trainer: Any = None,
        id_col: str = "id",
        time_col: str | None = "time",
        random_state: int = 0,
    ) -> None:
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.pooling = pooling
        self.head_hidden_size = head_hidden_size
        self.dropout = dropout
        self.architecture = architecture
        self.fcn_filters = fcn_filters
        self.fcn_kernels = fcn_kernels
        self.scaler = scaler
        self.downsample = downsample
        self.patch_size = patch_size
        self.series_stats = series_stats
        self.class_weight = class_weight
        self.val_size = val_size
        self.n_models = n_models
        self.minirocket = minirocket
        self.trainer = trainer
        self.id_col = id_col
        self.time_col = time_col
        self.random_state = random_state

    # --- learned, derived from the pipeline --------------------------------------------------
    @property
    def classes_(self) -> np.ndarray:
        """Class labels (C,), in the order of ``predict_proba``'s columns."""
        self._check_fitted()
        return self.pipeline_.labels.classes_

    @property
    def n_features_in_(self) -> int:
        self._check_fitted()
        return self.pipeline_.inputs.n_features_in_

    # --- fit ----------------------------------------------------------------------------------
    def _n_networks(self) -> int:
        return int(self.n_models)

    def _check_params(self) -> None:
        p = []
        if self.scaler != "auto" and self.scaler not in SEQUENCE_SCALERS:
            p.append(f"scaler must be 'auto' or one of {list(SEQUENCE_SCALERS)}, got {self.scaler!r}"
                     f"{suggest(str(self.scaler), SEQUENCE_SCALERS)}")
        if self.architecture != "auto" and self.architecture not in ARCHITECTURES:
            p.append(f"architecture must be 'auto' or one of {list(ARCHITECTURES)}, got {self.architecture!r}"
                     f"{suggest(str(self.architecture), ARCHITECTURES)}")
        ss = self.series_stats
        if not (isinstance(ss, (bool, np.bool_)) or (isinstance(ss, str) and ss == "auto")):
            p.append(f"series_stats must be True, False or 'auto', got {self.series_stats!r}")
        if not isinstance(self.minirocket, (bool, np.bool_)):
            p.append(f"minirocket must be True or False, got {self.minirocket!r}")
        for name in ("downsample", "patch_size", "n_models"):
            v = getattr(self, name)
            if name != "n_models" and v == "auto":
                continue
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                p.append(f"{name} must be {'an int >= 1' if name == 'n_models' else 'an int >= 1 or auto'}, got {v!r}")
        if p:
            raise ConfigError("LSTMClassifier: " + "; ".join(p))

    def fit(self, X: Any, y: Any, lengths: Any = None, *, resume: bool = False) -> "LSTMClassifier":
        """Fit on ``X`` (see the class docstring) and labels ``y`` (n,) of any hashable type.

        ``resume``: continue an interrupted fit from ``trainer.run_dir``."""
        return self._fit(X, y, lengths, resume=resume)

    def _prepare(self, X: Any, y: Any, lengths: Any) -> Prepared:
        if y is None:
            raise DataError("LSTMClassifier requires y to be passed, but the target y is None")
        if _continuous(y):
            raise DataError("Unknown label type: y holds continuous values; LSTMClassifier needs class labels "
                            "(for a numeric target use a regression model)")
        raw, _ = SequencePipeline("none", 1, 1, self.id_col, self.time_col).read(X, lengths)
        settings = auto_settings([len(r) for r in raw], raw[0].shape[1] if raw else 1, len(raw),
                                 scaler=self.scaler, downsample=self.downsample, patch_size=self.patch_size,
                                 architecture=self.architecture, val_size=self.val_size,
                                 series_stats=self.series_stats)
        self.settings_ = settings
        fcn = settings["architecture"] == "lstm-fcn"
        inputs = SequencePipeline(settings["scaler"], settings["downsample"], 1 if fcn else settings["patch_size"],
                                  self.id_col, self.time_col, settings["series_stats"])
        if hasattr(X, "columns") and hasattr(y, "index") and hasattr(y, "loc") and self.id_col in X.columns:
            ids = list(dict.fromkeys(X[self.id_col].tolist()))
            if set(ids) <= set(y.index):  # labels indexed by sequence id
                y = y.loc[ids].to_numpy()
        seqs = inputs.fit_transform(raw)  # read once above (a long DataFrame: in the order its ids appear)
        labels = LabelEncoder()
        codes = labels.fit_transform(y)
        if len(codes) != len(seqs):
            raise ShapeError(f"y has {len(codes)} labels, X has {len(seqs)} samples")
        if len(labels.classes_) < 2:
            raise DataError(f"y must hold at least 2 classes, got only one class {labels.classes_.tolist()}")
        config = ClassifierNetworkConfig(
            input_size=inputs.n_features_out, num_classes=len(labels.classes_), hidden_size=self.hidden_size,
            num_layers=self.num_layers, bidirectional=self.bidirectional, dropout=self.dropout,
            pooling=self.pooling, head_hidden_size=self.head_hidden_size,
            class_weight=self._class_weights(codes, labels.classes_), architecture=settings["architecture"],
            patch_size=settings["patch_size"] if fcn else 1, fcn_filters=self.fcn_filters,
            fcn_kernels=self.fcn_kernels, static_size=inputs.n_stats,
        )
        idx_train, idx_val = np.arange(len(seqs)), None
        n_val = split_size(settings["val_size"], len(seqs))
        if n_val:
            strat = codes if np.bincount(codes).min() >= 2 else None
            idx_train, idx_val = train_test_split(idx_train, test_size=n_val, random_state=self._check_seed(), stratify=strat)
        # MiniRocket reads every training sequence (its ridge picks its penalty by leave-one-out CV)
        self.minirocket_ = (fit_minirocket_ridge(inputs.transform(raw, scaled_only=True), codes, seed=self._check_seed(),
                                                 class_weight=config.class_weight) if self.minirocket else None)
        train = SequenceDataset([seqs[i] for i in idx_train], codes[idx_train])
        val = None if idx_val is None else SequenceDataset([seqs[i] for i in idx_val], codes[idx_val])
        return Prepared(SupervisedPipeline(inputs, labels), config, train, val)

    def _class_weights(self, codes: np.ndarray, classes: np.ndarray) -> list[float] | None:
        C = len(classes)
        if self.class_weight is None:
            return None
        if isinstance(self.class_weight, str):
            if self.class_weight != "balanced":
                raise ConfigError(f"class_weight must be None, 'balanced' or a dict label -> weight, got {self.class_weight!r}")
            counts = np.bincount(codes, minlength=C)
            return [float(len(codes) / (C * c)) for c in counts]
        if isinstance(self.class_weight, dict):
            unknown = [k for k in self.class_weight if k not in set(classes.tolist())]
            if unknown:
                raise ConfigError(f"class_weight names label(s) {unknown} that are not in y; labels: {classes.tolist()}")
            return [float(self.class_weight.get(c, 1.0)) for c in classes.tolist()]
        raise ConfigError(f"class_weight must be None, 'balanced' or a dict label -> weight, got {type(self.class_weight).__name__}")

    def _baselines(self, prepared: Prepared) -> Any:
        codes = np.asarray(prepared.train.targets)  # the training labels (B,)
        majority = int(np.bincount(codes).argmax())
        name = f"majority class ({to_python(prepared.pipeline.labels.classes_[majority])!r}, of the training labels)"

        def run(batch: dict[str, torch.Tensor]) -> list[tuple[str, dict[str, float]]]:
            return [(name, {"accuracy": float((batch["y"] == majority).float().mean())})]

        return run

    # --- predict ------------------------------------------------------------------------------
    @torch.no_grad()
    def predict_proba(self, X: Any, lengths: Any = None, *, part: str = "both") -> np.ndarray:
        """Class probabilities (n, C), columns in the order of ``classes_``: the networks' softmax
        averaged over the ensemble, then (``minirocket``) averaged with MiniRocket's, half each.

        ``part``: "both" (what ``predict`` uses), or one half alone: "network" or "minirocket"
        (to see what each contributes).

        Raises:
            ConfigError: an unknown ``part``, or "minirocket" for a classifier fitted without it.
        """
        self._check_fitted()
        if part not in ("both", "network", "minirocket"):
            raise ConfigError(f"part must be 'both', 'network' or 'minirocket', got {part!r}")
        inputs, rocket = self.pipeline_.inputs, self.minirocket_
        if part == "minirocket" and rocket is None:
            raise ConfigError("part='minirocket': this LSTMClassifier was fitted with minirocket=False")
        use_net, use_rocket = part != "minirocket", rocket is not None and part != "network"
        seqs = inputs.transform(X, lengths)
        steps = inputs.transform(X, lengths, scaled_only=True) if use_rocket else seqs

        def run(batch: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
            probs = []
            if use_net:
                x, lens = pad_sequences([b[0] for b in batch])  # (B, T, F), (B,)
                probs.append(torch.stack([torch.softmax(net(x, lens).double(), dim=1) for net in self.networks_]).mean(0))
            if use_rocket:
                probs.append(rocket(*pad_sequences([b[1] for b in batch])).double())
            return (sum(probs) / len(probs)).numpy()  # (B, C)

        return np.stack(self._batched(list(zip(seqs, steps)), run, length=lambda b: len(b[0])))

    def predict(self, X: Any, lengths: Any = None) -> np.ndarray:
        """Predicted labels (n,), of the labels' own type."""
        self._check_fitted()
        return self.pipeline_.labels.inverse_transform(self.predict_proba(X, lengths).argmax(1))

    def score(self, X: Any, y: Any, sample_weight: Any = None, lengths: Any = None) -> float:
        """Mean accuracy; a DataError if ``y`` holds labels never seen at fit time."""
        self._check_fitted()
        codes = self.pipeline_.labels.transform(y)
        pred = self.predict_proba(X, lengths).argmax(1)
        if len(pred) != len(codes):
            raise ShapeError(f"y has {len(codes)} labels, X has {len(pred)} samples")
        w = np.ones(len(codes)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        if w.shape != (len(codes),):
            raise ShapeError(f"sample_weight must be {len(codes)} finite weights >= 0, not all 0 (one per sample), "
                             f"got shape {w.shape}")
        if not np.isfinite(w).all() or (w < 0).any() or not w.sum() > 0:
            raise DataError(f"sample_weight must be {len(codes)} finite weights >= 0, not all 0 (one per sample), "
                            f"got min {w.min():g}, sum {w.sum():g}")
        return float(np.sum(w * (pred == codes)) / np.sum(w))

    def onnx_members(self) -> list[int | None]:
        """[None] with ``minirocket`` (one graph holds every network and MiniRocket); else as
        :meth:`Estimator.onnx_members`."""
        self._check_fitted()
        return [None] if self.minirocket_ is not None else super().onnx_members()

    def onnx_network(self, member: int | None = None) -> Any:
        """With ``minirocket``, :meth:`to_onnx` exports the whole of ``predict_proba`` as one graph
        (:class:`~lstmkit.models.minirocket.MiniRocketFusion`: every network and MiniRocket; output
        ``log_probs``) and takes no ``member``. ConfigError for a ``member``, or for MiniRocket
        beside an LSTM that reads patches (``architecture="lstm"``, ``patch_size`` > 1: its input
        is not the series' steps)."""
        if self.minirocket_ is None:
            return super().onnx_network(member)
        if member is not None:
            raise ConfigError(f"to_onnx: member={member!r}: with minirocket=True the graph is the whole classifier "
                              "(every network and MiniRocket); call to_onnx(path)")
        if self.pipeline_.inputs.patch_size != 1:
            raise ConfigError("MiniRocket beside an LSTM that reads patches (architecture='lstm', patch_size "
                              f"{self.pipeline_.inputs.patch_size}) cannot run as one graph (ONNX export, lstmkit "
                              "serve); fit with minirocket=False or patch_size=1")
        return MiniRocketFusion(self.networks_, self.minirocket_)

    # --- persistence --------------------------------------------------------------------------
    def _saved_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor], dict[str, Any]]:
        config, tensors, state = super()._saved_state()
        if self.minirocket_ is not None:
            tensors.update({f"minirocket.{k}": t for k, t in self.minirocket_.state_dict().items()})
        return config, tensors, {**state, "settings": getattr(self, "settings_", None),
                                 "minirocket": self.minirocket_ is not None}

    @classmethod
    def _from_saved(cls, config: dict, tensors: dict[str, torch.Tensor], state: dict) -> "LSTMClassifier":
        est = super()._from_saved(config, tensors, state)
        est.minirocket_ = MiniRocketRidge.from_tensors(tensors, "minirocket.").eval() if state.get("minirocket") else None
        if state.get("settings") is not None:  # files before 0.x "auto" settings have none
            est.settings_ = state["settings"]
        return est

    def _params_to_json(self, params: dict[str, Any]) -> dict[str, Any]:
        params = super()._params_to_json(params)
        cw = params["class_weight"]
        if isinstance(cw, dict):  # JSON keys are strings: keep labels typed like classes_
            params["class_weight"] = {"labels": labels_to_json(label_array(list(cw))), "weights": [to_python(w) for w in cw.values()]}
        return params

    @classmethod
    def _params_from_json(cls, params: dict[str, Any]) -> dict[str, Any]:
        params = super()._params_from_json(params)
        for name in ("fcn_filters", "fcn_kernels"):  # JSON has lists; the constructor's defaults are tuples
            if isinstance(params.get(name), list):
                params[name] = tuple(params[name])
        cw = params.get("class_weight")
        if isinstance(cw, dict):
            params["class_weight"] = dict(zip(labels_from_json(cw["labels"]).tolist(), cw["weights"]))
        return params


_V1_SCALERS = {"global": "standard", "series": "sequence", "none": "none"}


@migration(1, "LSTMClassifier")
def _from_v1(meta: dict, tensors: dict) -> tuple[dict, dict]:
    """0.1.0: params named dense_size, normalize, validation_fraction, id_column, time_column;
    the scaler as {"mean", "std"} lists; the seed in the trainer; tensors without a prefix."""
    p, state = dict(meta["config"]["params"]), meta["state"]
    renames = {"dense_size": "head_hidden_size", "validation_fraction": "val_size", "id_column": "id_col",
               "time_column": "time_col"}
    params = {renames.get(k, k): v for k, v in p.items() if k != "normalize"}
    params["scaler"] = _V1_SCALERS[p["normalize"]]
    trainer = params.get("trainer")  # 0.1.0 loaded a saved trainer dict as a TrainerConfig
    params["trainer"] = None if trainer is None else {"__class__": "TrainerConfig", **trainer}
    params["random_state"] = (trainer or {}).get("seed") or 0
    old = state.get("scaler")
    fitted = None if old is None else {"kind": "standard", "center": old["mean"], "scale": old["std"]}
    inputs = {"scaler": params["scaler"], "downsample": p["downsample"], "patch_size": p["patch_size"],
              "id_col": p["id_column"], "time_col": p["time_column"], "n_features_in": state["n_features_in"],
              "fitted_scaler": fitted}
    pipeline = {"input_kind": "sequence", "inputs": inputs, "labels": state["classes"]}
    config = {"params": params, "network": config_from_v1(meta["config"]["model"])}
    return ({**meta, "config": config, "state": {"pipeline": pipeline, "history": state.get("history", []), "n_networks": 1}},
            {f"networks.0.{k}": t for k, t in tensors.items()})


@migration(2, "LSTMClassifier")
def _from_v2(meta: dict, tensors: dict) -> tuple[dict, dict]:
    """Format 2 (lstmkit 0.2): no ``architecture`` (the LSTM alone) and no ensembles."""
    config = dict(meta["config"])
    config["params"] = {**config["params"], "architecture": "lstm", "n_models": 1, "fcn_filters": [128, 256, 128],
                        "fcn_kernels": [8, 5, 3]}
    config["network"] = config_from_v2(config["network"])
    return {**meta, "config": config}, tensors


@migration(4, "LSTMClassifier")
def _from_v4(meta: dict, tensors: dict) -> tuple[dict, dict]:
    """Format 4 had no ``series_stats`` (off) and no ``static_size`` (0) in the network config."""
    config = dict(meta["config"])
    config["params"] = {**config["params"], "series_stats": False}
    config["network"] = config_from_v4(config["network"])
    return {**meta, "config": config}, tensors


@migration(7, "LSTMClassifier")
def _from_v7(meta: dict, tensors: dict) -> tuple[dict, dict]:
    """Format 7 had no ``minirocket``: those classifiers are the network alone (False)."""
    config = dict(meta["config"])
    config["params"] = {**config["params"], "minirocket": False}
    return {**meta, "config": config, "state": {**meta["state"], "minirocket": False}}, tensors
