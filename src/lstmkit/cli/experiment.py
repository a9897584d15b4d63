"""``lstmkit experiment``: the long-time-lag problems, LSTM vs GRU vs vanilla RNN."""

from __future__ import annotations

import typer

app = typer.Typer(rich_markup_mode=None, 
    help="Long-time-lag experiments of Hochreiter & Schmidhuber (1997): adding and temporal order.",
    no_args_is_help=True,
)

_CELL = typer.Option(["lstm"], "--cell", metavar="CELL", help="Recurrent cell: lstm, lstm-ln (layer-norm LSTM), gru or rnn (repeat to compare).")
_LENGTH = typer.Option(100, "--length", metavar="INT", help="Minimal sequence length T (sequences have T..T+T/10 steps).")
_MINUTES = typer.Option(10.0, "--max-minutes", metavar="FLOAT", help="Training-time budget per cell, in minutes.")
_STEPS = typer.Option(20000, "--max-steps", metavar="INT", help="Optimizer-step budget per cell.")
_HIDDEN = typer.Option(64, "--hidden-size", metavar="INT", help="Hidden units H.")
_FORGET = typer.Option(5.0, "--forget-bias", metavar="FLOAT", help="LSTM forget-gate bias at init (5: nearly open, like the 1997 LSTM's f = 1).")
_BATCH = typer.Option(64, "--batch-size", metavar="INT", help="Sequences per step.")
_LR = typer.Option(3e-3, "--lr", metavar="FLOAT", help="Adam learning rate.")
_SEED = typer.Option(0, "--seed", metavar="INT", help="Seed for data, initialisation and order.")
_QUIET = typer.Option(True, "--quiet/--progress", help="Training progress of each cell (default: quiet; the table is the output).")
_RUN_DIR = typer.Option(None, "--run-dir", metavar="DIR", help="Write metrics.csv, checkpoints and models here.")


def _run(problem: str, cell, length, max_minutes, max_steps, hidden_size, forget_bias, batch_size, lr, seed, quiet, run_dir) -> None:
    from rich.console import Console

    from lstmkit.experiments import format_table, run_experiment

    results = run_experiment(
        problem,
        list(cell),
        length,
        hidden_size=hidden_size,
        forget_bias=forget_bias,
        batch_size=batch_size,
        lr=lr,
        max_steps=max_steps,
        max_minutes=max_minutes,
        seed=seed,
        quiet=quiet,
        run_dir=run_dir,
    )
    Console(width=100).print(format_table(results))


@app.command("adding")
def adding(
    cell: list[str] = _CELL,
    length: int = _LENGTH,
    max_minutes: float = _MINUTES,
    max_steps: int = _STEPS,
    hidden_size: int = _HIDDEN,
    forget_bias: float = _FORGET,
    batch_size: int = _BATCH,
    lr: float = _LR,
    seed: int = _SEED,
    quiet: bool = _QUIET,
    run_dir: str = _RUN_DIR,
) -> None:
    """The adding problem (experiment 4): solved when held-out MAE < 0.04.

    Example: lstmkit experiment adding --cell lstm --cell rnn --length 100
    """
    _run("adding", cell, length, max_minutes, max_steps, hidden_size, forget_bias, batch_size, lr, seed, quiet, run_dir)


@app.command("temporal-order")
def temporal_order(
    cell: list[str] = _CELL,
    length: int = _LENGTH,
    max_minutes: float = _MINUTES,
    max_steps: int = _STEPS,
    hidden_size: int = _HIDDEN,
    forget_bias: float = _FORGET,
    batch_size: int = _BATCH,
    lr: float = _LR,
    seed: int = _SEED,
    quiet: bool = _QUIET,
    run_dir: str = _RUN_DIR,
) -> None:
    """The temporal-order problem (experiment 6a, 4 classes): solved when held-out error < 1%.

    Example: lstmkit experiment temporal-order --cell lstm --cell gru --length 100
    """
    _run("temporal-order", cell, length, max_minutes, max_steps, hidden_size, forget_bias, batch_size, lr, seed, quiet, run_dir)
