"""ONNX export of lstmkit's recurrent layers and task networks, verified with onnxruntime.

How: the network is copied, each lstmkit LSTM/GRU/RNN in it is replaced by a TorchScript twin
(:mod:`lstmkit.export._twins`: the same equations, every variant, eval semantics) whose time
loop the TorchScript ONNX exporter keeps as an ONNX ``Loop``; the rest of the network is traced.
So the graph takes any batch size B and any length T (dynamic axes), per-row ``lengths`` where
the network reads them, and the recurrent state as inputs and outputs where the network carries
it, so that a stream continues across calls. (torch's dynamo exporter writes the example's
length into the output shape for LSTMs, and its exporter rejects packed sequences; this path
has neither problem.)

What each graph covers (inputs -> outputs) is :attr:`OnnxSpec.covers`; it is also written into
the file's metadata (``lstmkit.covers``). The estimators' pre- and post-processing (scaling,
vocabularies, thresholds, decoding loops) stays with the caller; ``docs/export.md`` lists it.

Every export is checked: onnxruntime runs the file on inputs of other batch sizes and lengths
than the example it was traced with, and the largest absolute difference from the PyTorch
network is returned (:class:`ExportReport`); past ``tolerance`` :func:`export_onnx` raises.
"""

from __future__ import annotations

import copy
import math
import os
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
from torch import Tensor, nn

from lstmkit.errors import ConfigError, ExportError, MissingDependencyError
from lstmkit.export._twins import RECURRENT_TYPES, twin_of
from lstmkit.nn import LSTM
from lstmkit.utils.io import atomic_write

__all__ = ["OnnxSpec", "ExportReport", "onnx_spec", "export_onnx", "OPSET"]

OPSET = 17
Example = Callable[[int, int, torch.Generator], Tensor]  # (B, T, generator) -> one input tensor


@dataclass
class OnnxSpec:
    """What to trace: ``module(*inputs) -> outputs`` (a tuple), with names and dynamic axes."""

    module: nn.Module
    inputs: list[tuple[str, Example]]
    outputs: list[str]
    dynamic_axes: dict[str, dict[int, str]]
    covers: str
    lengths_input: str | None = None  # the input holding per-row lengths, if any (checks use ragged rows)
    state_pairs: list[tuple[str, str]] = field(default_factory=list)  # (state input, output): a stream continues
    id_limits: dict[str, int] = field(default_factory=dict)  # integer-id inputs: ids must be below this


@dataclass
class ExportReport:
    """The checks run on an exported file: ``max_abs_error`` over every check (onnxruntime vs torch)."""

    path: str
    covers: str
    checks: list[tuple[str, float]]

    @property
    def max_abs_error(self) -> float:
        return max(err for _, err in self.checks)


# --- specs --------------------------------------------------------------------------------------
def _floats(*shape_of: Any) -> Example:
    def make(B: int, T: int, g: torch.Generator) -> Tensor:
        shape = [B if s == "B" else T if s == "T" else s for s in shape_of]
        return torch.randn(*shape, generator=g)
    return make


def _lengths(B: int, T: int, g: torch.Generator) -> Tensor:
    if B == 1:
        return torch.tensor([T])
    lens = torch.randint(1, T + 1, (B,), generator=g)
    lens[0] = T  # one full row, so T is the batch's length
    return lens


class _Layer(nn.Module):
    def __init__(self, layer: nn.Module, with_lengths: bool) -> None:
        super().__init__()
        self.layer, self.with_lengths, self.is_lstm = layer, with_lengths, isinstance(layer, LSTM)

    def forward(self, x: Tensor, *rest: Tensor) -> tuple[Tensor, ...]:
        lengths = rest[-1] if self.with_lengths else None
        if self.is_lstm:
            out, (h, c) = self.layer(x, (rest[0], rest[1]), lengths=lengths)
            return out, h, c
        out, h = self.layer(x, rest[0], lengths=lengths)
        return out, h


