"""Entry point of the ``lstmkit`` command.

Each command group lives in its own module (``cli/<group>.py``) exposing a ``typer.Typer``
named ``app``, registered below. Errors that lstmkit raises on purpose print one line and
exit 2; ``--debug`` shows the full traceback instead.
"""

from __future__ import annotations

import sys
import traceback
import warnings

import typer

from lstmkit.cli import _options
from lstmkit.cli._options import Interrupted
from lstmkit.errors import LstmkitError

app = typer.Typer(rich_markup_mode=None, 
    name="lstmkit",
    help="Long Short-Term Memory networks: train, evaluate and use LSTM models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_STATE = {"debug": False}


def _version(value: bool) -> None:
    if value:
        import lstmkit

        typer.echo(f"lstmkit {lstmkit.__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    _STATE["debug"] = debug


def _register() -> None:
    # One import + add_typer per command group; each module defines `app`. Once per process: every
    # add_typer appends, so registering on each main() call made the command tree (and the time to
    # build it) grow with every call of an embedding program or test suite.
    if _STATE.get("registered"):
        return
    _STATE["registered"] = True
    from lstmkit.cli import (anomaly, caption, classify, datasets, experiment, export, forecast, lm, music, report,
                             seq2seq, serve, tag, transcribe)

    app.add_typer(datasets.app, name="datasets")
    app.add_typer(experiment.app, name="experiment")
    app.add_typer(forecast.app, name="forecast")
    app.add_typer(classify.app, name="classify")
    app.add_typer(tag.app, name="tag")
    app.add_typer(lm.app, name="lm")
    app.add_typer(music.app, name="music")
    app.add_typer(anomaly.app, name="anomaly")
    app.add_typer(seq2seq.app, name="seq2seq")
    app.add_typer(caption.app, name="caption")
    app.add_typer(transcribe.app, name="transcribe")
    app.command("report")(report.report)  # one command, no subcommands
    app.command("export")(export.export)
    app.command("serve")(serve.serve)


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    typer.echo(f"warning: {message}", err=True)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (also used by tests)."""
    _register()
    warnings.showwarning = _one_line_warning  # a library warning is one plain line, not a source excerpt
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    _options.ARGV[:] = args  # for the "resume with: ..." line of an interrupted training
    try:
        code = app(args=args, prog_name="lstmkit", standalone_mode=False)
    except Interrupted as exc:  # Ctrl-C or SIGTERM during training: one line, exit 130
        if debug:
            traceback.print_exc()
        typer.echo(str(exc), err=True)
        return 130
    except LstmkitError as exc:
        if debug:  # the traceback, then the same line and the same exit code as without --debug
            traceback.print_exc()
        typer.echo(f"error: {exc}", err=True)
        return 2
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("interrupted", err=True)
        return 130
    except SystemExit as exc:  # typer/click usage errors already printed their message
        return int(exc.code or 0)
    except Exception as exc:  # click usage errors and friends
        # Duck-typed: click's exception classes come from click or, since typer 0.2x, from the
        # copy typer vendors (typer._click); `click` itself may not be installed at all.
        message, code = getattr(exc, "format_message", None), getattr(exc, "exit_code", None)
        if callable(message) and isinstance(code, int):  # ClickException: UsageError, BadParameter...
            if debug:
                raise
            if type(exc).__name__ == "NoArgsIsHelpError":  # a command group alone: its help, no "error:"
                typer.echo(message(), err=True)
            else:
                typer.echo(f"error: {message()}", err=True)
            return code
        if isinstance(code, int):  # click's Exit
            return code
        raise
    return code if isinstance(code, int) else 0  # click returns the exit code (130 on Ctrl-C) in this mode


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
