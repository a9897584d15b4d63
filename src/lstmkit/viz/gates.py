"""See inside the memory: the gates and the cell state of an LSTM, step by step.

:func:`record_gates` runs a network (or an :class:`lstmkit.nn.LSTM`) on some input and returns
the :class:`~lstmkit.nn.LSTMGates` of its first lstmkit LSTM, each (L*D, T, B, H). The plots
take those gates and pick one sequence ``b`` and one layer/direction ``index`` (k = layer *
num_directions + direction, as in h_n):

* :func:`plot_gates`: heat maps (unit x time) of the input, forget and output gates and of the
  cell state c_t for one sequence, optionally with the input above them;
* :func:`unit_summary`, :func:`top_units`: how active and how saturated each unit is
  (a gate is left-saturated below 0.1 and right-saturated above 0.9, as in Karpathy, Johnson
  and Fei-Fei, "Visualizing and understanding recurrent networks", 2015);
* :func:`plot_saturation`: that paper's scatter of left- vs right-saturation per unit and gate;
* :func:`plot_cell_trace`: the cell state of one unit over a long input, with its forget and
  input gates and optional marker steps;
* :func:`text_activation_html`: for character (or token) models, the text with each character
  shaded by a unit's activation (Karpathy et al.'s coloured text), as plain HTML.

Static figures are matplotlib (Agg backend), written atomically as PNG or SVG by
:func:`~lstmkit.viz.save_figure`. Interactive versions (hover values, zoom) are plotly figures
(:func:`plot_gates_interactive`, :func:`plot_cell_trace_interactive`), written by
:func:`save_html` as one offline HTML file with plotly.js inlined (no CDN); plotly is the
optional ``viz`` extra (``pip install lstmkit[viz]``).
"""

from __future__ import annotations

import html as _html
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from lstmkit.errors import ConfigError
from lstmkit.nn import LSTM, LSTMGates
from lstmkit.utils.io import atomic_write
from lstmkit.viz.forecast import _plt, save_figure

__all__ = [
    "record_gates",
    "gate_arrays",
    "unit_summary",
    "top_units",
    "plot_gates",
    "plot_saturation",
    "plot_cell_trace",
    "plot_gates_interactive",
    "plot_cell_trace_interactive",
    "save_html",
    "text_activation_html",
    "GATE_PANELS",
]

# Panels plot_gates can draw, in the order of the LSTM equations; "hidden" is h_t = o_t * tanh(c_t).
GATE_PANELS = ("input_gate", "forget_gate", "output_gate", "candidate", "cell", "hidden")
_DEFAULT_PANELS = ("input_gate", "forget_gate", "output_gate", "cell")
_TITLES = {"input_gate": "input gate i_t", "forget_gate": "forget gate f_t", "output_gate": "output gate o_t",
           "candidate": "candidate g_t", "cell": "cell state c_t", "hidden": "hidden state h_t"}
_SIGMOIDS = ("input_gate", "forget_gate", "output_gate")
LOW, HIGH = 0.1, 0.9  # saturation thresholds of a sigmoid gate


