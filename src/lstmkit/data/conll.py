"""Readers for CoNLL-U and CoNLL (column) files: tokens and one tag per token.

CoNLL-U (Universal Dependencies): ten tab-separated columns ``ID FORM LEMMA UPOS XPOS FEATS
HEAD DEPREL DEPS MISC``; ``#`` comment lines; a blank line ends a sentence. Multi-word token
lines (``1-2``) and empty nodes (``1.1``) are skipped, so each sentence is its syntactic words.

CoNLL (2000/2003 style): whitespace-separated columns, token first, tag last by default;
``-DOCSTART-`` lines are skipped; a blank line ends a sentence.

    tokens, tags = read_conllu("en_ewt-ud-train.conllu", column="upos")
    tokens, tags = read_conll("train.txt")                 # e.g. BIO named-entity tags

Both return two parallel lists of sentences (lists of str). Malformed lines raise a
DataError naming the file, the line number and what was expected.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from lstmkit.errors import ConfigError, DataError, suggest
from lstmkit.utils.io import atomic_write_bytes

__all__ = ["read_conllu", "parse_conllu", "read_conll", "parse_conll", "write_conll", "CONLLU_COLUMNS"]

CONLLU_COLUMNS = ("id", "form", "lemma", "upos", "xpos", "feats", "head", "deprel", "deps", "misc")

Sentences = tuple[list[list[str]], list[list[str]]]


def _open_lines(path: str | os.PathLike, what: str) -> list[str]:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{what} file {str(path)!r} does not exist")
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not a UTF-8 text file ({exc.reason} at byte {exc.start})") from None


def read_conllu(path: str | os.PathLike, *, column: str = "upos") -> Sentences:
    """Read a CoNLL-U file; return ``(tokens, tags)`` with tags from ``column`` (upos, xpos, deprel ...)."""
    return parse_conllu(_open_lines(path, "CoNLL-U"), column=column, name=str(path))


def parse_conllu(lines: Iterable[str], *, column: str = "upos", name: str = "<conllu>") -> Sentences:
    if column not in CONLLU_COLUMNS or column in ("id", "form"):
        raise ConfigError(
            f"column must be one of {list(CONLLU_COLUMNS[2:])}, got {column!r}{suggest(column, CONLLU_COLUMNS)}"
        )
    col = CONLLU_COLUMNS.index(column)
    tokens: list[list[str]] = []
    tags: list[list[str]] = []
    cur_tok: list[str] = []
    cur_tag: list[str] = []
    expected_id = 1
    for lineno, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            if cur_tok:
                tokens.append(cur_tok)
                tags.append(cur_tag)
                cur_tok, cur_tag = [], []
            expected_id = 1
            continue
        if line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 10:
            raise DataError(
                f"{name}, line {lineno}: expected 10 tab-separated CoNLL-U columns "
                f"(ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC), got {len(fields)}"
            )
        tid = fields[0]
        if "-" in tid or "." in tid:  # multi-word token range or empty node
            continue
        if not tid.isdigit():
            raise DataError(f"{name}, line {lineno}: expected an integer token ID in column 1, got {tid!r}")
        if int(tid) != expected_id:
            raise DataError(
                f"{name}, line {lineno}: expected token ID {expected_id} (IDs count 1, 2, ... within a sentence), got {tid}"
            )
        expected_id += 1
        if fields[1] == "":
            raise DataError(f"{name}, line {lineno}: the FORM column (2) is empty")
        cur_tok.append(fields[1])
        cur_tag.append(fields[col])
    if cur_tok:
        tokens.append(cur_tok)
        tags.append(cur_tag)
    if not tokens:
        raise DataError(f"{name}: no sentences found (the file is empty or holds only comments)")
    return tokens, tags


def read_conll(path: str | os.PathLike, *, token_col: int = 0, tag_col: int = -1) -> Sentences:
    """Read a whitespace-column CoNLL file; return ``(tokens, tags)``."""
    return parse_conll(_open_lines(path, "CoNLL"), token_col=token_col, tag_col=tag_col, name=str(path))


def parse_conll(lines: Iterable[str], *, token_col: int = 0, tag_col: int = -1, name: str = "<conll>") -> Sentences:
    tokens: list[list[str]] = []
    tags: list[list[str]] = []
    cur_tok: list[str] = []
    cur_tag: list[str] = []
    n_cols: int | None = None
    for lineno, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("-DOCSTART-"):
            if cur_tok:
                tokens.append(cur_tok)
                tags.append(cur_tag)
                cur_tok, cur_tag = [], []
            continue
        fields = line.split()
        need = max(token_col if token_col >= 0 else -token_col - 1, tag_col if tag_col >= 0 else -tag_col - 1) + 1
        if len(fields) < max(2, need):
            raise DataError(
                f"{name}, line {lineno}: expected at least {max(2, need)} whitespace-separated columns "
                f"(token ... tag), got {len(fields)}: {line[:60]!r}"
            )
        if n_cols is None:
            n_cols = len(fields)
        elif len(fields) != n_cols:
            raise DataError(f"{name}, line {lineno}: expected {n_cols} columns like the first token line, got {len(fields)}")
        cur_tok.append(fields[token_col])
        cur_tag.append(fields[tag_col])
    if cur_tok:
        tokens.append(cur_tok)
        tags.append(cur_tag)
    if not tokens:
        raise DataError(f"{name}: no sentences found (the file is empty)")
    return tokens, tags


def write_conll(path: str | os.PathLike, tokens: list[list[str]], tags: list[list[str]]) -> None:
    """Write ``token<TAB>tag`` lines, a blank line after each sentence (atomically)."""
    out = []
    for toks, tgs in zip(tokens, tags):
        out.extend(f"{a}\t{b}" for a, b in zip(toks, tgs))
        out.append("")
    atomic_write_bytes(path, ("\n".join(out) + "\n").encode())
