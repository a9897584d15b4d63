"""lstmkit.viz.gates: what is drawn is exactly what LSTM(..., return_gates=True) returns."""

import re

import numpy as np
import pytest
import torch

from lstmkit.errors import ConfigError
from lstmkit.models.sequence import SequenceNetwork, SequenceNetworkConfig
from lstmkit.nn import LSTM
from lstmkit.viz import (
    gate_arrays,
    plot_cell_trace,
    plot_cell_trace_interactive,
    plot_gates,
    plot_gates_interactive,
    plot_saturation,
    record_gates,
    text_activation_html,
    top_units,
    unit_summary,
)

PNG = b"\x89PNG\r\n\x1a\n"
T, B, F, H = 13, 3, 2, 5


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture
def lstm_and_x():
    torch.manual_seed(0)
    lstm = LSTM(F, H, num_layers=2, batch_first=True)
    x = torch.randn(B, T, F)
    return lstm, x


def test_record_gates_equals_return_gates_for_a_layer_and_a_network(lstm_and_x):
    lstm, x = lstm_and_x
    _, _, want = lstm(x, return_gates=True)
    got = record_gates(lstm, x)
    assert got.cell.shape == (2, T, B, H)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b.detach())
    torch.manual_seed(1)
    net = SequenceNetwork(SequenceNetworkConfig(input_size=F, hidden_size=H))
    net.train()
    _, _, want = net.rnn(x, return_gates=True)
    got = record_gates(net, x)
    assert net.training  # the mode is restored
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b.detach())
    with pytest.raises(ConfigError, match="holds none"):
        record_gates(SequenceNetwork(SequenceNetworkConfig(input_size=F, hidden_size=H, cell="gru")), x)


def test_heat_maps_hold_exactly_the_gates(lstm_and_x, tmp_path):
    lstm, x = lstm_and_x
    _, _, gates = lstm(x, return_gates=True)
    fig = plot_gates(gates, sequence=2, index=1, inputs=x[2], path=tmp_path / "gates.png")
    assert (tmp_path / "gates.png").read_bytes()[:8] == PNG
    image_axes = [ax for ax in fig.axes if ax.images]
    assert len(image_axes) == 4
    for ax, name in zip(image_axes, ["input_gate", "forget_gate", "output_gate", "cell"]):
        want = getattr(gates, name)[1, :, 2, :].detach().numpy().T  # (H, T)
        np.testing.assert_array_equal(np.asarray(ax.images[0].get_array()), want)
    arrays = gate_arrays(gates, sequence=2, index=1)
    np.testing.assert_allclose(arrays["hidden"], (gates.output_gate * torch.tanh(gates.cell))[1, :, 2].detach().numpy(),
                               rtol=1e-6)
    plot_gates(gates, units=[4, 0], panels=["candidate", "hidden"], path=tmp_path / "g.svg")
    assert (tmp_path / "g.svg").read_text().lstrip().startswith("<?xml")
    with pytest.raises(ConfigError, match=r"sequence must be an int in \[0, 3\).*got 3"):
        plot_gates(gates, sequence=3)
    with pytest.raises(ConfigError, match="panels must be names"):
        plot_gates(gates, panels=["forget"])
    with pytest.raises(ConfigError, match=r"end in \.png or \.svg"):
        plot_gates(gates, path=tmp_path / "g.jpg")
    assert not (tmp_path / "g.jpg").exists()


def test_unit_summary_counts_saturation_and_skips_padding():
    torch.manual_seed(0)
    lstm = LSTM(F, H, batch_first=True)
    x = torch.randn(2, T, F)
    _, _, gates = lstm(x, lengths=torch.tensor([T, 4]), return_gates=True)
    summary = unit_summary(gates)
    assert list(summary.index) == list(range(H))
    f = gates.forget_gate[0].detach()  # (T, B, H)
    steps = torch.cat([f[:, 0], f[:4, 1]])  # the valid steps only
    np.testing.assert_allclose(summary["forget_gate_high"], (steps > 0.9).float().mean(0).numpy())
    np.testing.assert_allclose(summary["forget_gate_low"], (steps < 0.1).float().mean(0).numpy())
    assert ((summary["saturation"] >= 0) & (summary["saturation"] <= 1)).all()
    top = top_units(gates, 2, by="cell_std")
    assert top == list(summary["cell_std"].sort_values(ascending=False).index[:2])
    with pytest.raises(ConfigError, match="by must be a column"):
        top_units(gates, 2, by="busy")


def test_saturation_and_cell_trace(lstm_and_x, tmp_path):
    lstm, x = lstm_and_x
    gates = record_gates(lstm, x)
    plot_saturation(gates, k=2, path=tmp_path / "sat.png")
    fig = plot_cell_trace(gates, 3, sequence=1, markers=[2, 7], path=tmp_path / "trace.svg")
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_ydata(), gates.cell[0, :, 1, 3].numpy())
    np.testing.assert_array_equal(fig.axes[1].lines[0].get_ydata(), gates.forget_gate[0, :, 1, 3].numpy())
    assert (tmp_path / "sat.png").read_bytes()[:8] == PNG and (tmp_path / "trace.svg").exists()
    with pytest.raises(ConfigError, match=r"unit must be an int in \[0, 5\), got 9"):
        plot_cell_trace(gates, 9)
    with pytest.raises(ConfigError, match=r"markers must be time steps in \[0, 13\), got \[20\]"):
        plot_cell_trace(gates, 0, markers=[20])


def test_interactive_versions_are_offline_html(lstm_and_x, tmp_path):
    pytest.importorskip("plotly", reason="plotly (the viz extra) is not installed")
    lstm, x = lstm_and_x
    gates = record_gates(lstm, x)
    fig = plot_gates_interactive(gates, sequence=1, inputs=x[1], path=tmp_path / "gates.html")
    heat = [tr for tr in fig.data if tr.type == "heatmap"]
    assert len(heat) == 4
    np.testing.assert_array_equal(np.asarray(heat[1].z), gates.forget_gate[0, :, 1].numpy().T)
    plot_cell_trace_interactive(gates, [0, 2], markers=[3], path=tmp_path / "trace.html")
    for name in ("gates.html", "trace.html"):
        html = (tmp_path / name).read_text()
        assert "Plotly.newPlot" in html
        assert not re.search(r"<(script|link)[^>]+(src|href)=[\"']?(https?:)?//", html)  # plotly.js inlined, no CDN
    with pytest.raises(ConfigError, match=r"must end in \.html"):
        plot_gates_interactive(gates, path=tmp_path / "g.png")


def test_karpathy_coloured_text(tmp_path):
    torch.manual_seed(0)
    text = "ab c\nd"
    lstm = LSTM(3, 4)
    x = torch.randn(len(text), 3)  # unbatched (T, F): gates (L*D, T, H)
    _, _, gates = lstm(x, return_gates=True)
    h = gate_arrays(gates)["hidden"][:, 2]
    fragment = text_activation_html(text, h, title="unit 2", path=tmp_path / "text.html")
    assert re.findall(r'title="(-?[0-9.]+)"', fragment) == [f"{v:.3f}" for v in h]
    assert fragment.count("<span") == len(text) and "&#8629;<br>" in fragment
    assert "<script" not in (tmp_path / "text.html").read_text()
    tokens = text_activation_html(["the", "<cat>"], [0.5, -2.0])
    assert "&lt;cat&gt;" in tokens and "rgba(178,24,43,1.000)" in tokens
    with pytest.raises(ConfigError, match=r"one value per character/token \(6,\), got shape \(2,\)"):
        text_activation_html(text, [0.1, 0.2])