def record_gates(module: nn.Module, *inputs: Any, **kwargs: Any) -> LSTMGates:
    """Run ``module`` on ``inputs`` and return the gates of its first :class:`lstmkit.nn.LSTM`.

    ``module`` is an lstmkit LSTM (called with ``return_gates=True``) or any network holding
    one (a task network such as ``SequenceNetwork``, or an estimator's ``network_``): the
    network runs once in eval mode without gradients, the input its LSTM receives is recorded,
    and the LSTM runs again on that input with ``return_gates=True``. So an embedding, scaler
    or encoder in front of the LSTM is accounted for.

    Returns:
        :class:`~lstmkit.nn.LSTMGates`, each (L*D, T, B, H) float tensors on the CPU, detached.

    Raises:
        ConfigError: ``module`` holds no lstmkit LSTM (a GRU or vanilla RNN has no gates to
            show), or the network never called its LSTM.
    """
    lstm = module if isinstance(module, LSTM) else next((m for m in module.modules() if isinstance(m, LSTM)), None)
    if lstm is None:
        raise ConfigError(f"module must be an lstmkit.nn.LSTM or a network holding one; {type(module).__name__} holds "
                          "none (GRU and vanilla RNN cells have no gates to show)")
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            if lstm is module:
                call_args, call_kwargs = inputs, kwargs
            else:
                seen: list[tuple[tuple, dict]] = []

                def hook(_mod: nn.Module, args: tuple, kw: dict) -> None:
                    if not seen:
                        seen.append((args, dict(kw)))

                handle = lstm.register_forward_pre_hook(hook, with_kwargs=True)
                try:
                    module(*inputs, **kwargs)
                finally:
                    handle.remove()
                if not seen:
                    raise ConfigError(f"{type(module).__name__} did not call its LSTM on this input; pass the LSTM itself")
                call_args, call_kwargs = seen[0]
            call_kwargs = {k: v for k, v in call_kwargs.items() if k != "return_gates"}
            _, _, gates = lstm(*call_args, **call_kwargs, return_gates=True)
    finally:
        module.train(was_training)
    return LSTMGates(*(g.detach().float().cpu() for g in gates))


def _batched(gates: LSTMGates) -> LSTMGates:
    if not isinstance(gates, LSTMGates):
        raise ConfigError(f"gates must be the LSTMGates that LSTM(..., return_gates=True) or record_gates returns, "
                          f"got {type(gates).__name__}")
    gates = LSTMGates(*(g.detach().float().cpu() for g in gates))  # gates straight from a forward pass need grad
    if gates.cell.dim() == 3:  # unbatched (L*D, T, H) -> (L*D, T, 1, H)
        return LSTMGates(*(g.unsqueeze(2) for g in gates))
    return gates


def _check_pick(gates: LSTMGates, sequence: int | None, index: int) -> None:
    n_index, _, n_seq, _ = gates.cell.shape
    problems = []
    if not isinstance(index, int) or not 0 <= index < n_index:
        problems.append(f"index must be an int in [0, {n_index}) (layer * num_directions + direction), got {index!r}")
    if sequence is not None and (not isinstance(sequence, int) or not 0 <= sequence < n_seq):
        problems.append(f"sequence must be an int in [0, {n_seq}) (the batch holds {n_seq}), got {sequence!r}")
    if problems:
        raise ConfigError("; ".join(problems))


def gate_arrays(gates: LSTMGates, *, sequence: int = 0, index: int = 0) -> dict[str, np.ndarray]:
    """The panels of one sequence and one layer/direction as NumPy arrays, each (T, H).

    Keys: :data:`GATE_PANELS` (``hidden`` is computed as output_gate * tanh(cell)).

    Raises:
        ConfigError: ``sequence`` or ``index`` out of range.
    """
    gates = _batched(gates)
    _check_pick(gates, sequence, index)
    out = {name: getattr(gates, name)[index, :, sequence].numpy() for name in GATE_PANELS if name != "hidden"}
    out["hidden"] = out["output_gate"] * np.tanh(out["cell"])  # (T, H)
    return out


def _valid(gates: LSTMGates, index: int) -> np.ndarray:
    # (T, B): steps inside each sequence; past the length every gate is exactly 0 (a sigmoid never is).
    return (gates.input_gate[index] != 0).any(-1).numpy()


