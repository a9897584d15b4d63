"""lstmkit.viz exports every plotting function (plot_confusion_matrix was missing) with __all__."""

import numpy as np
import pytest

import lstmkit.viz
from lstmkit.errors import ConfigError
from lstmkit.viz import plot_confusion_matrix

PNG = b"\x89PNG\r\n\x1a\n"


def test_viz_exports_every_plot_function(tmp_path):
    assert set(lstmkit.viz.__all__) == {"plot_forecast", "plot_backtest", "plot_training_curves",
                                        "plot_confusion_matrix", "save_figure", "record_gates", "gate_arrays",
                                        "unit_summary", "top_units", "plot_gates", "plot_saturation",
                                        "plot_cell_trace", "plot_gates_interactive", "plot_cell_trace_interactive",
                                        "save_html", "text_activation_html"}
    assert all(callable(getattr(lstmkit.viz, n)) for n in lstmkit.viz.__all__)
    plot_confusion_matrix(np.array([[3, 1], [0, 4]]), ["cat", "dog"], tmp_path / "cm.png")
    assert (tmp_path / "cm.png").read_bytes()[:8] == PNG
    with pytest.raises(ConfigError, match=r"cm must be a \(3, 3\) matrix for 3 labels, got shape \(2, 2\)"):
        plot_confusion_matrix(np.eye(2), ["a", "b", "c"], tmp_path / "bad.png")
    assert not (tmp_path / "bad.png").exists()
