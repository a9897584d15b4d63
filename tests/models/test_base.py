"""Model files: safetensors + JSON round-trip, and clear errors for damaged directories."""

import dataclasses
import json

import pytest
import torch
from torch import nn

import lstmkit
from lstmkit.errors import ConfigError, ModelFileError
from lstmkit.models.base import TaskModel
from lstmkit.persist import register


@dataclasses.dataclass
class TinyConfig:
    in_features: int = 3  # input width
    out_features: int = 2  # output width


@register
class TinyModel(TaskModel):
    config_class = TinyConfig

    def __init__(self, config: TinyConfig) -> None:
        super().__init__(config)
        self.linear = nn.Linear(config.in_features, config.out_features)

    def forward(self, x):
        return self.linear(x)

    def loss(self, batch):
        x, y = batch
        return nn.functional.mse_loss(self(x), y)


def _saved(tmp_path):
    torch.manual_seed(0)
    model = TinyModel(TinyConfig(4, 5))
    path = model.save(tmp_path / "m")
    return model, path


def test_round_trip_exact(tmp_path):
    model, path = _saved(tmp_path)
    loaded = lstmkit.load(path)
    assert isinstance(loaded, TinyModel)
    assert loaded.config == model.config
    x = torch.randn(7, 4)
    assert torch.equal(loaded(x), model(x))
    meta = json.loads((path / "config.json").read_text())
    assert meta["type"] == "TinyModel" and meta["torch_version"] == torch.__version__


def test_overwrite_keeps_directory_whole(tmp_path):
    model, path = _saved(tmp_path)
    with torch.no_grad():
        model.linear.weight.add_(1.0)
    model.save(path)
    assert torch.equal(lstmkit.load(path).linear.weight, model.linear.weight)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_truncated_weights(tmp_path):
    _, path = _saved(tmp_path)
    w = path / "model.safetensors"
    w.write_bytes(w.read_bytes()[:-10])
    with pytest.raises(ModelFileError, match="truncated, tampered"):
        lstmkit.load(path)


def test_tampered_weights_with_matching_checksum_still_checked(tmp_path):
    _, path = _saved(tmp_path)
    w = path / "model.safetensors"
    blob = b"not a safetensors file at all"
    w.write_bytes(blob)
    meta = json.loads((path / "config.json").read_text())
    import hashlib

    meta["weights_sha256"] = hashlib.sha256(blob).hexdigest()
    (path / "config.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match="not a valid safetensors"):
        lstmkit.load(path)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda m: m.pop("type"), "lacks required key"),
        (lambda m: m.update(type="LSTMBanana"), "unknown model type 'LSTMBanana'"),
        (lambda m: m["config"].update(in_feature=4), "unknown key 'in_feature' \\(did you mean 'in_features'\\?\\)"),
        (lambda m: m["config"].update(in_features=9), "tensor 'linear.weight' has shape"),
        (lambda m: m.update(format_version=99), "format_version 99 is not supported"),
    ],
)
def test_bad_config(tmp_path, edit, message):
    _, path = _saved(tmp_path)
    meta = json.loads((path / "config.json").read_text())
    edit(meta)
    (path / "config.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match=message):
        lstmkit.load(path)


def test_missing_config_keys_named_together_with_the_file(tmp_path):
    """A key missing from a saved config is an error (not the dataclass default), all keys at once."""
    _, path = _saved(tmp_path)
    meta = json.loads((path / "config.json").read_text())
    meta["config"] = {}
    (path / "config.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError) as info:
        lstmkit.load(path)
    msg = str(info.value)
    assert repr(str(path / "config.json")) in msg
    assert "missing key(s) TinyConfig: ['in_features', 'out_features']" in msg
    meta["config"] = {"in_features": 4}
    (path / "config.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match=r"missing key\(s\) TinyConfig: \['out_features'\]"):
        lstmkit.load(path)
    # building from a dict in code still takes the defaults; a failed load leaves no strict mode behind
    assert TinyModel.from_config({"in_features": 4}).config == TinyConfig(4, 2)


def test_missing_key_with_a_fitting_default_is_still_an_error(tmp_path):
    torch.manual_seed(0)
    path = TinyModel(TinyConfig(3, 2)).save(tmp_path / "m")  # the defaults: weights would fit
    meta = json.loads((path / "config.json").read_text())
    del meta["config"]["out_features"]
    (path / "config.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match=r"missing key\(s\) TinyConfig: \['out_features'\]"):
        lstmkit.load(path)


def test_not_json_and_missing_dir(tmp_path):
    _, path = _saved(tmp_path)
    (path / "config.json").write_text("{oops")
    with pytest.raises(ModelFileError, match="not valid JSON"):
        lstmkit.load(path)
    with pytest.raises(ModelFileError, match="not a directory"):
        lstmkit.load(tmp_path / "nowhere")


def test_unknown_config_key_from_config():
    with pytest.raises(ConfigError, match="did you mean 'out_features'"):
        TinyModel.from_config({"in_features": 2, "out_feature": 3})


def test_saved_files_get_the_usual_permissions(tmp_path):
    import os
    import stat

    _, path = _saved(tmp_path)
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o777 & ~mask
    for f in ("model.safetensors", "config.json"):
        assert stat.S_IMODE((path / f).stat().st_mode) == 0o666 & ~mask


# --- saving never destroys what is not a model (issue 14, item 1) ----------------------------
def test_save_refuses_a_folder_with_user_files(tmp_path):
    model, _ = _saved(tmp_path)
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "sales.csv").write_text("date,units\n")
    (folder / "plot.png").write_bytes(b"\x89PNG")
    with pytest.raises(ModelFileError, match=r"holds other files \(plot.png, sales.csv\).*overwrite=True"):
        model.save(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["plot.png", "sales.csv"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_save_refuses_an_existing_file_and_leaves_nothing_behind(tmp_path):
    model, _ = _saved(tmp_path)
    picture = tmp_path / "x.png"
    picture.write_bytes(b"\x89PNG picture")
    with pytest.raises(ModelFileError, match="existing file"):
        model.save(picture)
    assert picture.read_bytes() == b"\x89PNG picture"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m", "x.png"]


def test_save_into_empty_folder_and_over_a_model(tmp_path):
    model, path = _saved(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    model.save(empty)
    assert lstmkit.load(empty).config == model.config
    model.save(path)  # a model directory is replaced without asking
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "m"]


def test_save_refuses_a_model_folder_with_extra_files(tmp_path):
    model, path = _saved(tmp_path)
    (path / "notes.txt").write_text("mine")
    with pytest.raises(ModelFileError, match="notes.txt"):
        model.save(path)
    assert (path / "notes.txt").read_text() == "mine"


def test_save_overwrite_true_replaces_and_leaves_no_leftovers(tmp_path):
    model, _ = _saved(tmp_path)
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "sales.csv").write_text("x")
    picture = tmp_path / "x.png"
    picture.write_bytes(b"png")
    model.save(folder, overwrite=True)
    model.save(picture, overwrite=True)
    assert lstmkit.load(folder).config == model.config and lstmkit.load(picture).config == model.config
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m", "work", "x.png"]


def test_save_removes_leftovers_of_a_dead_process(tmp_path):
    model, path = _saved(tmp_path)
    stale = tmp_path / ".m.lstmkit-save-999999999-abc"
    stale.mkdir()
    (stale / "model.safetensors").write_bytes(b"half")
    model.save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]