def unit_summary(gates: LSTMGates, *, index: int = 0, sequences: Sequence[int] | None = None,
                 low: float = LOW, high: float = HIGH) -> pd.DataFrame:
    """Per unit: how active and how saturated it is, over the steps of the chosen sequences.

    Padded steps (past a sequence's length) are left out.

    Args:
        gates: from :func:`record_gates` or ``LSTM(..., return_gates=True)``.
        index: layer * num_directions + direction.
        sequences: batch positions to pool (default: all).
        low: a sigmoid gate below ``low`` is left-saturated (closed).
        high: a sigmoid gate above ``high`` is right-saturated (open).

    Returns:
        DataFrame indexed by ``unit`` (0..H-1) with columns ``activity`` (mean |h_t|),
        ``cell_absmax`` (max |c_t|), ``cell_std`` (std of c_t over the steps), for each gate
        ``<gate>_low`` and ``<gate>_high`` (share of steps saturated), and ``saturation``
        (mean over the three gates of low + high, in [0, 1]).

    Raises:
        ConfigError: bad ``index``/``sequences``, or ``low >= high``.
    """
    gates = _batched(gates)
    _check_pick(gates, None, index)
    n_seq = gates.cell.shape[2]
    seqs = list(range(n_seq)) if sequences is None else list(sequences)
    bad = [s for s in seqs if not isinstance(s, (int, np.integer)) or not 0 <= s < n_seq]
    if bad or not seqs:
        raise ConfigError(f"sequences must be batch positions in [0, {n_seq}), got {list(sequences or [])!r}")
    if not 0 <= low < high <= 1:
        raise ConfigError(f"low and high must satisfy 0 <= low < high <= 1, got low={low!r}, high={high!r}")
    mask = _valid(gates, index)[:, seqs]  # (T, S)

    def steps(t: torch.Tensor) -> np.ndarray:
        return t[index][:, seqs].numpy()[mask]  # (N_steps, H)

    cell, out_gate = steps(gates.cell), steps(gates.output_gate)
    hidden = out_gate * np.tanh(cell)
    table = {"activity": np.abs(hidden).mean(0), "cell_absmax": np.abs(cell).max(0), "cell_std": cell.std(0)}
    sat = []
    for name in _SIGMOIDS:
        g = steps(getattr(gates, name))
        table[f"{name}_low"] = (g < low).mean(0)
        table[f"{name}_high"] = (g > high).mean(0)
        sat.append(table[f"{name}_low"] + table[f"{name}_high"])
    table["saturation"] = np.mean(sat, axis=0)
    frame = pd.DataFrame(table)
    frame.index.name = "unit"
    return frame


def top_units(gates: LSTMGates, k: int = 8, *, by: str = "activity", index: int = 0,
              sequences: Sequence[int] | None = None) -> list[int]:
    """The ``k`` units with the largest ``by`` column of :func:`unit_summary` ("activity",
    "saturation", "cell_std", "cell_absmax", ...), largest first.

    Raises:
        ConfigError: ``k`` not a positive int, or an unknown ``by``.
    """
    if not isinstance(k, int) or k <= 0:
        raise ConfigError(f"k must be a positive int, got {k!r}")
    summary = unit_summary(gates, index=index, sequences=sequences)
    if by not in summary.columns:
        raise ConfigError(f"by must be a column of unit_summary {list(summary.columns)}, got {by!r}")
    return [int(u) for u in summary[by].sort_values(ascending=False, kind="stable").index[:k]]


def _units(gates: LSTMGates, units: Sequence[int] | None, max_units: int, index: int, sequence: int) -> list[int]:
    hidden = gates.cell.shape[-1]
    if units is None:
        if hidden <= max_units:
            return list(range(hidden))
        return sorted(top_units(gates, max_units, by="activity", index=index, sequences=[sequence]))
    units = list(units)
    bad = [u for u in units if not isinstance(u, (int, np.integer)) or not 0 <= u < hidden]
    if bad or not units:
        raise ConfigError(f"units must be unit numbers in [0, {hidden}), got {units!r}")
    return [int(u) for u in units]


def _check_panels(panels: Sequence[str]) -> list[str]:
    panels = list(panels)
    bad = [p for p in panels if p not in GATE_PANELS]
    if bad or not panels:
        raise ConfigError(f"panels must be names from {list(GATE_PANELS)}, got {panels!r}")
    return panels


def _inputs_array(inputs: Any, steps: int) -> np.ndarray | None:
    if inputs is None:
        return None
    arr = np.asarray(inputs.detach().cpu() if isinstance(inputs, torch.Tensor) else inputs, dtype=float)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] != steps:
        raise ConfigError(f"inputs must be one sequence's input, ({steps}, F) or ({steps},), got shape {arr.shape}")
    return arr


