"""Bundled classification/tagging datasets: standard split sizes, shapes and labels."""

import numpy as np
import pytest

import lstmkit.datasets

SIZES = {  # name: (n_train, n_test, T (None: unequal), F, n_classes)
    "GunPoint": (50, 150, 150, 1, 2),
    "ItalyPowerDemand": (67, 1029, 24, 1, 2),
    "ArrowHead": (36, 175, 251, 1, 3),
    "BasicMotions": (40, 40, 100, 6, 4),
    "JapaneseVowels": (270, 370, None, 12, 9),
}


@pytest.mark.parametrize("name", list(SIZES))
def test_ucr_uea_standard_splits(name):
    n_tr, n_te, T, F, C = SIZES[name]
    X_tr, y_tr, X_te, y_te = lstmkit.datasets.load(name)
    assert len(X_tr) == len(y_tr) == n_tr and len(X_te) == len(y_te) == n_te
    assert len(set(y_tr)) == C and set(y_te) <= set(y_tr)
    if T is None:
        assert isinstance(X_tr, list) and all(x.shape[1] == F for x in X_tr)
        assert len({len(x) for x in X_tr}) > 1
    else:
        assert X_tr.shape == (n_tr, T, F) and np.isfinite(X_tr).all()
    info = {d.name: d for d in lstmkit.datasets.list_datasets("classification")}[name]
    assert info.extra == "classify"


def test_turkish_web_treebank_split():
    d = lstmkit.datasets.load("turkish_web_treebank")
    assert (len(d.tokens_train), len(d.tokens_test)) == (3881, 970)
    assert all(len(a) == len(b) for a, b in zip(d.tokens_train, d.tags_train))
    tags = {t for s in d.tags_train for t in s}
    assert {"NOUN", "VERB", "ADJ", "PUNCT"} <= tags


def test_unknown_dataset_suggests():
    with pytest.raises(lstmkit.ConfigError, match="did you mean 'GunPoint'"):
        lstmkit.datasets.load("GunPiont")
