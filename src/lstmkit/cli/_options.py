"""The one command-line vocabulary of every ``lstmkit`` command, and the pieces that turn it into
estimator arguments.

Each concept has one option, spelled the same in every command (see CONTRIBUTING.md's table of
terms): ``--data``, ``--model``, ``--out``, ``--run-dir``, ``--resume``, ``--id-col``,
``--time-col``, ``--target-col``, ``--nan-policy``, ``--fill-missing``, ``--seed``, ``--epochs``,
``--set key=value`` (any parameter the estimator declares, or a trainer field), ``--config``,
``--quiet/--progress``, ``--force``, ``--plot``. Settings given with ``--set`` are checked against
the estimator's own ``get_params`` and ``TrainerConfig``'s fields, so the CLI never repeats a
default or a parameter list by hand.

This module imports neither torch nor the estimators, so argument errors come back fast.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Optional

import typer

from lstmkit.errors import ConfigError, DataError, LstmkitError, suggest

ARGV: list[str] = []  # this run's arguments (set by main), for the "resume with: ..." line

RunDirOpt = typer.Option(None, "--run-dir", metavar="DIR", help="Folder for checkpoints, metrics.csv and the best network; needed by --resume.")
ResumeOpt = typer.Option(False, "--resume", help="Continue an interrupted training from --run-dir (same data and settings).")
SeedOpt = typer.Option(None, "--seed", metavar="INT", help="random_state: seeds initialisation, data order and splits.")
EpochsOpt = typer.Option(None, "--epochs", metavar="INT", help="Maximum training epochs (trainer.max_epochs).")
SetOpt = typer.Option(None, "--set", metavar="KEY=VALUE", help="Any estimator parameter or trainer field, key=value (repeatable): hidden_size=32, trainer.lr=0.003, series_stats=true. Values are JSON (True/False/None also read), else strings.")
ConfigOpt = typer.Option(None, "--config", metavar="FILE", help='JSON file {"model": {...}, "trainer": {...}} (--set wins over it).')
QuietOpt = typer.Option(False, "--quiet/--progress", help="No progress output (default: a progress bar on a terminal, lines otherwise).")
ForceOpt = typer.Option(False, "--force", help="Replace what is at --model even if it is not an lstmkit model directory.")
IdColOpt = typer.Option(None, "--id-col", metavar="COLUMN", help="Series/sequence id column of a long table.")
TimeColOpt = typer.Option(None, "--time-col", metavar="COLUMN", help="Time (ordering) column.")
NanOpt = typer.Option("error", "--nan-policy", metavar="error|interpolate|ffill", help="What to do with NaN/inf values: error, interpolate or ffill.")


def parse_value(text: str) -> Any:
    """``--set`` values are JSON when they parse (numbers, true/false, null, lists), else strings;
    Python's spellings True, False and None are read as JSON's (any case)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return {"none": None, "true": True, "false": False}.get(text.lower(), text)


def trainer_fields() -> list[str]:
    from lstmkit.train.config import TrainerConfig  # torch-free module

    return [f.name for f in dataclasses.fields(TrainerConfig)]


def settings(params: Sequence[str], config_file: Optional[Path], items: Optional[Sequence[str]]) -> tuple[dict, dict]:
    """(estimator kwargs, trainer fields) from ``--config`` and ``--set key=value`` items.

    ``params``: the estimator's declared parameter names. A key is an estimator parameter, a
    trainer field (``lr=...`` or ``trainer.lr=...``) or ``model.<param>``; every unknown key is
    reported at once, with the closest name.
    """
    est: dict[str, Any] = {}
    tr: dict[str, Any] = {}
    fields = trainer_fields()
    if config_file is not None:
        try:
            cfg = json.loads(Path(config_file).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"--config {str(config_file)!r}: not a readable JSON file ({exc})") from None
        if not isinstance(cfg, dict) or set(cfg) - {"model", "trainer"}:
            got = list(cfg) if isinstance(cfg, dict) else type(cfg).__name__
            raise ConfigError(f'--config {str(config_file)!r} must hold {{"model": {{...}}, "trainer": {{...}}}}, got {got}')
        est.update(cfg.get("model", {}))
        tr.update(cfg.get("trainer", {}))
    problems = []
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            problems.append(f"expected key=value, got {item!r}")
        elif key.startswith(("trainer.", "trainer__")):  # trainer.lr, or scikit-learn's nested trainer__lr
            tr[key.split(".", 1)[1] if key.startswith("trainer.") else key[len("trainer__"):]] = parse_value(value)
        elif key.startswith("model."):
            est[key[len("model."):]] = parse_value(value)
        elif key in params and key != "trainer":
            est[key] = parse_value(value)
        elif key in fields:
            tr[key] = parse_value(value)
        else:
            names = [p for p in params if p != "trainer"]
            close = difflib.get_close_matches(key, names, n=1, cutoff=0.6) or [
                f"trainer.{f}" for f in difflib.get_close_matches(key, fields, n=1, cutoff=0.6)]
            hint = (" (trainer fields one by one: trainer.max_steps=5, or max_steps=5)" if key == "trainer"
                    else f" (did you mean {close[0]!r}?)" if close else "")
            problems.append(f"unknown setting {key!r}{hint}")
    problems += [f"unknown model setting {k!r}{suggest(k, params)}" for k in est if k not in params or k == "trainer"]
    problems += [f"unknown trainer field {k!r}{suggest(k, fields)}" for k in tr if k not in fields]
    if problems:
        raise ConfigError("--set: " + "; ".join(problems))
    return est, tr