def plot_gates(gates: LSTMGates, *, sequence: int = 0, index: int = 0, units: Sequence[int] | None = None,
               max_units: int = 32, panels: Sequence[str] = _DEFAULT_PANELS, inputs: Any = None,
               input_names: Sequence[str] | None = None, title: str | None = None,
               path: str | os.PathLike | None = None) -> Any:
    """Heat maps (unit x time) of the gates and the cell state of one sequence.

    One row per panel, time on the x-axis; sigmoid gates on a fixed 0..1 scale (dark: closed),
    the cell state on a diverging scale symmetric about 0. Each panel's image holds exactly
    ``gate_arrays(gates)[panel][:, units].T``.

    Args:
        gates: from :func:`record_gates` or ``LSTM(..., return_gates=True)``, (L*D, T, B, H).
        sequence: batch position b; index: layer * num_directions + direction.
        units: units to show, in this order (default: all when H <= ``max_units``, else the
            ``max_units`` most active, in unit order).
        panels: names from :data:`GATE_PANELS`.
        inputs: this sequence's input, (T, F) or (T,), drawn as lines above the heat maps.
        input_names: legend names of the F input features.
        title: figure title; path: also write the figure there (.png or .svg).

    Returns:
        The matplotlib Figure (one Axes per input/panel, then one per colour bar).

    Raises:
        ConfigError: bad ``sequence``/``index``/``units``/``panels``, ``inputs`` of the wrong
            length, a bad ``path`` suffix.
    """
    arrays = gate_arrays(gates, sequence=sequence, index=index)
    panels = _check_panels(panels)
    chosen = _units(_batched(gates), units, max_units, index, sequence)
    steps = arrays["cell"].shape[0]
    x_in = _inputs_array(inputs, steps)
    plt = _plt()
    rows = len(panels) + (x_in is not None)
    height = max(1.4, min(3.2, 0.12 * len(chosen) + 0.8))
    fig, axes = plt.subplots(rows, 1, figsize=(10, height * rows + 0.6), sharex=True, squeeze=False)
    axes = list(axes[:, 0])
    if x_in is not None:
        ax = axes.pop(0)
        names = list(input_names) if input_names is not None else [f"x[{j}]" for j in range(x_in.shape[1])]
        for j in range(x_in.shape[1]):
            ax.plot(np.arange(steps), x_in[:, j], lw=0.9, label=names[j] if j < len(names) else f"x[{j}]")
        ax.set_ylabel("input")
        ax.legend(loc="upper right", fontsize=7, ncol=min(4, x_in.shape[1]))
    for ax, name in zip(axes, panels):
        data = arrays[name][:, chosen].T  # (units, T)
        if name in _SIGMOIDS:
            im = ax.imshow(data, aspect="auto", interpolation="nearest", cmap="viridis", vmin=0.0, vmax=1.0)
        else:
            vmax = float(np.abs(data).max()) or 1.0
            im = ax.imshow(data, aspect="auto", interpolation="nearest", cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        ax.set_ylabel(f"{_TITLES[name]}\nunit", fontsize=8)
        ticks = np.linspace(0, len(chosen) - 1, min(len(chosen), 8)).round().astype(int)
        ax.set_yticks(ticks, [str(chosen[t]) for t in ticks], fontsize=7)
        fig.colorbar(im, ax=ax, pad=0.01, fraction=0.03)
    axes[-1].set_xlabel("time step t")
    fig.suptitle(title or f"LSTM gates and cell state: sequence {sequence}, layer/direction {index}")
    if path is not None:
        save_figure(fig, path)
    return fig


def plot_saturation(gates: LSTMGates, *, index: int = 0, sequences: Sequence[int] | None = None, k: int = 5,
                    title: str | None = None, path: str | os.PathLike | None = None) -> Any:
    """Per gate, one point per unit: share of steps left-saturated (< 0.1) against
    right-saturated (> 0.9); the ``k`` most saturated units are labelled.

    A unit near the top-left corner keeps its gate open (a forget gate there remembers); the
    diagonal x + y = 1 holds units that switch their gate hard between closed and open.

    Returns:
        The matplotlib Figure (three Axes: input, forget, output gate).

    Raises:
        ConfigError: bad ``index``/``sequences``/``k``, a bad ``path`` suffix.
    """
    summary = unit_summary(gates, index=index, sequences=sequences)
    labelled = top_units(gates, k, by="saturation", index=index, sequences=sequences)
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.8), sharex=True, sharey=True)
    for ax, name in zip(axes, _SIGMOIDS):
        lo, hi = summary[f"{name}_low"].to_numpy(), summary[f"{name}_high"].to_numpy()
        ax.scatter(lo, hi, s=14, alpha=0.6, c=summary["activity"].to_numpy(), cmap="viridis")
        for u in labelled:
            ax.annotate(str(u), (lo[u], hi[u]), fontsize=7, xytext=(2, 2), textcoords="offset points")
        ax.plot([0, 1], [1, 0], color="0.8", lw=0.8, zorder=0)
        ax.set_xlim(-0.03, 1.03)
        ax.set_ylim(-0.03, 1.03)
        ax.set_title(_TITLES[name], fontsize=10)
        ax.set_xlabel(f"fraction < {LOW} (closed)")
    axes[0].set_ylabel(f"fraction > {HIGH} (open)")
    fig.suptitle(title or f"Gate saturation per unit (labelled: the {k} most saturated)")
    if path is not None:
        save_figure(fig, path)
    return fig


