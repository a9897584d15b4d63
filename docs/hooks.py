"""MkDocs hook: the CLI reference is generated from the commands themselves.

``<!-- cli-reference -->`` in a page is replaced by the ``--help`` of every ``lstmkit``
command, rendered in-process through typer's click command tree (no subprocesses: fast).
"""

from __future__ import annotations

import os

MARK = "<!-- cli-reference -->"


def _commands():
    import typer  # click comes through typer (which may vendor its own copy): duck-typed below

    from lstmkit.cli import main as cli_main

    cli_main._register()
    root = typer.main.get_command(cli_main.app)

    def walk(cmd, ctx, path):
        yield path, cmd, ctx
        if hasattr(cmd, "list_commands"):  # a group
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                yield from walk(sub, sub.context_class(sub, info_name=name, parent=ctx), [*path, name])

    yield from walk(root, root.context_class(root, info_name="lstmkit"), ["lstmkit"])


def cli_reference() -> str:
    os.environ.setdefault("COLUMNS", "100")
    parts = []
    for path, cmd, ctx in _commands():
        level = "#" * min(2 + len(path) - 1, 4)
        parts.append(f"{level} `{' '.join(path)}`\n\n```text\n{cmd.get_help(ctx)}\n```\n")
    return "\n".join(parts)


def on_page_markdown(markdown: str, page, config, files) -> str:
    if MARK in markdown:
        markdown = markdown.replace(MARK, cli_reference())
    return markdown
