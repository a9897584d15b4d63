"""A training run folder as one self-contained web page: ``lstmkit report RUN_DIR -o report.html``.

:func:`write_report` reads what the trainer left in a run folder (``TrainerConfig.run_dir``):

* ``trainer_config.json``: the training settings (a table);
* ``model/``: the saved network (its configuration, and, if it holds an lstmkit LSTM, the
  gate views below);
* ``metrics.csv``: loss and metric curves per epoch;
* ``evaluation.json`` and ``heldout.safetensors`` (written by the task estimators,
  :mod:`lstmkit.train.run_record`): the trained network against simple baselines on the
  validation split, and a few of its samples, on which the page draws the gates and cell
  state of the network's LSTM (its most active units);
* ``experiment.json`` (written by ``lstmkit experiment``): which synthetic problem the network
  learned, so that held-out sequences can be regenerated, scored against the baseline and
  drawn. For the adding problem the page shows the cell state of the units that carry the
  sum of the marked values (the units whose final c_T correlates most with X1 + X2 over the
  held-out set) and the forget and input gates at the marked steps versus elsewhere.

Every missing piece (an older run folder, a network without an LSTM, a run whose data the
folder does not record) becomes a short note on the page instead of an error. The page is
offline: plotly.js is inlined once, there are no external scripts, styles or fonts.
"""

from __future__ import annotations

import csv
import datetime as _dt
import html
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lstmkit import __version__
from lstmkit.data.synthetic import TEMPORAL_ORDER_SYMBOLS, adding_problem, temporal_order
from lstmkit.errors import ConfigError, LstmkitError
from lstmkit.experiments import EXPERIMENT_FILE
from lstmkit.nn import LSTM
from lstmkit.persist import load_model
from lstmkit.train.run_record import EVALUATION_FILE, HELDOUT_FILE, read_evaluation, read_heldout
from lstmkit.utils.io import atomic_write
from lstmkit.viz.gates import plot_cell_trace_interactive, plot_gates_interactive, record_gates, top_units

__all__ = ["write_report"]

