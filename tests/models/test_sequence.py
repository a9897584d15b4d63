"""SequenceNetwork: shapes, config and file round-trips, learns a tiny batch, clear errors."""

import pytest
import torch

import lstmkit
from lstmkit.errors import ConfigError
from lstmkit.models.sequence import SequenceNetwork, SequenceNetworkConfig


@pytest.mark.parametrize("cell", ["lstm", "lstm-ln", "gru", "rnn"])
def test_shapes_round_trips_and_overfit(tmp_path, cell):
    torch.manual_seed(0)
    cfg = SequenceNetworkConfig(input_size=3, output_size=4, hidden_size=16, cell=cell, task="classification")
    model = SequenceNetwork(cfg)
    x, y = torch.randn(8, 5, 3), torch.randint(0, 4, (8,))
    assert model(x).shape == (8, 4)
    has_ln = any("ln" in name or "norm" in name for name, _ in model.named_parameters())
    assert has_ln == (cell == "lstm-ln")
    assert SequenceNetwork.from_config(model.get_config()).config == cfg
    loaded = lstmkit.load(model.save(tmp_path / "m"))
    assert torch.equal(loaded(x), model(x))
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(60):
        opt.zero_grad()
        model.loss((x, y)).backward()
        opt.step()
    assert model.metrics((x, y))["error"] == 0.0


def test_forget_bias_and_regression_metrics():
    torch.manual_seed(0)
    model = SequenceNetwork(SequenceNetworkConfig(input_size=2, hidden_size=4, forget_bias=3.0))
    torch.manual_seed(0)
    plain = SequenceNetwork(SequenceNetworkConfig(input_size=2, hidden_size=4, forget_bias=0.0))
    shift = model.rnn.bias_ih_l0 - plain.rnn.bias_ih_l0
    assert torch.allclose(shift, torch.tensor([0.0] * 4 + [3.0] * 4 + [0.0] * 8))  # gate order i, f, g, o
    m = model.metrics((torch.randn(5, 7, 2), torch.rand(5)))
    assert set(m) == {"loss", "mae", "wrong"}


def test_config_errors():
    with pytest.raises(ConfigError, match=r"cell must be one of \['lstm', 'lstm-ln', 'gru', 'rnn'\], got 'lstn' \(did you mean 'lstm'\?\)"):
        SequenceNetworkConfig(cell="lstn")
    with pytest.raises(ConfigError, match="hidden_size must be a positive int, got 0"):
        SequenceNetworkConfig(hidden_size=0)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda m: m["config"].update(hidden_size=64), r"tensor 'rnn.weight_ih_l0' has shape \(32, 2\), expected \(256, 2\)"),
        (lambda m: m["config"].pop("hidden_size"), r"config.json' does not describe a valid SequenceNetwork: missing key\(s\) SequenceNetworkConfig: \['hidden_size'\]"),
        (lambda m: m["config"].update(cell="lstn"), r"does not describe a valid SequenceNetwork: .*did you mean 'lstm'"),
        (lambda m: m["config"].update(hidden_sise=8), r"unknown key 'hidden_sise' \(did you mean 'hidden_size'\?\)"),
        (lambda m: m.update(config=[1, 2]), r"does not describe a valid SequenceNetwork: config must be a mapping, got list"),
        (lambda m: m.pop("weights_sha256"), r"lacks required key\(s\) \['weights_sha256'\]"),
        (lambda m: m.update(type="SequenceNetwrk"), r"unknown model type 'SequenceNetwrk'.*did you mean 'SequenceNetwork'"),
    ],
)
def test_bad_model_files_give_clear_errors(tmp_path, edit, message):
    import json

    from lstmkit.errors import ModelFileError

    path = SequenceNetwork(SequenceNetworkConfig(hidden_size=8)).save(tmp_path / "m")
    meta = json.loads((path / "config.json").read_text())
    edit(meta)
    (path / "config.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match=message):
        lstmkit.load(path)


def test_truncated_weights_file(tmp_path):
    from lstmkit.errors import ModelFileError

    path = SequenceNetwork(SequenceNetworkConfig(hidden_size=8)).save(tmp_path / "m")
    w = path / "model.safetensors"
    w.write_bytes(w.read_bytes()[: len(w.read_bytes()) // 2])
    with pytest.raises(ModelFileError, match="truncated, tampered"):
        lstmkit.load(path)


def test_missing_config_keys_are_an_error_not_defaults(tmp_path):
    """A classification model whose saved config lost `task` must not load as a regression model."""
    import json

    from lstmkit.errors import ModelFileError

    cfg = SequenceNetworkConfig(input_size=3, output_size=4, hidden_size=8, task="classification", cell="gru")
    path = SequenceNetwork(cfg).save(tmp_path / "m")
    meta = json.loads((path / "config.json").read_text())
    del meta["config"]["task"], meta["config"]["cell"]
    (path / "config.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError) as info:
        lstmkit.load(path)
    msg = str(info.value)
    assert str(path / "config.json") in msg
    assert "missing key(s) SequenceNetworkConfig: ['cell', 'task']" in msg  # both at once, in field order
    # from_config (user code, not a file) still fills defaults
    assert SequenceNetwork.from_config({"input_size": 3}).config.task == "regression"
