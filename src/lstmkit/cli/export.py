"""``lstmkit export MODEL_DIR --format onnx``: a saved model as an ONNX file, checked with onnxruntime."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Optional

import typer

from lstmkit.cli._options import check_writable, need_dir
from lstmkit.errors import ConfigError, DataError

FORMATS = ("onnx",)


def export(
    model: Path = typer.Argument(..., metavar="MODEL_DIR", file_okay=False, help="A saved lstmkit model directory."),
    format: str = typer.Option("onnx", "--format", metavar="FORMAT", help="Export format: onnx."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", metavar="FILE",
                                       help="File to write (default: MODEL_DIR with the suffix .onnx, beside it: "
                                            "plant.model -> plant.onnx); an ensemble that is not one graph writes "
                                            "FILE's stem + -k.onnx per member. Missing folders are created."),
    tolerance: float = typer.Option(1e-4, "--tolerance", metavar="FLOAT",
                                    help="Largest |onnxruntime - PyTorch| accepted; beyond it nothing is written "
                                         "and the exit code is 2."),
) -> None:
    """Export a saved model's network to ONNX (any batch size and length; the recurrent state as
    inputs and outputs where the network carries it), run it with onnxruntime on other batch
    sizes and lengths than the traced example, and print the largest difference from PyTorch.
    What the graph covers, and what the caller does around it (scaling, vocabulary, thresholds,
    decoding), is printed and written into the file's metadata; docs/export.md has the details.

    Example: lstmkit export plant.model --format onnx -o plant.onnx
    """
    if format not in FORMATS:
        raise ConfigError(f"--format must be one of {list(FORMATS)}, got {format!r}")
    if not math.isfinite(tolerance) or tolerance < 0:
        raise ConfigError(f"--tolerance must be a number >= 0, got {tolerance}")
    need_dir(model, "MODEL_DIR")
    if out is None:  # beside the model (plant.model -> plant.onnx): saving the model again stays possible
        full = model.resolve()
        out = full.with_suffix(".onnx") if full.suffix == ".model" else full.with_name(full.name + ".onnx")
    check_writable(out, "--out")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DataError(f"--out {str(out)!r}: cannot create its folder ({e.strerror})") from None
    if not os.access(out.parent, os.W_OK):
        raise DataError(f"--out {str(out)!r}: the folder {str(out.parent)!r} is not writable")
    import lstmkit

    est = lstmkit.load(model)
    members = est.onnx_members()
    targets = ([(None, out)] if members == [None]
               else [(k, out.with_name(f"{out.stem}-{k}{out.suffix or '.onnx'}")) for k in members])
    for member, path in targets:
        report = est.to_onnx(path, member=member, tolerance=tolerance)
        checks = ", ".join(f"{name} {err:.1e}" for name, err in report.checks)
        typer.echo(f"wrote {path}: max |onnxruntime - PyTorch| = {report.max_abs_error:.1e} ({checks})")
    typer.echo(f"graph: {report.covers}")