def _check_unit(gates: LSTMGates, unit: int) -> None:
    hidden = gates.cell.shape[-1]
    if not isinstance(unit, (int, np.integer)) or not 0 <= unit < hidden:
        raise ConfigError(f"unit must be an int in [0, {hidden}), got {unit!r}")


def _markers(markers: Sequence[int] | None, steps: int) -> list[int]:
    marks = [int(m) for m in (markers or [])]
    bad = [m for m in marks if not 0 <= m < steps]
    if bad:
        raise ConfigError(f"markers must be time steps in [0, {steps}), got {bad}")
    return marks


def plot_cell_trace(gates: LSTMGates, unit: int, *, sequence: int = 0, index: int = 0,
                    markers: Sequence[int] | None = None, title: str | None = None,
                    path: str | os.PathLike | None = None) -> Any:
    """The cell state c_t of one unit over a (long) sequence, with its forget and input gates.

    Top: c_t (the memory); bottom: f_t (1 keeps the memory) and i_t (1 writes the candidate).
    ``markers``: time steps to mark with dashed lines (e.g. the adding problem's marked pairs).

    Returns:
        The matplotlib Figure (two Axes); the lines hold exactly the unit's column of
        :func:`gate_arrays`.

    Raises:
        ConfigError: bad ``unit``/``sequence``/``index``/``markers``, a bad ``path`` suffix.
    """
    arrays = gate_arrays(gates, sequence=sequence, index=index)
    _check_unit(_batched(gates), unit)
    steps = arrays["cell"].shape[0]
    marks = _markers(markers, steps)
    plt = _plt()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 4.8), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    t = np.arange(steps)
    top.plot(t, arrays["cell"][:, unit], color="#d62728", lw=1.2, label=f"c_t, unit {unit}")
    top.axhline(0, color="0.7", lw=0.6)
    top.set_ylabel("cell state c_t")
    bottom.plot(t, arrays["forget_gate"][:, unit], color="#1f77b4", lw=1.0, label="forget gate f_t")
    bottom.plot(t, arrays["input_gate"][:, unit], color="#2ca02c", lw=1.0, label="input gate i_t")
    bottom.set_ylim(-0.05, 1.05)
    bottom.set_ylabel("gate")
    bottom.set_xlabel("time step t")
    for ax in (top, bottom):
        for m in marks:
            ax.axvline(m, color="0.3", ls="--", lw=0.8)
        ax.legend(loc="upper right", fontsize=8)
    fig.suptitle(title or f"Cell state of unit {unit}: sequence {sequence}, layer/direction {index}")
    if path is not None:
        save_figure(fig, path)
    return fig


# -- interactive (plotly) -------------------------------------------------------------------------

def _plotly() -> tuple[Any, Any]:
    try:
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots
    except ImportError:  # optional dependency
        raise ConfigError("interactive plots need plotly: pip install 'lstmkit[viz]' (or pip install plotly)") from None
    return go, make_subplots


