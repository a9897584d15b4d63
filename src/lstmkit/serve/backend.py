"""The server's compute: a network's ONNX signature (:func:`lstmkit.export.onnx.onnx_spec`) run
on numpy arrays by PyTorch or by onnxruntime, with what the server needs to know about each input
(batch and time axes, dtype, the shape of one request's part)."""

from __future__ import annotations

import copy
import os
import tempfile
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from lstmkit.errors import ConfigError, MissingDependencyError
from lstmkit.export.onnx import export_onnx, onnx_spec

__all__ = ["Backend", "InputInfo", "BACKENDS"]

BACKENDS = ("torch", "onnx")


@dataclass(frozen=True)
class InputInfo:
    """One graph input: its batch and time axes (None: none), dtype, and one request's shape
    (the graph shape without the batch axis; None where the length is free)."""

    name: str
    batch_axis: int | None
    time_axis: int | None
    dtype: np.dtype
    request_shape: tuple[int | None, ...]
    zeros: np.ndarray  # a batch-1 example of zeros (the initial state of a stream)


class Backend:
    """``run(feeds) -> outputs`` for batched numpy feeds, by ``kind`` "torch" or "onnx".

    The onnx backend exports the network at start-up (checked against PyTorch, as
    ``lstmkit export`` does) into ``workdir`` (default: a temporary folder).

    Raises:
        ConfigError: an unknown kind, or a network without an ONNX signature.
        MissingDependencyError: onnxruntime missing for ``kind="onnx"``.
    """

    def __init__(self, network: nn.Module, kind: str = "torch", *, workdir: str | os.PathLike | None = None) -> None:
        if kind not in BACKENDS:
            raise ConfigError(f"backend must be one of {list(BACKENDS)}, got {kind!r}")
        self.kind = kind
        net = copy.deepcopy(network).float().eval()
        self.spec = onnx_spec(net)
        spec = self.spec
        self.network_name = type(network).__name__
        self.output_names = list(spec.outputs)
        self.state_pairs = list(spec.state_pairs)
        state_inputs = {i for i, _ in spec.state_pairs}
        self.state_outputs = {o for _, o in spec.state_pairs}
        g = torch.Generator().manual_seed(0)
        self.inputs: dict[str, InputInfo] = {}
        for name, make in spec.inputs:
            axes = spec.dynamic_axes.get(name, {})
            b = next((ax for ax, v in axes.items() if v == "batch"), None)
            t = next((ax for ax, v in axes.items() if v == "time"), None)
            example = make(1, 1, g).numpy()
            shape = [None if ax == t else int(n) for ax, n in enumerate(example.shape)]
            if b is not None:
                del shape[b]
            self.inputs[name] = InputInfo(name, b, t, example.dtype, tuple(shape), np.zeros_like(example))
        self.state_inputs = [n for n in self.inputs if n in state_inputs]
        self.request_inputs = [n for n in self.inputs if n not in state_inputs and n != spec.lengths_input]
        self.lengths_input = spec.lengths_input
        self.output_batch_axis = {n: next((ax for ax, v in spec.dynamic_axes.get(n, {}).items() if v == "batch"), 0)
                                  for n in spec.outputs}
        self.id_limits = dict(spec.id_limits)  # integer-id inputs: ids below this
        if kind == "torch":
            self._module = spec.module
            self._session = None
        else:
            try:
                import onnxruntime as ort
            except ImportError:
                raise MissingDependencyError("the onnx backend needs onnxruntime: pip install 'lstmkit[export]'") from None
            self._tmp = tempfile.TemporaryDirectory(prefix="lstmkit-serve-") if workdir is None else None
            folder = self._tmp.name if workdir is None else os.fspath(workdir)
            path = os.path.join(folder, "model.onnx")
            self.export_report = export_onnx(network, path)
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = max(1, torch.get_num_threads())
            self._session = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
            self._module = None

    @property
    def streaming(self) -> bool:
        """Does the network carry a state that continues across calls?"""
        return bool(self.state_pairs)

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Batched feeds (every input by name) -> every output by name."""
        names = list(self.inputs)
        if self._session is not None:
            out = self._session.run(None, {n: feeds[n] for n in names})
        else:
            with torch.no_grad():
                res = self._module(*[torch.from_numpy(np.ascontiguousarray(feeds[n])) for n in names])
            res = res if isinstance(res, tuple) else (res,)
            out = [r.numpy() for r in res]
        return dict(zip(self.output_names, out))

    def describe(self) -> dict[str, Any]:
        """What ``GET /v1/model`` shows."""
        return {
            "network": self.network_name,
            "backend": self.kind,
            "covers": self.spec.covers,
            "streaming": self.streaming,
            "inputs": {n: {"shape": list(self.inputs[n].request_shape), "dtype": self.inputs[n].dtype.name,
                           **({"ids_below": self.id_limits[n]} if n in self.id_limits else {})}
                       for n in self.request_inputs},
            "outputs": [n for n in self.output_names if n not in self.state_outputs],
        }
