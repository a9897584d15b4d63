"""Reader for the UCR/UEA ``.ts`` time-series classification format.

A ``.ts`` file is a header of ``@key value`` lines (``#`` starts a comment), then ``@data``
and one case per line: the dimensions separated by ``:``, the values of each dimension by
``,`` (``?`` or ``NaN`` is a missing value), and the class label as the last ``:`` field when
the header says ``@classLabel true ...``. Univariate and multivariate, equal and unequal
length files are read; ``@timeStamps true`` files are not (they are rare in the archives).

    X, y = read_ts("GunPoint_TRAIN.ts")        # X: (n, T, F) array or list of (T_i, F)

Every malformed line is reported with the file, the line number and what was expected.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lstmkit.errors import DataError

__all__ = ["TSFile", "read_ts", "parse_ts"]


@dataclass
class TSFile:
    """The parsed content of a ``.ts`` file."""

    series: list[np.ndarray]  # one (T_i, F) float array per case
    labels: np.ndarray | None  # (n,) str labels, or None when the file has no class labels
    class_labels: list[str] = field(default_factory=list)  # as declared in the header
    header: dict[str, str] = field(default_factory=dict)
    name: str = ""

    @property
    def equal_length(self) -> bool:
        return len({s.shape[0] for s in self.series}) <= 1

    def as_array(self) -> np.ndarray:
        """Stack into (n, T, F); a DataError for unequal lengths."""
        if not self.equal_length:
            lens = sorted({s.shape[0] for s in self.series})
            raise DataError(
                f"{self.name}: series have unequal lengths ({lens[0]}..{lens[-1]}); "
                "use the list of (T_i, F) arrays (TSFile.series) instead of a 3-D array"
            )
        return np.stack(self.series) if self.series else np.zeros((0, 0, 0))


def read_ts(path: str | os.PathLike, *, as_array: bool | None = None) -> tuple[object, np.ndarray | None]:
    """Read ``path``; return ``(X, y)``.

    ``X`` is an (n, T, F) float array when every series has the same length (or when
    ``as_array=True``), else a list of (T_i, F) arrays; ``y`` the (n,) string labels (None
    when the file declares ``@classLabel false``).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"ts file {str(path)!r} does not exist")
    with open(path, encoding="utf-8", errors="strict") as fh:
        try:
            ts = parse_ts(fh, name=str(path))
        except UnicodeDecodeError as exc:
            raise DataError(f"{path}: not a UTF-8 text file ({exc.reason})") from None
    if as_array is None:
        as_array = ts.equal_length
    return (ts.as_array() if as_array else ts.series), ts.labels


def parse_ts(lines: io.TextIOBase | list[str], *, name: str = "<ts>") -> TSFile:
    """Parse the lines of a ``.ts`` file (see the module docstring)."""
    header: dict[str, str] = {}
    series: list[np.ndarray] = []
    labels: list[str] = []
    class_labels: list[str] = []
    has_labels = False
    in_data = False
    n_dims: int | None = None
    for lineno, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            if not line.startswith("@"):
                raise DataError(f"{name}, line {lineno}: expected a '@key value' header line or '@data', got {line[:60]!r}")
            key, _, value = line[1:].partition(" ")
            key = key.lower()
            value = value.strip()
            if key == "data":
                in_data = True
                if header.get("timestamps", "false").lower() == "true":
                    raise DataError(f"{name}, line {lineno}: '@timeStamps true' files are not supported; convert to plain values")
                continue
            if key == "classlabel":
                parts = value.split()
                if not parts or parts[0].lower() not in ("true", "false"):
                    raise DataError(f"{name}, line {lineno}: expected '@classLabel true <labels...>' or '@classLabel false', got {line!r}")
                has_labels = parts[0].lower() == "true"
                class_labels = parts[1:]
                if has_labels and not class_labels:
                    raise DataError(f"{name}, line {lineno}: '@classLabel true' must list the class labels")
            header[key] = value
            continue
        fields = line.split(":")
        if has_labels:
            if len(fields) < 2:
                raise DataError(f"{name}, line {lineno}: expected '<values>:<class label>', got no ':' separator")
            label = fields[-1].strip()
            fields = fields[:-1]
            if class_labels and label not in class_labels:
                raise DataError(
                    f"{name}, line {lineno}: class label {label!r} is not among the declared labels {class_labels}"
                )
            labels.append(label)
        if n_dims is None:
            n_dims = len(fields)
            declared = header.get("dimensions")
            if declared is not None and declared.isdigit() and int(declared) != n_dims:
                raise DataError(f"{name}, line {lineno}: expected {declared} dimensions ('@dimensions'), got {n_dims}")
        elif len(fields) != n_dims:
            raise DataError(f"{name}, line {lineno}: expected {n_dims} ':'-separated dimensions like the first case, got {len(fields)}")
        dims = []
        for d, f in enumerate(fields):
            try:
                vals = [float("nan") if v.strip() == "?" else float(v) for v in f.split(",")]
            except ValueError:
                bad = next(v for v in f.split(",") if not _is_number(v))
                raise DataError(
                    f"{name}, line {lineno}: dimension {d}: expected comma-separated numbers, got {bad.strip()[:30]!r}"
                ) from None
            dims.append(vals)
        lengths = {len(v) for v in dims}
        if len(lengths) != 1:
            raise DataError(
                f"{name}, line {lineno}: all dimensions of a case must have the same length, got lengths {[len(v) for v in dims]}"
            )
        series.append(np.asarray(dims, dtype=np.float64).T.copy())  # (T, F)
    if not in_data:
        raise DataError(f"{name}: no '@data' line found (empty or not a .ts file)")
    if not series:
        raise DataError(f"{name}: '@data' is followed by no cases (empty data section)")
    declared_len = header.get("serieslength")
    if header.get("equallength", "").lower() == "true" and declared_len and declared_len.isdigit():
        bad = [i for i, s in enumerate(series) if s.shape[0] != int(declared_len)]
        if bad:
            raise DataError(
                f"{name}: '@seriesLength {declared_len}' but case {bad[0]} has {series[bad[0]].shape[0]} values"
            )
    return TSFile(series, np.asarray(labels) if has_labels else None, class_labels, header, name)


def _is_number(v: str) -> bool:
    v = v.strip()
    if v == "?":
        return True
    try:
        float(v)
    except ValueError:
        return False
    return True