def plot_gates_interactive(gates: LSTMGates, *, sequence: int = 0, index: int = 0,
                           units: Sequence[int] | None = None, max_units: int = 32,
                           panels: Sequence[str] = _DEFAULT_PANELS, inputs: Any = None,
                           input_names: Sequence[str] | None = None, title: str | None = None,
                           path: str | os.PathLike | None = None) -> Any:
    """:func:`plot_gates` as a plotly figure: hover shows step, unit and value; zoom and pan
    are shared along time. Arguments as in :func:`plot_gates`; ``path`` writes an offline
    HTML file (:func:`save_html`).

    Returns:
        The plotly Figure (one heat map trace per panel, ``z`` = ``gate_arrays(...)[panel][:, units].T``).

    Raises:
        ConfigError: as :func:`plot_gates`; plotly not installed.
    """
    arrays = gate_arrays(gates, sequence=sequence, index=index)
    panels = _check_panels(panels)
    chosen = _units(_batched(gates), units, max_units, index, sequence)
    steps = arrays["cell"].shape[0]
    x_in = _inputs_array(inputs, steps)
    go, make_subplots = _plotly()
    names = [_TITLES[p] for p in panels]
    rows = len(panels) + (x_in is not None)
    if x_in is not None:
        names = ["input", *names]
    fig = make_subplots(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.04, subplot_titles=names)
    t = np.arange(steps)
    row = 1
    if x_in is not None:
        labels = list(input_names) if input_names is not None else [f"x[{j}]" for j in range(x_in.shape[1])]
        for j in range(x_in.shape[1]):
            fig.add_trace(go.Scatter(x=t, y=x_in[:, j], mode="lines", name=labels[j] if j < len(labels) else f"x[{j}]"),
                          row=1, col=1)
        row = 2
    bar_len = 1.0 / rows
    for k, name in enumerate(panels):
        z = arrays[name][:, chosen].T  # (units, T)
        r = row + k
        bar = {"len": bar_len * 0.9, "y": 1 - (r - 0.5) * bar_len, "thickness": 10}
        if name in _SIGMOIDS:
            style = {"colorscale": "Viridis", "zmin": 0.0, "zmax": 1.0}
        else:
            vmax = float(np.abs(z).max()) or 1.0
            style = {"colorscale": "RdBu", "reversescale": True, "zmin": -vmax, "zmax": vmax}
        fig.add_trace(go.Heatmap(z=z, x=t, y=[str(u) for u in chosen], name=_TITLES[name], colorbar=bar,
                                 hovertemplate="t=%{x}<br>unit %{y}<br>" + name + "=%{z:.3f}<extra></extra>", **style),
                      row=r, col=1)
        fig.update_yaxes(title_text="unit", type="category", row=r, col=1)
    fig.update_xaxes(title_text="time step t", row=rows, col=1)
    fig.update_layout(title=title or f"LSTM gates and cell state: sequence {sequence}, layer/direction {index}",
                      height=170 * rows + 120, margin={"l": 60, "r": 30, "t": 70, "b": 40})
    if path is not None:
        save_html(fig, path)
    return fig


