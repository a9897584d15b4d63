"""The fitted pipeline of a supervised sequence model: an input pipeline plus the label encoder."""

from __future__ import annotations

from typing import Any

from lstmkit.data.labels import LabelEncoder
from lstmkit.data.sequence_pipeline import SequencePipeline
from lstmkit.data.vocab import TokenPipeline
from lstmkit.errors import ConfigError

__all__ = ["SupervisedPipeline"]

_INPUTS: dict[str, type] = {"sequence": SequencePipeline, "tokens": TokenPipeline}


class SupervisedPipeline:
    """``inputs`` (a :class:`SequencePipeline` or :class:`TokenPipeline`) and ``labels``
    (a :class:`LabelEncoder` of class labels or of per-step tags); JSON round trip."""

    def __init__(self, inputs: SequencePipeline | TokenPipeline, labels: LabelEncoder) -> None:
        self.inputs = inputs
        self.labels = labels

    @property
    def input_kind(self) -> str:
        return next(k for k, c in _INPUTS.items() if isinstance(self.inputs, c))

    def to_dict(self) -> dict[str, Any]:
        return {"input_kind": self.input_kind, "inputs": self.inputs.to_dict(), "labels": self.labels.to_dict()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "SupervisedPipeline":
        if d["input_kind"] not in _INPUTS:
            raise ConfigError(f"input_kind must be one of {sorted(_INPUTS)}, got {d['input_kind']!r}")
        return cls(_INPUTS[d["input_kind"]].from_dict(d["inputs"]), LabelEncoder.from_dict(d["labels"]))