def _layer_spec(layer: nn.Module) -> OnnxSpec:
    LD = layer.num_layers * (2 if layer.bidirectional else 1)
    R = getattr(layer, "proj_size", 0) or layer.hidden_size
    x_axes = {0: "batch", 1: "time"} if layer.batch_first else {0: "time", 1: "batch"}
    x = _floats("B", "T", layer.input_size) if layer.batch_first else _floats("T", "B", layer.input_size)
    inputs = [("input", x), ("h0", _floats(LD, "B", R))]
    outputs = ["output", "h_n"]
    pairs = [("h0", "h_n")]
    if isinstance(layer, LSTM):
        inputs.append(("c0", _floats(LD, "B", layer.hidden_size)))
        outputs.append("c_n")
        pairs.append(("c0", "c_n"))
    inputs.append(("lengths", _lengths))
    axes = {"input": x_axes, "output": x_axes, "lengths": {0: "batch"}}
    for name in ("h0", "c0", "h_n", "c_n"):
        axes[name] = {1: "batch"}
    layout = "(B, T, F)" if layer.batch_first else "(T, B, F)"
    covers = (f"{type(layer).__name__} layer: input {layout}, initial state, lengths (B,) int64 (1..T) -> output, "
              "final state (each row's last valid step)")
    if layer.bidirectional:
        pairs = []  # the reverse direction reads the whole sequence: no stream continues across calls
    return OnnxSpec(_Layer(layer, True), inputs, outputs, axes, covers, "lengths", pairs)


class _PerLayerState(nn.Module):
    """A network carrying one (h, c) per layer: ``method(x, [(h, c), ...]) -> (*outputs, new state)``
    as ``(x, h0, c0, h1, c1, ...) -> (*outputs, h0', c0', ...)`` (the language model's ``forward``,
    the anomaly predictor's ``predict_ahead``)."""

    def __init__(self, net: nn.Module, method: str) -> None:
        super().__init__()
        self.net, self.method = net, method

    def forward(self, x: Tensor, *flat: Tensor) -> tuple[Tensor, ...]:
        state = [(flat[2 * k], flat[2 * k + 1]) for k in range(len(flat) // 2)]
        *outputs, new = getattr(self.net, self.method)(x, state)
        return (*outputs, *[t for hc in new for t in hc])


class _Reconstruction(nn.Module):
    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: Tensor) -> Tensor:
        return self.net.reconstruct(x, teacher_forcing=False)


class _Classifier(nn.Module):
    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        return self.net(x, lengths)


class _Tagger(nn.Module):
    def __init__(self, net: nn.Module, names: list[str]) -> None:
        super().__init__()
        self.net, self.names = net, names

    def forward(self, *inputs: Tensor) -> Tensor:
        return self.net.emissions(dict(zip(self.names, inputs)))


class _Forecaster(nn.Module):
    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, past: Tensor, *future: Tensor) -> tuple[Tensor, Tensor]:
        out = self.net.predict_batch(past, future[0] if future else None)
        return out["mean"], out["quantiles"]


class _ESRNN(nn.Module):
    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: Tensor) -> Tensor:
        return torch.sort(self.net(x), dim=-1).values


class _Music(nn.Module):
    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net, self.is_lstm = net, isinstance(net.core, LSTM)

    def forward(self, x: Tensor, *state: Tensor) -> tuple[Tensor, ...]:
        h, new = self.net(x, (state[0], state[1]) if self.is_lstm else state[0])
        logits = self.net.visible_bias(h)
        return (h, logits, *(new if self.is_lstm else (new,)))


class _Transcriber(nn.Module):
    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        return self.net(x, lengths)