def plot_cell_trace_interactive(gates: LSTMGates, units: int | Sequence[int], *, sequence: int = 0, index: int = 0,
                                markers: Sequence[int] | None = None, title: str | None = None,
                                path: str | os.PathLike | None = None) -> Any:
    """:func:`plot_cell_trace` as a plotly figure, for one unit or several (one line each):
    top c_t, bottom the forget gate f_t of the same units; ``markers`` as dashed lines.

    Raises:
        ConfigError: bad ``units``/``sequence``/``index``/``markers``; plotly not installed.
    """
    arrays = gate_arrays(gates, sequence=sequence, index=index)
    unit_list = [units] if isinstance(units, (int, np.integer)) else list(units)
    if not unit_list:
        raise ConfigError("units must name at least one unit, got []")
    for u in unit_list:
        _check_unit(_batched(gates), u)
    steps = arrays["cell"].shape[0]
    marks = _markers(markers, steps)
    go, make_subplots = _plotly()
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, row_heights=[0.6, 0.4],
                        subplot_titles=["cell state c_t", "forget gate f_t"])
    t = np.arange(steps)
    for u in unit_list:
        fig.add_trace(go.Scatter(x=t, y=arrays["cell"][:, u], mode="lines", name=f"c, unit {u}", legendgroup=str(u)),
                      row=1, col=1)
        fig.add_trace(go.Scatter(x=t, y=arrays["forget_gate"][:, u], mode="lines", name=f"f, unit {u}",
                                 legendgroup=str(u), line={"dash": "dot"}), row=2, col=1)
    for m in marks:
        fig.add_vline(x=m, line_dash="dash", line_color="#555", line_width=1)
    fig.update_yaxes(range=[-0.05, 1.05], row=2, col=1)
    fig.update_xaxes(title_text="time step t", row=2, col=1)
    fig.update_layout(title=title or f"Cell state over time: sequence {sequence}, layer/direction {index}",
                      height=460, margin={"l": 60, "r": 30, "t": 70, "b": 40})
    if path is not None:
        save_html(fig, path)
    return fig


def save_html(fig: Any, path: str | os.PathLike) -> Path:
    """Write a plotly figure to ``path`` (.html) atomically as one offline page: plotly.js is
    inlined (no CDN, no network at view time).

    Raises:
        ConfigError: ``path`` does not end in .html.
    """
    p = Path(path)
    if p.suffix.lower() not in (".html", ".htm"):
        raise ConfigError(f"interactive plot path must end in .html, got {str(p)!r}")
    html = fig.to_html(include_plotlyjs=True, full_html=True)
    atomic_write(p, lambda tmp: Path(tmp).write_text(html, encoding="utf-8"))
    return p


def text_activation_html(text: str | Sequence[str], values: Any, *, title: str | None = None,
                         path: str | os.PathLike | None = None) -> str:
    """Karpathy-style coloured text: each character (or token) on a background shaded by one
    unit's activation, blue for positive and red for negative values, the strength |v| (values
    are clipped to [-1, 1], the range of h_t and tanh(c_t)); hovering shows the value.

    Args:
        text: a string (one step per character) or a sequence of tokens (one step per token).
        values: (T,) the unit's activation per step, e.g. ``gate_arrays(gates)["hidden"][:, unit]``.
        title: a heading above the text; path: also write a self-contained HTML page (.html).

    Returns:
        An HTML fragment (a ``<div>``; plain HTML and inline styles, no script).

    Raises:
        ConfigError: ``values`` is not one value per character/token; a bad ``path`` suffix.
    """
    steps = list(text)
    vals = np.asarray(values.detach().cpu() if isinstance(values, torch.Tensor) else values, dtype=float)
    if vals.ndim != 1 or vals.shape[0] != len(steps):
        raise ConfigError(f"values must hold one value per character/token ({len(steps)},), got shape {vals.shape}")
    if path is not None and Path(path).suffix.lower() not in (".html", ".htm"):
        raise ConfigError(f"text activation path must end in .html, got {str(path)!r}")
    spans = []
    sep = "" if isinstance(text, str) else " "
    for token, v in zip(steps, vals):
        a = float(np.clip(abs(v), 0.0, 1.0))
        rgb = "33,102,172" if v >= 0 else "178,24,43"
        shown = _html.escape(str(token)).replace("\n", "&#8629;<br>").replace(" ", "&nbsp;")
        spans.append(f'<span title="{v:.3f}" style="background:rgba({rgb},{a:.3f})">{shown}</span>')
    head = f"<h3>{_html.escape(title)}</h3>" if title else ""
    fragment = (f'<div class="lstmkit-text" style="font-family:monospace;line-height:1.6">{head}'
                + sep.join(spans) + "</div>")
    if path is not None:
        page = f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{_html.escape(title or 'activations')}</title></head><body>{fragment}</body></html>"
        atomic_write(Path(path), lambda tmp: Path(tmp).write_text(page, encoding="utf-8"))
    return fragment
