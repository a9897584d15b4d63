"""Entry point of the ``lstmkit`` command.

Each command group lives in its own module (``cli/<group>.py``) exposing a ``typer.Typer``
named ``app``, registered below. Errors that lstmkit raises on purpose print one line and
exit 2; ``--debug`` shows the full traceback instead.
"""

from __future__ import annotations

import sys

import typer

from lstmkit.errors import LstmkitError

app = typer.Typer(
    name="lstmkit",
    help="Long Short-Term Memory networks: train, evaluate and use LSTM models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_STATE = {"debug": False}


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
) -> None:
    _STATE["debug"] = debug


def _register() -> None:
    # One import + add_typer per command group; each module defines `app`.
    from lstmkit.cli import classify, datasets, experiment, forecast, tag

    app.add_typer(datasets.app, name="datasets")
    app.add_typer(experiment.app, name="experiment")
    app.add_typer(forecast.app, name="forecast")
    app.add_typer(classify.app, name="classify")
    app.add_typer(tag.app, name="tag")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (also used by tests)."""
    _register()
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        app(args=args, prog_name="lstmkit", standalone_mode=False)
    except LstmkitError as exc:
        if debug:
            raise
        typer.echo(f"error: {exc}", err=True)
        return 2
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("aborted", err=True)
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
            typer.echo(f"error: {message()}", err=True)
            return code
        if isinstance(code, int):  # click's Exit
            return code
        raise
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