def trainer_overrides(tr: dict[str, Any], *, epochs: Optional[int], run_dir: Optional[Path], quiet: bool) -> dict[str, Any]:
    """The trainer fields the command line sets; the estimator's trainer_defaults fill the rest."""
    tr = dict(tr)
    if epochs is not None:
        tr["max_epochs"] = epochs
    if run_dir is not None:
        tr["run_dir"] = str(run_dir)
    tr.setdefault("quiet", quiet)
    return tr


def need_file(path: Path, what: str = "--data") -> Path:
    if not Path(path).is_file():
        raise DataError(f"{what} {str(path)!r} does not exist")
    if Path(path).stat().st_size == 0:
        raise DataError(f"{what} {str(path)!r} is empty")
    return Path(path)


def need_dir(path: Path, what: str) -> Path:
    if not Path(path).is_dir():
        raise DataError(f"{what} {str(path)!r} is not a folder" if Path(path).exists() else f"{what} {str(path)!r} does not exist")
    return Path(path)


def check_writable(path: Path, option: str) -> None:
    """A file path we may write: not a folder, and no file where one of its folders should be."""
    if path.is_dir():
        raise DataError(f"{option} {str(path)!r} is a folder; give the path of the file to write")
    parent = next((p for p in path.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise DataError(f"{option} {str(path)!r}: {str(parent)!r} is a file, not a folder")


def load_estimator(model_dir: Path, expected: str) -> Any:
    """Load the model directory ``--model`` names, which must hold an ``expected`` estimator.

    Args:
        model_dir: a directory written by ``lstmkit.save`` (safetensors + JSON).
        expected: the class name in ``lstmkit.estimators`` the command works with, e.g. ``"LSTMTagger"``
            (a name, so this module stays free of torch until a model is loaded).

    Raises:
        ModelFileError: the directory is not an lstmkit model, or holds another estimator.
    """
    import lstmkit
    from lstmkit import estimators  # at call time: this module stays free of torch (module docstring)
    from lstmkit.errors import ModelFileError

    model = lstmkit.load(model_dir)
    if not isinstance(model, getattr(estimators, expected)):
        raise ModelFileError(f"--model {str(model_dir)!r} holds a {type(model).__name__}, not an {expected}")
    return model


def check_model_path(path: Path, force: bool) -> None:
    """Refuse, before any training, a --model path that holds something other than a model."""
    from lstmkit.persist import check_save_path

    check_save_path(path, overwrite=force)


class Interrupted(LstmkitError):
    """Training was interrupted; ``main`` prints the message and exits 130."""


@contextmanager
def interruptible(resume_hint: Optional[str]) -> Iterator[None]:
    """Turn the trainer's TrainingInterrupted into one line and exit code 130.

    ``resume_hint``: how to continue (the same command with --resume), or None without --run-dir.
    """
    try:
        yield
    except KeyboardInterrupt as exc:
        epoch, step = getattr(exc, "epoch", None), getattr(exc, "step", None)
        where = f"interrupted at epoch {epoch}, step {step}" if epoch is not None else "interrupted"
        if resume_hint is not None and getattr(exc, "checkpoint", None) is not None:
            raise Interrupted(f"{where}; resume with: {resume_hint}") from None
        raise Interrupted(f"{where}; nothing was saved (train with --run-dir DIR to be able to resume)") from None


def resume_command(run_dir: Optional[Path]) -> Optional[str]:
    """This command line with --resume added (for the interrupt message), or None without a run folder."""
    if run_dir is None:
        return None
    argv = ["lstmkit", *(ARGV or sys.argv[1:])]
    return " ".join(argv + ([] if "--resume" in argv else ["--resume"]))
