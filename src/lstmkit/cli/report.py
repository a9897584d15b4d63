"""``lstmkit report RUN_DIR -o report.html``: a training run folder as one offline web page."""

from __future__ import annotations

from pathlib import Path

import typer

from lstmkit.cli._options import need_dir


def report(
    run_dir: Path = typer.Argument(..., metavar="RUN_DIR", file_okay=False, help="A training run folder (what --run-dir wrote)."),
    out: Path = typer.Option(Path("report.html"), "--out", "-o", metavar="FILE", help="The HTML page to write."),
    sequences: int = typer.Option(3, "--sequences", metavar="INT", help="Held-out sequences drawn with their gates (when the run records its data)."),
) -> None:
    """One self-contained HTML page (opens offline) of a training run: its configuration, the
    metric curves of metrics.csv, and the gates and cell state of the saved LSTM on held-out
    sequences; missing pieces get a note. RUN_DIR is what --run-dir wrote, e.g. after
    lstmkit experiment adding --run-dir runs: runs/adding-lstm-100.

    Example: lstmkit report runs/adding-lstm-100 -o report.html
    """
    need_dir(run_dir, "RUN_DIR")
    from lstmkit.viz.report import write_report

    path = write_report(run_dir, out, n_sequences=sequences)
    typer.echo(f"wrote {path}")