_HELDOUT = 256  # held-out sequences scored and searched for memory units
_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.8em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left}
th{background:#f4f4f4}.note{background:#fff8e1;border-left:4px solid #f0b400;padding:.5em .8em}
.caption{color:#444;font-size:.92em}code{background:#f4f4f4;padding:0 .2em}details{margin:.5em 0}
"""


def write_report(run_dir: str | os.PathLike, path: str | os.PathLike, *, n_sequences: int = 3) -> Path:
    """Write the report of the training run in ``run_dir`` to ``path`` (.html), atomically.

    Args:
        run_dir: a trainer run folder (``TrainerConfig.run_dir``; for ``lstmkit experiment
            --run-dir DIR`` one of its ``<problem>-<cell>-<length>`` folders).
        path: the HTML file to write.
        n_sequences: held-out sequences drawn with their gates (when the data is known).

    Returns:
        The path written.

    Raises:
        ConfigError: ``run_dir`` is not a folder, holds none of the run files, ``path`` does not
            end in .html, or plotly (the ``viz`` extra) is not installed.
    """
    run = Path(run_dir)
    out = Path(path)
    if out.suffix.lower() not in (".html", ".htm"):
        raise ConfigError(f"report path must end in .html, got {str(out)!r}")
    if not isinstance(n_sequences, int) or n_sequences < 0:
        raise ConfigError(f"n_sequences must be an int >= 0, got {n_sequences!r}")
    if not run.is_dir():
        raise ConfigError(f"run folder {str(run)!r} does not exist or is not a folder")
    known = ["trainer_config.json", "metrics.csv", "model", EXPERIMENT_FILE]
    if not any((run / name).exists() for name in known):
        subs = sorted(p.name for p in run.iterdir() if p.is_dir() and (p / "metrics.csv").exists())
        hint = f"; it holds the run folders {subs}, pass one of them" if subs else ""
        raise ConfigError(f"{str(run)!r} is not a training run folder (none of {known}){hint}")
    try:
        from plotly.offline import get_plotlyjs
    except ImportError:
        raise ConfigError("the report needs plotly: pip install 'lstmkit[viz]' (or pip install plotly)") from None

    page = _Page()
    experiment = _read_json(run / EXPERIMENT_FILE)
    _config_section(page, run, experiment)
    _metrics_section(page, run)
    evaluation = read_evaluation(run)
    if experiment is None:
        _evaluation_section(page, evaluation)
    _memory_section(page, run, experiment, n_sequences, evaluation)
    title = f"lstmkit report: {run.resolve().name}"
    doc = (f"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
           f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>{_CSS}</style>"
           f"<script type=\"text/javascript\">{get_plotlyjs()}</script></head><body>\n"
           f"<h1>{html.escape(title)}</h1><p class=\"caption\">Run folder <code>{html.escape(str(run.resolve()))}</code>; "
           f"written {_dt.datetime.now().strftime('%Y-%m-%d %H:%M')} by lstmkit {__version__}.</p>\n"
           + "\n".join(page.parts) + "\n</body></html>\n")
    atomic_write(out, lambda tmp: Path(tmp).write_text(doc, encoding="utf-8"))
    return out


class _Page:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def h2(self, text: str, anchor: str) -> None:
        self.parts.append(f'<h2 id="{anchor}">{html.escape(text)}</h2>')

    def p(self, text: str, cls: str = "") -> None:
        self.parts.append(f'<p{f" class={cls!r}" if cls else ""}>{text}</p>')

    def note(self, text: str) -> None:
        self.p(text, "note")

    def table(self, header: list[str], rows: list[list[Any]]) -> None:
        head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>" for row in rows)
        self.parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")

    def figure(self, fig: Any) -> None:
        self.parts.append(fig.to_html(full_html=False, include_plotlyjs=False, config={"responsive": True}))


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (dict, list)):
        return json.dumps(v)
    return str(v)


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _config_section(page: _Page, run: Path, experiment: dict | None) -> None:
    page.h2("Configuration", "configuration")
    if experiment:
        page.p("Experiment (<code>experiment.json</code>)")
        page.table(["setting", "value"], [[k, v] for k, v in experiment.items()])
    meta = _read_json(run / "model" / "config.json")
    if meta and isinstance(meta.get("config"), dict):
        page.p(f"Network <code>{html.escape(str(meta.get('type')))}</code> (<code>model/config.json</code>, "
               f"format version {html.escape(str(meta.get('format_version')))})")
        page.table(["parameter", "value"], [[k, v] for k, v in sorted(meta["config"].items())])
    else:
        page.note("No saved network in this run folder (<code>model/config.json</code> is missing or unreadable): "
                  "the run was trained with <code>save_model=False</code>, is still running, or comes from an older "
                  "lstmkit. The gate views below need it.")
    cfg = _read_json(run / "trainer_config.json")
    if cfg:
        page.parts.append("<details><summary>Training (<code>trainer_config.json</code>): "
                          f"{len(cfg)} fields</summary>")
        page.table(["field", "value"], [[k, v] for k, v in sorted(cfg.items())])
        page.parts.append("</details>")
    else:
        page.note("No <code>trainer_config.json</code> in this run folder (older lstmkit versions did not write it).")


def _read_metrics(path: Path) -> dict[str, list[float]] | None:
    try:
        with open(path, newline="") as fh:
            rows = list(csv.DictReader(fh))
    except OSError:
        return None
    if not rows:
        return None
    cols: dict[str, list[float]] = {}
    for name in rows[0]:
        values = []
        for r in rows:
            try:
                values.append(float(r.get(name) or "nan"))
            except ValueError:
                values.append(float("nan"))
        cols[name] = values
    return cols


def _metrics_section(page: _Page, run: Path) -> None:
    import plotly.graph_objects as go

    page.h2("Training curves", "metrics")
    cols = _read_metrics(run / "metrics.csv")
    if cols is None:
        page.note("No <code>metrics.csv</code> in this run folder (or it is empty): no epoch finished, or the run "
                  "comes from an older lstmkit.")
        return
    x_name = "step" if "step" in cols else "epoch" if "epoch" in cols else None
    x = cols[x_name] if x_name else list(range(1, len(next(iter(cols.values()))) + 1))
    skip = {"epoch", "step", "lr", "time_s", "samples_per_s"}
    losses = [c for c in cols if c.endswith("loss") and c not in skip]
    others = [c for c in cols if c not in skip and c not in losses]
    for names, ytitle in ((losses, "loss"), (others, "metric")):
        if not names:
            continue
        fig = go.Figure()
        for name in names:
            fig.add_trace(go.Scatter(x=x, y=cols[name], mode="lines+markers", name=name))
        fig.update_layout(height=320, margin={"l": 60, "r": 20, "t": 40, "b": 40},
                          title=f"{ytitle} at the end of each epoch", xaxis_title=x_name or "epoch", yaxis_title=ytitle)
        page.figure(fig)
    last = {k: v[-1] for k, v in cols.items()}
    page.p(f"Last epoch ({len(x)} epochs logged)")
    page.table(list(last), [list(last.values())])


def _heldout(experiment: dict | None, n: int) -> tuple[str, Any] | None:
    if not experiment:
        return None
    problem, length, seed = experiment.get("problem"), experiment.get("length"), experiment.get("heldout_seed")
    if problem not in ("adding", "temporal-order") or not isinstance(length, int) or not isinstance(seed, int):
        return None
    make = adding_problem if problem == "adding" else temporal_order
    return problem, make(n, length, seed=seed)


def _memory_section(page: _Page, run: Path, experiment: dict | None, n_sequences: int,
                    evaluation: dict | None) -> None:
    page.h2("Inside the memory: gates and cell state", "gates")
    if not (run / "model").is_dir():
        page.note("No saved network (<code>model/</code>) in this run folder, so there are no gates to show.")
        return
    try:
        network = load_model(run / "model")
    except LstmkitError as exc:
        page.note(f"The saved network could not be loaded: {html.escape(str(exc))}")
        return
    if not isinstance(network, torch.nn.Module) or not any(isinstance(m, LSTM) for m in network.modules()):
        page.note(f"The network ({html.escape(type(network).__name__)}) has no lstmkit LSTM (a GRU or a vanilla RNN "
                  "has no gates), so there are no gate views.")
        return
    data = _heldout(experiment, _HELDOUT)
    if data is None:
        _task_gates(page, run, network, evaluation, n_sequences)
        return
    problem, heldout = data
    network.eval()
    x = heldout.x  # (N, T, F)
    with torch.no_grad():
        pred = network(x)
    gates = record_gates(network, x)  # each (L*D, T, N, H)
    if problem == "adding":
        _adding(page, heldout, pred, gates, n_sequences)
    else:
        _temporal_order(page, heldout, pred, gates, n_sequences)


def _evaluation_section(page: _Page, evaluation: dict | None) -> None:
    page.h2("Evaluation against baselines", "evaluation")
    if evaluation is None:
        page.note(f"No <code>{EVALUATION_FILE}</code> in this run folder: the run was not trained by an lstmkit "
                  "estimator with a run folder, is still running, or comes from an older lstmkit (which did not write it).")
        return
    rows = [r for r in evaluation["rows"] if isinstance(r, dict)]
    metrics = [k for k in dict.fromkeys(k for r in rows for k in r) if k != "model"]
    page.p(f"On the {html.escape(str(evaluation.get('split', 'held-out data')))}: "
           f"{html.escape(str(evaluation.get('n_samples', '?')))} samples, the same for every row."
           + (f" {html.escape(str(evaluation['units']))}." if evaluation.get("units") else ""), "caption")
    page.table(["model", *metrics], [[r.get("model", "?"), *[r.get(m, "") for m in metrics]] for r in rows])


class _Calls(torch.nn.Module):
    """Runs a task network's ``metrics(batch)``, so that record_gates sees its LSTM's input."""

    def __init__(self, network: torch.nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, batch: dict) -> Any:
        return self.network.metrics(batch)


def _task_gates(page: _Page, run: Path, network: torch.nn.Module, evaluation: dict | None, n_sequences: int) -> None:
    batch = read_heldout(run)
    if batch is None or not hasattr(network, "metrics"):
        page.note(f"This run folder holds no samples to draw (<code>{HELDOUT_FILE}</code>, written by the task "
                  "estimators trained with a run folder, and <code>experiment.json</code>, written by <code>lstmkit "
                  "experiment</code>, are both missing). Draw your own with "
                  "<code>lstmkit.viz.record_gates(network, x)</code> and "
                  "<code>lstmkit.viz.plot_gates_interactive(gates)</code>.")
        return
    try:
        gates = record_gates(_Calls(network), batch)
    except (LstmkitError, RuntimeError, KeyError, TypeError) as exc:
        page.note(f"The saved samples could not be run through the network: {html.escape(str(exc))}")
        return
    split = str((evaluation or {}).get("split", "held-out data"))
    n = int(gates.cell.shape[2])
    lengths = batch.get("lengths")
    units = top_units(gates, 3, by="cell_std")
    page.p(f"{min(n_sequences, n)} of the {n} samples kept from the {html.escape(split)}, as the network receives them "
           "(after the data pipeline). Per sample: the gates and cell state of the first LSTM layer, and the cell-state "
           f"trace of the units whose cell state varies most over these samples ({units}).", "caption")
    for b in range(min(n_sequences, n)):
        steps = int(lengths[b]) if lengths is not None else int(gates.cell.shape[1])
        page.parts.append(f"<h3>Sample {b} ({steps} steps)</h3>")
        page.figure(plot_cell_trace_interactive(gates, units, sequence=b,
                                                title=f"Sample {b}: cell state of the most variable units {units}"))
        page.figure(plot_gates_interactive(
            gates, sequence=b, units=None if gates.cell.shape[-1] <= 32 else top_units(gates, 32, sequences=[b]),
            title=f"Sample {b}: gates and cell state per unit"))


def _markers_adding(x: torch.Tensor) -> list[int]:
    return [int(t) for t in torch.nonzero(x[:, 1] == 1).flatten()]


def _gate_at(gates_k: torch.Tensor, mask: torch.Tensor, units: list[int] | None = None) -> float:
    g = gates_k if units is None else gates_k[..., units]  # (T, N, H')
    return float(g[mask].mean()) if bool(mask.any()) else float("nan")


def _adding(page: _Page, data: Any, pred: torch.Tensor, gates: Any, n_sequences: int) -> None:
    x, y = data.x, data.y
    n, steps = x.shape[0], x.shape[1]
    pred = pred.squeeze(-1)
    mae = float((pred - y).abs().mean())
    base = float((0.5 - y).abs().mean())
    page.p(f"Held-out set: {n} fresh adding-problem sequences of {steps} steps (the experiment's test seed). "
           "The target is 0.5 + (X1 + X2) / 4 for the two marked values X1, X2.")
    page.table(["model", "MAE", "share wrong (|error| >= 0.04)"],
               [["lstmkit LSTM", mae, float(((pred - y).abs() >= 0.04).float().mean())],
                ["baseline: always 0.5", base, float(((0.5 - y).abs() >= 0.04).float().mean())]])
    # Memory units: final cell state c_T that tracks the running sum X1 + X2 across the held-out set.
    total = (y - 0.5) * 4  # (N,) X1 + X2
    c_last = gates.cell[0, -1]  # (N, H): layer 0, last step
    c_c = c_last - c_last.mean(0)
    t_c = total - total.mean()
    corr = (c_c * t_c[:, None]).sum(0) / (c_c.norm(dim=0) * t_c.norm() + 1e-12)  # (H,)
    memory = [int(u) for u in corr.abs().argsort(descending=True)[:3]]
    page.p("<b>Units that hold the marked values.</b> Correlation over the held-out set between a unit's final "
           "cell state c_T and X1 + X2 (the three strongest):")
    page.table(["unit", "corr(c_T, X1 + X2)"], [[u, float(corr[u])] for u in memory])
    marker = (x[:, :, 1] == 1).T  # (T, N)
    real = (gates.input_gate[0] != 0).any(-1)  # (T, N): not padding
    other = real & ~marker
    f, i = gates.forget_gate[0], gates.input_gate[0]  # (T, N, H)
    page.p("<b>Gates at the markers.</b> Mean gate value at the two marked steps versus every other step "
           "(all units, and the memory units above):")
    page.table(["gate", "at markers (all units)", "elsewhere (all units)", "at markers (memory units)",
                "elsewhere (memory units)"],
               [["forget gate f_t", _gate_at(f, marker), _gate_at(f, other), _gate_at(f, marker, memory),
                 _gate_at(f, other, memory)],
                ["input gate i_t", _gate_at(i, marker), _gate_at(i, other), _gate_at(i, marker, memory),
                 _gate_at(i, other, memory)]])
    f_mark, f_other = _gate_at(f, marker, memory), _gate_at(f, other, memory)
    cell = gates.cell[0]  # (T, N, H)
    step = (cell - torch.cat([torch.zeros_like(cell[:1]), cell[:-1]])).abs()  # |c_t - c_{t-1}|, c_{-1} = 0
    d_mark, d_other = _gate_at(step, marker, memory), _gate_at(step, other, memory)
    page.table(["memory units", "at markers", "elsewhere"],
               [["mean |c_t - c_{t-1}| (how much the cell state changes)", d_mark, d_other]])
    ratio = d_mark / d_other if d_other > 0 else float("inf")
    writes = (f"the memory units write at the markers: their cell state moves {ratio:.1f} times as much there as "
              "at the other steps" if ratio >= 2 else
              f"the memory units do not (yet) single out the markers: their cell state moves {ratio:.1f} times as "
              "much there as elsewhere")
    page.p(f"Between the markers the memory units' forget gate averages f = {f_other:.3f} (at the markers "
           f"{f_mark:.3f}), so they keep f^{steps} = {f_other ** steps:.2g} of their content over the whole sequence; "
           f"{writes}. The write goes through i_t * g_t, so it may come from the candidate g_t (which sees the "
           "marker) as much as from the input gate. The traces below show each held-out sequence's markers as "
           "dashed lines.", "caption")
    for b in range(min(n_sequences, n)):
        marks = _markers_adding(x[b])
        vals = [float(x[b, t, 0]) for t in marks]
        page.parts.append(f"<h3>Held-out sequence {b}</h3>")
        page.p(f"Markers at steps {marks} with values {', '.join(f'{v:+.3f}' for v in vals)}; target {float(y[b]):.3f}, "
               f"prediction {float(pred[b]):.3f}.", "caption")
        page.figure(plot_cell_trace_interactive(
            gates, memory, sequence=b, markers=marks,
            title=f"Sequence {b}: cell state of the memory units {memory} (dashed: the markers)"))
        page.figure(plot_gates_interactive(
            gates, sequence=b, inputs=x[b], input_names=["value", "marker"],
            units=None if gates.cell.shape[-1] <= 32 else sorted(set(memory) | set(top_units(gates, 29, sequences=[b]))),
            title=f"Sequence {b}: input, gates and cell state per unit"))


def _temporal_order(page: _Page, data: Any, pred: torch.Tensor, gates: Any, n_sequences: int) -> None:
    x, y = data.x, data.y
    n = x.shape[0]
    err = float((pred.argmax(-1) != y).float().mean())
    majority = float((y != torch.mode(y).values).float().mean())
    page.p(f"Held-out set: {n} fresh temporal-order sequences (the experiment's test seed).")
    page.table(["model", "error rate"], [["lstmkit LSTM", err], ["baseline: the most frequent class", majority]])
    xy = [TEMPORAL_ORDER_SYMBOLS.index("X"), TEMPORAL_ORDER_SYMBOLS.index("Y")]
    memory = top_units(gates, 3, by="cell_std")
    for b in range(min(n_sequences, n)):
        marks = [int(t) for t in torch.nonzero(x[b][:, xy].sum(-1) > 0).flatten()]
        page.parts.append(f"<h3>Held-out sequence {b}</h3>")
        page.p(f"X/Y symbols at steps {marks}; class {int(y[b])}, predicted {int(pred[b].argmax())}.", "caption")
        page.figure(plot_cell_trace_interactive(gates, memory, sequence=b, markers=marks,
                                                title=f"Sequence {b}: cell state of the most variable units {memory}"))
        page.figure(plot_gates_interactive(gates, sequence=b, title=f"Sequence {b}: gates and cell state per unit"))
