"""Classification and tagging datasets, read offline from files that packages ship.

UCR/UEA series come from the ``.ts`` files that aeon ships (``aeon/datasets/data``), read
with :func:`lstmkit.data.ts.read_ts` (aeon itself is not imported). Each returns the
archive's standard train/test split::

    X_train, y_train, X_test, y_test = lstmkit.datasets.load("GunPoint")

The part-of-speech treebank is Google's Turkish Web Treebank (TWT, Apache-2.0), shipped
as CoNLL-U by the PyPI package ``turkish-treebanks`` (``web.conllu`` + ``wiki.conllu``,
4,851 sentences, 81k tokens, universal POS tags)::

    tok_train, tag_train, tok_test, tag_test = lstmkit.datasets.load("turkish_web_treebank")
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path
from typing import Any, NamedTuple

from lstmkit.data.conll import read_conllu
from lstmkit.data.ts import read_ts
from lstmkit.datasets import register_dataset
from lstmkit.errors import DataError

__all__ = ["ClassificationSplit", "TaggingSplit", "ucr_path"]


class ClassificationSplit(NamedTuple):
    X_train: Any  # (n, T, F) float array, or a list of (T_i, F) arrays for unequal lengths
    y_train: Any  # (n,) str labels
    X_test: Any
    y_test: Any


class TaggingSplit(NamedTuple):
    tokens_train: list[list[str]]
    tags_train: list[list[str]]
    tokens_test: list[list[str]]
    tags_test: list[list[str]]


def ucr_path(name: str, split: str, package: str = "aeon") -> Path:
    """Path of the ``<name>_<split>.ts`` that ``package`` (aeon or sktime) ships; the package is
    located, not imported."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise DataError(f"dataset {name!r} needs the package {package!r}: pip install 'lstmkit[classify]'")
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / name / f"{name}_{split}.ts"
    if not path.is_file():
        raise DataError(f"dataset {name!r}: {path} is missing from the installed {package}")
    return path


def _ucr(name: str) -> ClassificationSplit:
    package = _SKTIME_ONLY.get(name, "aeon")
    X_tr, y_tr = read_ts(ucr_path(name, "TRAIN", package))
    X_te, y_te = read_ts(ucr_path(name, "TEST", package))
    return ClassificationSplit(X_tr, y_tr, X_te, y_te)


_SKTIME_ONLY = {"PLAID": "sktime"}  # shipped by sktime, not by aeon 1.x


_UCR = {
    "GunPoint": "UCR univariate, 2 classes (gun draw vs. pointing), T=150, 50 train / 150 test",
    "ItalyPowerDemand": "UCR univariate, 2 classes (winter vs. summer daily load), T=24, 67 train / 1029 test",
    "ArrowHead": "UCR univariate, 3 classes (arrowhead outline shapes), T=251, 36 train / 175 test",
    "BasicMotions": "UEA multivariate, 4 classes (activities), 6 channels, T=100, 40 train / 40 test",
    "JapaneseVowels": "UEA multivariate, 9 speakers, 12 channels, unequal T=7..29, 270 train / 370 test",
    "OSULeaf": "UCR univariate, 6 classes (leaf outlines), T=427, 200 train / 242 test",
    "PickupGestureWiimoteZ": "UCR univariate, 10 gestures (Wiimote z acceleration), unequal T=29..361, 50 train / 50 test",
    "PLAID": "UCR univariate, 11 appliances (current traces, from sktime), unequal T=100..1344, 537 train / 537 test",
}

for _name, _desc in _UCR.items():
    register_dataset(_name, task="classification", description=_desc, extra="classify")(
        lambda _n=_name: _ucr(_n)
    )


def _twt_path(section: str) -> Path:
    try:
        dist = importlib.metadata.distribution("turkish-treebanks")
    except importlib.metadata.PackageNotFoundError:
        raise DataError(
            "dataset 'turkish_web_treebank' needs the package 'turkish-treebanks': pip install 'lstmkit[classify]'"
        ) from None
    path = Path(str(dist.locate_file(f"data/{section}.conllu")))
    if not path.is_file():
        raise DataError(f"dataset 'turkish_web_treebank': {path} is missing from the installed turkish-treebanks")
    return path


@register_dataset(
    "turkish_web_treebank",
    task="tagging",
    description="Turkish Web Treebank (Google, Apache-2.0), CoNLL-U, 4,851 sentences, universal POS tags; "
    "held out: the last 20% of sentences of each section (web, wiki)",
    extra="classify",
)
def turkish_web_treebank(column: str = "upos", test_fraction: float = 0.2) -> TaggingSplit:
    """Train/test split of TWT: the last ``test_fraction`` of each section's sentences is held out."""
    parts: list[list[list[str]]] = [[], [], [], []]
    for section in ("web", "wiki"):
        tokens, tags = read_conllu(_twt_path(section), column=column)
        cut = len(tokens) - int(round(test_fraction * len(tokens)))
        parts[0] += tokens[:cut]
        parts[1] += tags[:cut]
        parts[2] += tokens[cut:]
        parts[3] += tags[cut:]
    return TaggingSplit(*parts)
