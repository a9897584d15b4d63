"""``lstmkit datasets``: list the bundled real datasets."""

from __future__ import annotations

import typer

app = typer.Typer(rich_markup_mode=None, help="Real datasets shipped by optional packages (loaded offline).", no_args_is_help=True)


@app.command("list")
def list_cmd(
    task: str = typer.Option(None, "--task", metavar="TEXT", help="Only this task (forecasting, classification, ...)."),
) -> None:
    """List datasets: name, task, extra that provides it, description.

    Example: lstmkit datasets list --task forecasting
    """
    from rich.console import Console
    from rich.table import Table

    from lstmkit.datasets import list_datasets

    table = Table(title="lstmkit datasets")
    for col in ("name", "task", "extra", "description"):
        table.add_column(col)
    for d in list_datasets(task):
        table.add_row(d.name, d.task, d.extra, d.description)
    Console().print(table)
