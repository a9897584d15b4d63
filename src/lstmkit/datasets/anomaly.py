"""Labelled series for anomaly detection, read offline from the packages that ship them.

Each loader returns an :class:`AnomalySplit`: the whole series as a DataFrame (value columns
and a 0/1 ``label`` column) and ``train_size``, the number of leading points a detector is
fitted on. Figures are measured on the points after ``train_size`` (the detector still reads
the series from its start, so its state is warm).

- ``ucr-135`` (aeon, ``KDD-TSAD_135``): UCR anomaly archive series 135 (InternalBleeding16,
  7,501 points, one labelled anomaly at points 4187-4198); the archive's own split trains on
  the first 1,200 points (Wu & Keogh 2021).
- ``yahoo`` (sktime's ``yahoo.csv``, 1,000 points, 7 single-point anomalies) and ``mitdb``
  (sktime's ``mitdb.csv``: 7,500 points of an MIT-BIH ECG lead, one labelled range of 352
  points): no split ships with them; lstmkit fits on the first quarter.
- ``daphnet`` (aeon, ``Daphnet_S06R02E0``): 9 accelerometer channels, 7,040 points. The excerpt
  aeon ships holds *no* labelled freeze-of-gait episode (aeon 1.6 says so and deprecates it),
  so it serves only to exercise multivariate fitting and scoring (evaluation needs labels).

sktime's package pins older pandas/NumPy/scikit-learn; lstmkit only reads its two CSV files and
never imports it, so install it with ``pip install --no-deps sktime``.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lstmkit.datasets import register_dataset
from lstmkit.errors import DataError

__all__ = ["AnomalySplit"]


@dataclass
class AnomalySplit:
    """series: DataFrame (value columns + 0/1 ``label``); train_size: leading points to fit on."""

    name: str
    series: pd.DataFrame
    train_size: int

    @property
    def train(self) -> pd.DataFrame:
        """The first ``train_size`` points (fit the detector on these)."""
        return self.series.iloc[: self.train_size]

    @property
    def value_columns(self) -> list[str]:
        return [c for c in self.series.columns if c != "label"]


def _package_dir(package: str, dataset: str, install: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise DataError(f"dataset {dataset!r} needs the package {package!r}: {install}")
    return Path(next(iter(spec.submodule_search_locations)))


def _aeon_file(folder: str, pattern: str, dataset: str) -> Path:
    root = _package_dir("aeon", dataset, "pip install 'lstmkit[anomaly]'") / "datasets" / "data" / folder
    files = sorted(root.glob(pattern))
    if not files:
        raise DataError(f"dataset {dataset!r}: aeon no longer ships {folder}/{pattern} under {root}")
    return files[0]


@register_dataset("ucr-135", task="anomaly", extra="anomaly",
                  description="UCR anomaly archive #135 (InternalBleeding16, 7,501 points, anomaly at 4187-4198; "
                              "fit on the first 1,200), from aeon")
def ucr_135() -> AnomalySplit:
    df = pd.read_csv(_aeon_file("KDD-TSAD_135", "*_TEST.csv", "ucr-135"))
    series = pd.DataFrame({"value": df["value"].astype(float), "label": df["is_anomaly"].astype(int)})
    return AnomalySplit("ucr-135", series, 1200)


def _sktime(name: str) -> AnomalySplit:
    path = _package_dir("sktime", name, "pip install --no-deps sktime (lstmkit reads its CSV files only)") \
        / "datasets" / "data" / name / f"{name}.csv"
    if not path.is_file():
        raise DataError(f"dataset {name!r}: the installed sktime does not ship {path}")
    df = pd.read_csv(path)
    series = pd.DataFrame({"value": df["data"].astype(float), "label": df["label"].astype(int)})
    return AnomalySplit(name, series, len(series) // 4)


@register_dataset("yahoo", task="anomaly", extra="anomaly",
                  description="Yahoo S5 series shipped with sktime (1,000 points, 7 point anomalies; fit on the first 250)")
def yahoo() -> AnomalySplit:
    return _sktime("yahoo")


@register_dataset("mitdb", task="anomaly", extra="anomaly",
                  description="MIT-BIH ECG excerpt shipped with sktime (7,500 points, one 352-point anomaly; "
                              "fit on the first 1,875)")
def mitdb() -> AnomalySplit:
    return _sktime("mitdb")


@register_dataset("daphnet", task="anomaly", extra="anomaly",
                  description="Daphnet S06R02E0 from aeon: 9 accelerometer channels, 7,040 points, NO labelled "
                              "anomaly in this excerpt (multivariate fitting only; fit on the first 2,000)")
def daphnet() -> AnomalySplit:
    df = pd.read_csv(_aeon_file("Daphnet_S06R02E0", "*.csv", "daphnet"))
    series = df.drop(columns=["timestamp", "is_anomaly"]).astype(float)
    series["label"] = df["is_anomaly"].astype(int)
    return AnomalySplit("daphnet", series, 2000)