class _Sequence(nn.Module):
    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class _EncoderDecoder(nn.Module):
    """Teacher-forced scoring of an encoder-decoder: (*encoder inputs, target prefix) -> logits."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, *inputs: Tensor) -> Tensor:
        return self.net(*inputs)[0]


def _stepping_decoder(network: nn.Module) -> None:
    c = network.config
    if getattr(c, "input_feeding", False) or getattr(c, "coverage", False):
        raise ConfigError(f"export: a {type(network).__name__} whose decoder steps (input_feeding or coverage) "
                          "cannot be exported yet (its loop would be unrolled to the traced length); the "
                          "default decoder (neither) exports")


def _ids(vocab: int) -> Example:
    def make(B: int, T: int, g: torch.Generator) -> Tensor:
        return torch.randint(1, vocab, (B, T), generator=g)
    return make


def _state_inputs(sizes: list[int], prefix: str = "") -> tuple[list[tuple[str, Example]], list[str], dict, list]:
    """Per-layer (h, c) inputs and outputs of (1, B, H_k)."""
    ins, outs, axes, pairs = [], [], {}, []
    for k, H in enumerate(sizes):
        for part in ("h", "c"):
            i, o = f"{part}{k}", f"{part}{k}_out"
            ins.append((i, _floats(1, "B", H)))
            outs.append(o)
            axes[i] = axes[o] = {1: "batch"}
            pairs.append((i, o))
    return ins, outs, axes, pairs


def onnx_spec(network: nn.Module) -> OnnxSpec:
    """The ONNX signature of an lstmkit layer or task network (see :attr:`OnnxSpec.covers`).

    Raises:
        ConfigError: a network lstmkit cannot export (its type is named).
    """
    name = type(network).__name__
    if isinstance(network, RECURRENT_TYPES):
        return _layer_spec(network)
    c = getattr(network, "config", None)
    if name == "LanguageModelNetwork":
        ins, outs, axes, pairs = _state_inputs(network.state_sizes)
        axes.update(tokens={0: "batch", 1: "time"}, logits={0: "batch", 1: "time"})
        return OnnxSpec(_PerLayerState(network, "forward"), [("tokens", _ids(c.vocab_size)), *ins], ["logits", *outs], axes,
                        "token ids (B, T) int64 and per-layer (h, c) (1, B, H_k) -> next-token logits (B, T, V) and "
                        "the new state; the caller maps text to ids (the vocabulary) and samples", None, pairs,
                        {"tokens": c.vocab_size})
    if name == "AnomalyNetwork":
        F = c.n_features
        if c.scorer == "reconstruction":
            axes = {"windows": {0: "batch"}, "reconstruction": {0: "batch"}}
            return OnnxSpec(_Reconstruction(network), [("windows", _floats("B", c.window, F))], ["reconstruction"],
                            axes, f"standardised windows (B, {c.window}, F) -> their free-running reconstruction; the "
                            "caller standardises, scores the errors and thresholds")
        ins, outs, axes, pairs = _state_inputs([c.hidden_size] * c.num_layers)
        axes.update(x={0: "batch", 1: "time"}, mean={0: "batch", 1: "time"}, scale={0: "batch", 1: "time"})
        return OnnxSpec(_PerLayerState(network, "predict_ahead"), [("x", _floats("B", "T", F)), *ins], ["mean", "scale", *outs], axes,
                        "standardised series (B, T, F) and per-layer (h, c) -> predictions of the next L points "
                        "(B, T, L, F), their scale, the new state; the caller standardises, scores and thresholds",
                        None, pairs)
    if name == "ClassifierNetwork":
        axes = {"x": {0: "batch", 1: "time"}, "lengths": {0: "batch"}, "logits": {0: "batch"}}
        return OnnxSpec(_Classifier(network), [("x", _floats("B", "T", c.input_size)), ("lengths", _lengths)],
                        ["logits"], axes, "scaled, right-padded sequences (B, T, F) and lengths (B,) int64 -> class "
                        "logits (B, C); the caller scales the features and maps indices to labels", "lengths")
    if name == "MiniRocketFusion":
        F = network.networks[0].config.input_size
        axes = {"x": {0: "batch", 1: "time"}, "lengths": {0: "batch"}, "log_probs": {0: "batch"}}
        return OnnxSpec(_Classifier(network), [("x", _floats("B", "T", F)), ("lengths", _lengths)], ["log_probs"], axes,
                        "scaled, right-padded sequences (B, T, F) and lengths (B,) int64 -> log class probabilities "
                        "(B, C) of the networks averaged with MiniRocket (the classifier's predict_proba); the caller "
                        "scales the features and maps indices to labels", "lengths")
    if name == "TaggerNetwork":
        if c.vocab_size:
            ins: list[tuple[str, Example]] = [("x", _ids(c.vocab_size))]
            if c.char_vocab_size:
                ins.append(("chars", lambda B, T, g: torch.randint(1, c.char_vocab_size, (B, T, 6), generator=g)))
        else:
            ins = [("x", _floats("B", "T", c.input_size))]
        ins.append(("lengths", _lengths))
        names = [n for n, _ in ins]
        axes = {n: {0: "batch", 1: "time"} for n in names if n != "lengths"}
        axes.update(lengths={0: "batch"}, emissions={0: "batch", 1: "time"})
        if "chars" in axes:
            axes["chars"][2] = "word_length"
        limits = {"x": c.vocab_size, "chars": c.char_vocab_size} if c.vocab_size else {}
        return OnnxSpec(_Tagger(network, names), ins, ["emissions"], axes,
                        "token ids (B, T) (+ character ids (B, T, W)) or features, lengths (B,) -> per-step tag "
                        "scores (B, T, C); the caller takes the argmax, or runs the CRF's Viterbi decode "
                        "(transitions in the model file) when the model has a CRF", "lengths", [],
                        {k: v for k, v in limits.items() if v})
    if name == "ForecasterNetwork":
        ins = [("past", _floats("B", "T", c.n_features))]
        axes = {"past": {0: "batch", 1: "time"}, "mean": {0: "batch"}, "quantiles": {0: "batch"}}
        if c.n_future:
            ins.append(("future", _floats("B", c.horizon, c.n_future)))
            axes["future"] = {0: "batch"}
        return OnnxSpec(_Forecaster(network), ins, ["mean", "quantiles"], axes,
                        f"scaled lookback windows (B, T, F) (+ known future covariates (B, {c.horizon}, K)) -> the "
                        f"point forecast (B, {c.horizon}) and quantiles (B, {c.horizon}, Q), scaled; the caller "
                        "scales and unscales (the fitted pipeline)")
    if name == "ESRNNNetwork":
        return OnnxSpec(_ESRNN(network), [("x", _floats("B", "T", 1))], ["quantiles"],
                        {"x": {0: "batch", 1: "time"}, "quantiles": {0: "batch"}},
                        f"deseasonalised, level-normalised log windows (B, T, 1) -> quantiles (B, {c.horizon}, Q) in "
                        "that space; the per-series exponential smoothing (ESRNNNetwork.smooth) stays with the caller, "
                        "like a scaler")
    if name == "MusicNetwork":
        core = network.core
        LD, H = core.num_layers, core.hidden_size
        ins = [("x", _floats("B", "T", c.input_size)), ("h0", _floats(LD, "B", H))]
        outs = ["hidden", "sounding_logits", "h_n"]
        pairs = [("h0", "h_n")]
        if isinstance(core, LSTM):
            ins.append(("c0", _floats(LD, "B", H)))
            outs.append("c_n")
            pairs.append(("c0", "c_n"))
        axes = {n: {1: "batch"} for n in ("h0", "c0", "h_n", "c_n")}
        axes.update(x={0: "batch", 1: "time"}, hidden={0: "batch", 1: "time"}, sounding_logits={0: "batch", 1: "time"})
        return OnnxSpec(_Music(network), ins, outs, axes,
                        "piano-roll frames (B, T, F) and the state -> core outputs (B, T, H), the per-pitch "
                        "logits of the next frame before the NADE/onset terms, the new state; the caller samples "
                        "frames (with NADE, pitch by pitch from the hidden outputs)", None, pairs)
    if name == "Seq2SeqNetwork":
        _stepping_decoder(network)
        axes = {"source": {0: "batch", 1: "source_time"}, "source_lengths": {0: "batch"},
                "target_in": {0: "batch", 1: "time"}, "logits": {0: "batch", 1: "time"}}
        return OnnxSpec(_EncoderDecoder(network), [("source", _ids(c.source_vocab_size)), ("source_lengths", _lengths),
                                                   ("target_in", _ids(c.target_vocab_size))], ["logits"], axes,
                        "source ids (B, S) int64 (<eos> last, 0-padded), their lengths (B,), and target prefixes "
                        "(B, T) starting with <bos> (id 2) -> next-token logits (B, T, V) at every prefix position; "
                        "the caller maps text to ids and decodes (greedy: feed the growing prefix, stop at <eos>, id 3)",
                        "source_lengths", [], {"source": c.source_vocab_size, "target_in": c.target_vocab_size})
    if name == "CaptionerNetwork":
        _stepping_decoder(network)
        shape = ("B", "T", c.in_channels, c.image_height, c.image_width) if c.video else \
            ("B", c.in_channels, c.image_height, c.image_width)
        axes = {"images": {0: "batch", **({1: "frames"} if c.video else {})}, "target_in": {0: "batch", 1: "time"},
                "logits": {0: "batch", 1: "time"}}
        kind = f"clips (B, F, {c.in_channels}, {c.image_height}, {c.image_width})" if c.video else \
            f"images (B, {c.in_channels}, {c.image_height}, {c.image_width})"
        return OnnxSpec(_EncoderDecoder(network), [("images", _floats(*shape)), ("target_in", _ids(c.vocab_size))],
                        ["logits"], axes, f"{kind} float in [0, 1] and caption prefixes (B, T) starting with <bos> "
                        "(id 2) -> next-word logits (B, T, V); the caller resizes the images and decodes (feed the "
                        "growing prefix, stop at <eos>, id 3)", None, [], {"target_in": c.vocab_size})
    if name == "TranscriberNetwork":
        k = c.downsample
        if c.input_kind == "image":
            x_in: Example = lambda B, T, g: torch.rand(B, 1, c.input_size, k * T, generator=g)  # noqa: E731
            x_axes, what = {0: "batch", 3: "time"}, f"grey line images (B, 1, {c.input_size}, W) in [0, 1], widths (B,)"
        else:
            x_in = lambda B, T, g: torch.randn(B, k * T, c.input_size, generator=g)  # noqa: E731
            x_axes, what = {0: "batch", 1: "time"}, f"standardised frames (B, T, {c.input_size}), lengths (B,)"
        axes = {"x": x_axes, "lengths": {0: "batch"}, "log_probs": {0: "batch", 1: "time"},
                "frames": {0: "batch"}}
        return OnnxSpec(_Transcriber(network), [("x", x_in), ("lengths", lambda B, T, g: _lengths(B, T, g) * k)],
                        ["log_probs", "frames"], axes,
                        f"{what} -> per-frame log-posteriors (B, T', V) (column 0 the CTC blank) and the frames of "
                        "each row; the caller normalises the input and decodes (best path or prefix beam search)",
                        "lengths")
    if name == "SequenceNetwork":
        return OnnxSpec(_Sequence(network), [("x", _floats("B", "T", c.input_size))], ["output"],
                        {"x": {0: "batch", 1: "time"}, "output": {0: "batch"}},
                        "sequences (B, T, F) -> the answer read at the last step (B, output_size)")
    raise ConfigError(f"export: lstmkit cannot export a {name} to ONNX (layers: LSTM, GRU, RNN; task networks: "
                      "language model, anomaly, classifier, tagger, forecaster, music, sequence, seq2seq, captioner, "
                      "transcriber)")


# --- export -------------------------------------------------------------------------------------
def _with_twins(network: nn.Module) -> nn.Module:
    """A copy of ``network`` with every lstmkit recurrent layer replaced by its twin."""
    net = copy.deepcopy(network)
    if isinstance(net, RECURRENT_TYPES):
        return twin_of(net)
    for parent in list(net.modules()):
        for child_name, child in list(parent.named_children()):
            if isinstance(child, RECURRENT_TYPES):
                setattr(parent, child_name, twin_of(child))
    return net


def _examples(spec: OnnxSpec, B: int, T: int, seed: int) -> list[Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [make(B, T, g) for _, make in spec.inputs]


def _require_onnx() -> Any:
    try:
        import onnx
        import onnxruntime
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(f"ONNX export needs onnx and onnxruntime ({e.name} is missing): "
                                     "pip install 'lstmkit[export]'") from None
    return onnx, onnxruntime


def export_onnx(network: nn.Module, path: str | os.PathLike, *, opset: int = OPSET, tolerance: float = 1e-4,
                metadata: dict[str, str] | None = None) -> ExportReport:
    """Export an lstmkit layer or task network to ONNX at ``path`` and check it with onnxruntime.

    The file is written atomically. Checks (all in float32, the exported precision): batch 1 and
    batch 64 with ragged lengths where the network reads lengths, two lengths T other than the
    traced one, and, for stateful networks, a stream continued across two onnxruntime calls (the
    state of the first passed to the second) against PyTorch over the whole sequence in one call.

    Raises:
        ConfigError: a network that cannot be exported; ExportError: a check beyond ``tolerance``
        (the file is not kept); MissingDependencyError: onnx or onnxruntime missing.
    """
    if not (isinstance(tolerance, (int, float)) and not isinstance(tolerance, bool) and math.isfinite(tolerance)
            and tolerance >= 0):
        raise ConfigError(f"tolerance must be a number >= 0, got {tolerance!r}")
    folder = os.path.dirname(os.path.abspath(os.fspath(path)))
    if not os.path.isdir(folder):
        raise ConfigError(f"export: the folder {folder!r} does not exist")
    if not os.access(folder, os.W_OK):
        raise ConfigError(f"export: the folder {folder!r} is not writable")
    onnx, ort = _require_onnx()
    reference = copy.deepcopy(network).float().eval()
    spec = onnx_spec(reference)  # spec.module runs the PyTorch network: the checks' reference
    module = _retarget(spec.module, reference, _with_twins(reference))  # the same, with the twins: traced
    example = tuple(_examples(spec, 2, 5, 0))
    path = os.fspath(path)
    checks: list[tuple[str, float]] = []

    def write(tmp: str) -> None:  # into atomic_write's temporary file; kept only if every check passes
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            traced = torch.jit.trace(module, example, check_trace=False)
            torch.onnx.export(traced, example, tmp, dynamo=False, opset_version=opset,
                              input_names=[n for n, _ in spec.inputs], output_names=spec.outputs,
                              dynamic_axes=spec.dynamic_axes)
        model = onnx.load(tmp)
        meta = {"lstmkit.network": type(network).__name__, "lstmkit.covers": spec.covers, **(metadata or {})}
        for k, v in meta.items():
            entry = model.metadata_props.add()
            entry.key, entry.value = k, str(v)
        onnx.checker.check_model(model)
        onnx.save(model, tmp)
        checks.extend(_check(spec, tmp, ort))
        worst = max(err for _, err in checks)
        if not np.isfinite(worst) or worst > tolerance:
            detail = "; ".join(f"{n}: {e:.2e}" for n, e in checks)
            raise ExportError(f"export: onnxruntime differs from PyTorch by {worst:.2e} > tolerance {tolerance:g} "
                              f"({detail}); the file was not written")

    try:
        atomic_write(path, write)
    except OSError as e:
        raise ConfigError(f"export: cannot write {path!r} ({e.strerror})") from None
    return ExportReport(path, spec.covers, checks)


def _retarget(adapter: nn.Module, original: nn.Module, twinned: nn.Module) -> nn.Module:
    """The adapter, pointed at the twinned copy of the network instead of the original."""
    adapter = copy.copy(adapter)
    adapter._modules = dict(adapter._modules)
    for key, mod in adapter._modules.items():
        if mod is original:
            adapter._modules[key] = twinned
    return adapter


def _run_torch(module: nn.Module, inputs: list[Tensor]) -> list[np.ndarray]:
    with torch.no_grad():
        out = module(*inputs)
    out = out if isinstance(out, tuple) else (out,)
    return [o.numpy() for o in out]


def _check(spec: OnnxSpec, path: str, ort: Any) -> list[tuple[str, float]]:
    """onnxruntime against the PyTorch network (``spec.module``) on inputs unlike the traced example."""
    module = spec.module
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    names = [n for n, _ in spec.inputs]
    checks = []

    def compare(label: str, inputs: list[Tensor]) -> list[np.ndarray]:
        got = sess.run(None, {n: t.numpy() for n, t in zip(names, inputs)})
        want = _run_torch(module, inputs)
        checks.append((label, max(float(np.abs(g - w).max()) if g.size else 0.0 for g, w in zip(got, want))))
        return got

    has_time = any(str(v).endswith("time") for n in names for v in spec.dynamic_axes.get(n, {}).values())
    for B, T, seed in ((1, 7, 1), (64, 3, 2), (64, 11, 3)):
        if not has_time and T == 11:
            continue  # a fixed-length input (the reconstruction detector's windows): one batch-64 check is enough
        compare(f"batch {B}, length {T}" if has_time else f"batch {B}", _examples(spec, B, T, seed))
    if spec.state_pairs:  # a stream continued across two calls equals one call over the whole sequence
        whole = _examples(spec, 3, 9, 4)
        time_axis = {n: ax for n, axes in spec.dynamic_axes.items() for ax, v in axes.items() if v == "time"}
        x_name = names[0]
        ax = time_axis.get(x_name, 1)
        first, second = list(whole), list(whole)
        first[0], second[0] = whole[0].narrow(ax, 0, 4), whole[0].narrow(ax, 4, 5)
        if spec.lengths_input:  # full rows: a split ragged row would not continue
            i = names.index(spec.lengths_input)
            whole[i], first[i], second[i] = torch.full((3,), 9), torch.full((3,), 4), torch.full((3,), 5)
        one = _run_torch(module, whole)  # PyTorch over the whole sequence
        a = sess.run(None, {n: t.numpy() for n, t in zip(names, first)})
        out_index = {n: i for i, n in enumerate(spec.outputs)}
        for k, (s_in, s_out) in enumerate(spec.state_pairs):
            second[names.index(s_in)] = torch.from_numpy(a[out_index[s_out]])
        b = sess.run(None, {n: t.numpy() for n, t in zip(names, second)})
        joined = np.concatenate([a[0], b[0]], axis=time_axis.get(spec.outputs[0], 1))
        err = float(np.abs(joined - one[0]).max())
        for s_in, s_out in spec.state_pairs:
            err = max(err, float(np.abs(b[out_index[s_out]] - one[out_index[s_out]]).max()))
        checks.append(("stream continued across two calls (vs PyTorch in one call)", err))
    return checks
