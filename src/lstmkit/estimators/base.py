"""The one base class of lstmkit's scikit-learn-style estimators.

:class:`Estimator` owns, once for every task: the ``trainer`` argument (None, a dict or a
:class:`~lstmkit.train.TrainerConfig`, merged over the estimator's ``trainer_defaults``;
nested ``trainer__<field>`` in ``get_params``/``set_params``, so ``clone`` and ``GridSearchCV``
work), the fit skeleton (check parameters -> fit the data pipeline -> build the network from
the data's dimensions -> train one network per ensemble member), batched prediction,
``save``/``load`` with one file layout, ``_check_fitted``, and the learned attributes.

A task estimator writes only:

- ``network_class`` (a :class:`~lstmkit.models.base.TaskModel`) and ``pipeline_class`` (a fitted
  pipeline of :mod:`lstmkit.data` with ``to_dict``/``from_dict``);
- ``trainer_defaults``;
- ``_check_params()`` for its own arguments;
- ``_prepare(*data) -> Prepared`` (validate, fit the pipeline, say the network's config and the
  training data);
- its ``fit`` signature (which calls ``self._fit(...)``), ``predict`` and output formatting.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator
from torch import nn
from sklearn.exceptions import NotFittedError as SklearnNotFittedError

from lstmkit.errors import ConfigError, ModelFileError, NotFittedError, suggest
from lstmkit.export.onnx import ExportReport, export_onnx
from lstmkit.models.base import TaskModel
from lstmkit.persist import config_from_dict, load_weights, migration, save_model
from lstmkit.train import Trainer, TrainerConfig
from lstmkit.train.run_record import write_run_record

__all__ = ["Estimator", "Prepared"]

class EstimatorNotFittedError(NotFittedError, SklearnNotFittedError):
    """lstmkit's NotFittedError that is also scikit-learn's (so sklearn's tools recognise it)."""


_TRAINER_FIELDS = tuple(f.name for f in dataclasses.fields(TrainerConfig))
_TRAINER_DEFAULTS = TrainerConfig().to_dict()


@dataclasses.dataclass
class Prepared:
    """What ``_prepare`` hands to the fit skeleton."""

    pipeline: Any  # the fitted data pipeline (becomes ``pipeline_``)
    network_config: Any  # the network's config dataclass, sized from the data
    train: Any  # a Dataset, or a callable (TrainerConfig) -> Dataset/DataLoader (e.g. seeded samplers)
    val: Any = None  # validation Dataset for early stopping, or None


class Estimator(BaseEstimator):
    """Base of every task estimator (see the module docstring for what a subclass writes).

    Learned attributes (``learned_attributes``, the same for every estimator, saved and loaded
    by :meth:`save` / :func:`lstmkit.load`): ``pipeline_`` (the fitted data pipeline),
    ``networks_`` (one trained network per ensemble member, in eval mode) and ``history_``
    (per-epoch metrics; a list of such lists for an ensemble).
    """

    network_class: ClassVar[type[TaskModel]]
    pipeline_class: ClassVar[type]
    trainer_defaults: ClassVar[dict[str, Any]] = {}
    learned_attributes: ClassVar[tuple[str, ...]] = ("pipeline_", "networks_", "history_")

    # --- parameters -------------------------------------------------------------------------
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """scikit-learn ``get_params``; with ``deep=True`` also ``trainer__<field>`` for every
        field of the effective trainer configuration."""
        params = super().get_params(deep=False)
        if deep:
            try:
                params.update({f"trainer__{k}": v for k, v in self.trainer_config().to_dict().items()})
            except ConfigError:  # an invalid trainer argument is reported by fit, not here
                pass
        return params

    def set_params(self, **params: Any) -> "Estimator":
        """scikit-learn ``set_params``, plus nested trainer fields: ``trainer__lr=1e-3``."""
        nested = {k.split("__", 1)[1]: params.pop(k) for k in list(params) if k.startswith("trainer__")}
        names = self._get_param_names()
        bad = [f"unknown parameter {k!r}{suggest(k, names)}" for k in params if k not in names]
        bad += [f"unknown trainer field {k!r}{suggest(k, _TRAINER_FIELDS)}" for k in nested if k not in _TRAINER_FIELDS]
        if bad:
            raise ConfigError(f"{type(self).__name__}.set_params: " + "; ".join(bad))
        super().set_params(**params)
        if nested:
            if isinstance(self.trainer, TrainerConfig):
                self.trainer = dataclasses.replace(self.trainer, **nested)
            else:
                self.trainer = {**self._trainer_overrides(), **nested}
        return self

    def _trainer_overrides(self) -> dict[str, Any]:
        """The trainer fields the user set: a dict as given; for a TrainerConfig, the fields that
        differ from TrainerConfig's own defaults (the others keep the estimator's defaults)."""
        t = self.trainer
        if t is None:
            return {}
        if isinstance(t, dict):
            unknown = [k for k in t if k not in _TRAINER_FIELDS]
            if unknown:
                raise ConfigError(f"trainer: unknown field(s) {unknown}{suggest(str(unknown[0]), _TRAINER_FIELDS)}")
            return dict(t)
        if isinstance(t, TrainerConfig):
            return {k: v for k, v in t.to_dict().items() if v != _TRAINER_DEFAULTS[k]}
        raise ConfigError(f"trainer must be a TrainerConfig, a dict or None, got {type(t).__name__}")

    def trainer_config(self) -> TrainerConfig:
        """The effective :class:`TrainerConfig`: ``trainer_defaults`` with the user's fields on top."""
        return TrainerConfig.from_dict({**self.trainer_defaults, **self._trainer_overrides()})

    def _check_params(self) -> None:
        """Validate this estimator's own arguments (ConfigError naming each bad one)."""

    def _check_seed(self) -> int:
        rs = getattr(self, "random_state", 0)
        if not isinstance(rs, (int, np.integer)) or isinstance(rs, bool):
            raise ConfigError(f"random_state must be an int, got {rs!r}")
        return int(rs)

    # --- fitting ----------------------------------------------------------------------------
    def _prepare(self, *data: Any) -> Prepared:
        raise NotImplementedError(f"{type(self).__name__} must implement _prepare(*data)")

    def _n_networks(self) -> int:
        return 1

    def _fit(self, *data: Any, resume: bool = False, run_subdir: str | None = None) -> "Estimator":
        """The fit skeleton: check -> fit the pipeline -> build networks -> train each member.

        Member ``k`` is seeded with ``random_state + k`` (the trainer's ``seed`` is set from it)
        and, with several members, checkpoints into ``run_dir/member-<k>``. ``resume=True``
        continues an interrupted fit from ``trainer.run_dir`` (the same data and settings give
        the same pipeline; finished members are read back, the others continue). ``run_subdir``:
        checkpoint into ``run_dir/run_subdir`` (an estimator that fits several candidates).
        """
        seed = self._check_seed()
        self._check_params()
        config = self.trainer_config()
        if resume and config.run_dir is None:
            raise ConfigError("resume=True needs a run folder: set trainer={'run_dir': ...} (CLI: --run-dir)")
        if run_subdir is not None and config.run_dir is not None:
            config = dataclasses.replace(config, run_dir=str(Path(config.run_dir) / run_subdir))
        prepared = self._prepare(*data)
        n = self._n_networks()
        networks, histories = [], []
        for k in range(n):
            cfg = dataclasses.replace(config, seed=seed + k)
            if n > 1 and config.run_dir is not None:
                cfg = dataclasses.replace(cfg, run_dir=str(Path(config.run_dir) / f"member-{k}"))
            torch.manual_seed(seed + k)
            network = self.network_class(prepared.network_config)
            train = prepared.train(cfg) if callable(prepared.train) else prepared.train
            history = Trainer(cfg).fit(network, train, prepared.val, resume=resume)
            networks.append(network.cpu().eval())
            if cfg.run_dir is not None:
                self._record_run(cfg.run_dir, network, prepared, train)
            histories.append(list(history) if history is not None else [])
        self.pipeline_ = prepared.pipeline
        self.networks_ = networks
        self.history_ = histories[0] if len(histories) == 1 else histories
        return self

    def _record_run(self, run_dir: str, network: TaskModel, prepared: Prepared, train: Any) -> None:
        """Leave the evaluation table and a few samples for ``lstmkit report`` in ``run_dir``
        (see :mod:`lstmkit.train.run_record`), on the data :meth:`_record_data` names."""
        picked = self._record_data(prepared, train)
        if picked is not None:
            write_run_record(run_dir, network, picked[0], split=picked[1], baselines=self._baselines(prepared),
                             notes=self._record_notes())

    def _record_data(self, prepared: Prepared, train: Any) -> tuple[Any, str] | None:
        """(map-style Dataset with ``collate``, what it is in words) for the run record, or None.

        The validation split when the estimator kept one, else the training data (and the table
        says so); None when that is not a dataset of samples.
        """
        data, split = prepared.val, "validation split (held out from training, used for early stopping)"
        if data is None:
            data, split = train, "training data (no validation split was kept), so these are figures on seen data"
        if (isinstance(data, torch.utils.data.Dataset) and not isinstance(data, torch.utils.data.IterableDataset)
                and hasattr(data, "collate")):
            return data, split
        return None

    def _baselines(self, prepared: Prepared) -> Callable[[dict[str, torch.Tensor]], list[tuple[str, dict[str, float]]]] | None:
        """Baselines for the run record: a function (collated batch) -> [(name, metrics)] (none by default)."""
        return None

    def _record_notes(self) -> dict[str, Any]:
        """Extra fields of ``evaluation.json`` (e.g. the space the errors are measured in)."""
        return {}

    def _check_fitted(self) -> None:
        if not all(hasattr(self, a) for a in self.learned_attributes):
            raise EstimatorNotFittedError(f"this {type(self).__name__} is not fitted yet; call fit first")

    def __sklearn_is_fitted__(self) -> bool:
        return all(hasattr(self, a) for a in self.learned_attributes)

    @property
    def network_(self) -> TaskModel:
        """The (first) trained network."""
        self._check_fitted()
        return self.networks_[0]

    # --- prediction -------------------------------------------------------------------------
    @staticmethod
    def _batched(items: Sequence[Any], run: Callable[[list[Any]], Sequence[Any]], *, batch_size: int = 256,
                 length: Callable[[Any], int] = len) -> list[Any]:
        """``run`` over batches of similar length (sorted, so little padding); results in input order."""
        order = np.argsort([length(a) for a in items], kind="stable")
        out: list[Any] = [None] * len(items)
        for start in range(0, len(items), batch_size):
            idx = order[start : start + batch_size]
            for i, r in zip(idx, run([items[i] for i in idx])):
                out[i] = r
        return out

    # --- export -----------------------------------------------------------------------------
    def to_onnx(self, path: str | os.PathLike, *, member: int | None = None, tolerance: float = 1e-4) -> ExportReport:
        """Export the trained network to an ONNX file, checked with onnxruntime
        (:func:`lstmkit.export.onnx.export_onnx`: any batch size and length; the recurrent state as
        inputs and outputs where the network carries it).

        The graph is :meth:`onnx_network`: the network (for a classifier with MiniRocket, every
        network and MiniRocket, combined as ``predict_proba`` combines them). The returned
        report's ``covers`` (also in the file's metadata) says what goes in and out, and
        ``docs/export.md`` what the caller does around it (scaling, vocabulary, thresholds,
        decoding). The fitted pipeline is written into the file's
        metadata as JSON (``lstmkit.pipeline``) when it has one.

        Args:
            member: for an ensemble (several networks) that :meth:`onnx_members` lists one by one,
                which one to export (the caller averages the members' outputs); required then,
                ignored for a single network.

        Raises:
            NotFittedError; ConfigError: ``member`` missing for an ensemble or out of range;
            ExportError: onnxruntime disagrees with PyTorch beyond ``tolerance`` (nothing written);
            MissingDependencyError: onnx or onnxruntime missing (``pip install 'lstmkit[export]'``).
        """
        self._check_fitted()
        metadata = {"lstmkit.estimator": type(self).__name__}
        pipe = getattr(self, "pipeline_", None)
        if pipe is not None and hasattr(pipe, "to_dict"):
            metadata["lstmkit.pipeline"] = json.dumps(pipe.to_dict(), default=_jsonable)
        return export_onnx(self.onnx_network(member), path, tolerance=tolerance, metadata=metadata)

    def onnx_members(self) -> list[int | None]:
        """The ``member`` values that export the whole model (one file each): [None] when one graph
        holds it, else 0..n-1 for an ensemble of n networks (the caller averages their outputs)."""
        self._check_fitted()
        n = len(self.networks_)
        return [None] if n == 1 else list(range(n))

    def onnx_network(self, member: int | None = None) -> nn.Module:
        """The module :meth:`to_onnx` exports and ``lstmkit serve`` runs, on model input (scaled,
        as the pipeline gives it): network ``member`` (required for an ensemble; see
        :meth:`onnx_members`). Raises ConfigError for a missing or bad ``member``."""
        n = len(self.networks_)
        if n > 1 and member is None:
            raise ConfigError(f"to_onnx: this {type(self).__name__} averages {n} networks; export each with "
                              f"to_onnx(path, member=k) for k in 0..{n - 1} and average their outputs")
        k = 0 if member is None else member
        if not isinstance(k, int) or isinstance(k, bool) or not 0 <= k < n:
            raise ConfigError(f"member must be an int in 0..{n - 1}, got {member!r}")
        return self.networks_[k]

    # --- persistence ------------------------------------------------------------------------
    def save(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write the fitted estimator to directory ``path`` (see :func:`lstmkit.persist.save_model`:
        an existing path must be empty or an lstmkit model unless ``overwrite=True``)."""
        self._check_fitted()
        return save_model(self, path, overwrite=overwrite)

    def _params_to_json(self, params: dict[str, Any]) -> dict[str, Any]:
        """``get_params(deep=False)`` as JSON values (subclasses add their own conversions)."""
        out = dict(params)
        t = out.get("trainer")
        if isinstance(t, TrainerConfig):  # keep the type: a TrainerConfig comes back as one
            out["trainer"] = {"__class__": "TrainerConfig", **t.to_dict()}
        return {k: list(v) if isinstance(v, tuple) else v.item() if isinstance(v, np.generic) else v
                for k, v in out.items()}

    @classmethod
    def _params_from_json(cls, params: dict[str, Any]) -> dict[str, Any]:
        params = dict(params)
        t = params.get("trainer")
        if isinstance(t, dict) and t.get("__class__") == "TrainerConfig":
            params["trainer"] = config_from_dict(TrainerConfig, {k: v for k, v in t.items() if k != "__class__"},
                                                 where="trainer config")
        return params

    def _saved_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor], dict[str, Any]]:
        self._check_fitted()
        config = {"params": self._params_to_json(self.get_params(deep=False)),
                  "network": self.networks_[0].get_config()}
        tensors = {f"networks.{k}.{n}": t for k, net in enumerate(self.networks_) for n, t in net.state_dict().items()}
        state = {"pipeline": self.pipeline_.to_dict(), "history": self.history_, "n_networks": len(self.networks_)}
        return config, tensors, state

    @classmethod
    def _from_saved(cls, config: dict, tensors: dict[str, torch.Tensor], state: dict) -> "Estimator":
        est = cls(**cls._params_from_json(config["params"]))
        try:  # a hand-edited config.json is caught here, not by a confusing error at prediction time
            est._check_params()
        except ConfigError as e:
            raise ModelFileError(f"config.json holds parameters this {cls.__name__} does not accept: {e}") from None
        net_config = config_from_dict(cls.network_class.config_class, config["network"], where="network config")
        networks = []
        for k in range(int(state["n_networks"])):
            net = cls.network_class(net_config)
            prefix = f"networks.{k}."
            load_weights(net, {n[len(prefix):]: t for n, t in tensors.items() if n.startswith(prefix)})
            networks.append(net.eval())
        est.pipeline_ = cls.pipeline_class.from_dict(state["pipeline"])
        est.networks_ = networks
        est.history_ = state["history"]
        return est


def _jsonable(value: Any) -> Any:
    """numpy values in a pipeline's dict, for json.dumps."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


@migration(4, "*")
def _trainer_from_v4(meta: dict, tensors: dict) -> tuple[dict, dict]:
    """Format 4 had no ``TrainerConfig.group_by_length``: a saved TrainerConfig gets its default
    (off, which is how those models were trained)."""
    config = meta.get("config")
    params = config.get("params") if isinstance(config, dict) else None
    trainer = params.get("trainer") if isinstance(params, dict) else None
    if isinstance(trainer, dict) and trainer.get("__class__") == "TrainerConfig":
        params = {**params, "trainer": {**trainer, "group_by_length": False}}
        meta = {**meta, "config": {**config, "params": params}}
    return meta, tensors
