"""``lstmkit export MODEL_DIR --format onnx`` and ``Estimator.to_onnx``: a saved model becomes a
checked ONNX file whose metadata says what it covers; an ensemble writes one file per member;
bad options print one line and exit 2 without writing anything."""

from pathlib import Path

import numpy as np
import onnx
import pytest

import lstmkit
from lstmkit.cli.main import main
from lstmkit.errors import ConfigError
from lstmkit.estimators import LSTMAnomalyDetector, LSTMClassifier, LSTMForecaster

pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (pip install 'lstmkit[export]')")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    x = np.sin(np.arange(300) / 4.0)
    det = LSTMAnomalyDetector(hidden_size=8, num_layers=1, window=16, trainer={"max_epochs": 2, "quiet": True}).fit(x)
    det.save(root / "det.model")
    fc = LSTMForecaster(horizon=3, lookback=12, hidden_size=8, n_models=2, trainer={"max_epochs": 1, "quiet": True}).fit(x)
    fc.save(root / "fc.model")
    return root


def test_export_writes_a_checked_file(saved, capsys):
    out = saved / "det.onnx"
    assert main(["export", str(saved / "det.model"), "--format", "onnx", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"wrote {out}: max |onnxruntime - PyTorch| = " in text and "stream continued across two calls" in text
    assert "graph: standardised series (B, T, F)" in text
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert meta["lstmkit.estimator"] == "LSTMAnomalyDetector" and meta["lstmkit.network"] == "AnomalyNetwork"
    assert '"columns": ["value"]' in meta["lstmkit.pipeline"]
    # the exported network gives the detector's own predictions (float32 ONNX vs the float64 scorer)
    import onnxruntime as ort
    det = lstmkit.load(saved / "det.model")
    z = det.pipeline_.select(det._read(np.sin(np.arange(40) / 4.0)))  # (T, 1) standardised
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    zeros = np.zeros((1, 1, 8), np.float32)
    mean = sess.run(None, {"x": z[None].astype(np.float32), "h0": zeros, "c0": zeros})[0]  # (1, T, L, F)
    import torch
    want = det._net64().predict_ahead(torch.from_numpy(z)[None])[0].detach().numpy()
    assert np.abs(mean - want).max() < 1e-4


def test_export_an_ensemble_writes_one_file_per_member(saved, capsys):
    out = saved / "fc.onnx"
    assert main(["export", str(saved / "fc.model"), "-o", str(out)]) == 0
    assert (saved / "fc-0.onnx").exists() and (saved / "fc-1.onnx").exists() and not out.exists()
    fc = lstmkit.load(saved / "fc.model")
    with pytest.raises(ConfigError, match=r"averages 2 networks; export each with to_onnx\(path, member=k\)"):
        fc.to_onnx(saved / "x.onnx")
    with pytest.raises(ConfigError, match=r"member must be an int in 0..1, got 5"):
        fc.to_onnx(saved / "x.onnx", member=5)


def test_a_classifier_with_minirocket_exports_as_one_file(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(16, 20, 1)), np.arange(16) % 2
    clf = LSTMClassifier(minirocket=True, n_models=2, hidden_size=4, fcn_filters=(4, 4, 4),
                         trainer={"max_steps": 2, "quiet": True}).fit(X, y)
    clf.save(tmp_path / "clf.model")
    out = tmp_path / "clf.onnx"
    assert main(["export", str(tmp_path / "clf.model"), "-o", str(out)]) == 0
    assert out.exists() and not (tmp_path / "clf-0.onnx").exists()
    assert "log class probabilities (B, C) of the networks averaged with MiniRocket" in capsys.readouterr().out


def test_export_default_path_is_beside_the_model_and_folders_are_created(saved, capsys, tmp_path):
    import shutil

    model = tmp_path / "det.model"
    shutil.copytree(saved / "det.model", model)
    assert main(["export", str(model)]) == 0
    assert (tmp_path / "det.onnx").exists() and not (model / "model.onnx").exists()
    lstmkit.load(model).save(model)  # the model folder holds only the model: saving over it still works
    assert main(["export", str(model), "-o", str(tmp_path / "new" / "deep" / "m.onnx")]) == 0
    assert (tmp_path / "new" / "deep" / "m.onnx").exists()


def test_export_bad_options(saved, capsys, tmp_path):
    assert main(["export", str(saved / "det.model"), "--format", "tflite", "-o", str(tmp_path / "a.onnx")]) == 2
    assert "--format must be one of ['onnx'], got 'tflite'" in capsys.readouterr().err
    assert main(["export", str(saved / "det.model"), "--tolerance", "0", "-o", str(tmp_path / "b.onnx")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "> tolerance 0" in err and "the file was not written" in err
    assert main(["export", str(tmp_path / "missing.model")]) == 2
    if Path("/proc").is_dir():  # a folder no one can create files in, even root
        assert main(["export", str(saved / "det.model"), "-o", "/proc/x.onnx"]) == 2
        assert "export: cannot write '/proc/x.onnx'" in capsys.readouterr().err
    for tol in ("-1", "nan"):
        assert main(["export", str(saved / "det.model"), "--tolerance", tol, "-o", str(tmp_path / "c.onnx")]) == 2
        assert "--tolerance must be a number >= 0" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.onnx"))
