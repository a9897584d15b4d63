"""Model files of format version 1 (lstmkit 0.1.0), committed in tests/fixtures/format_v1, still
load through the migration and predict what they predicted when they were written."""

import json
from pathlib import Path

import numpy as np
import torch
import pytest

import lstmkit
from lstmkit.errors import ModelFileError
from lstmkit.estimators import LSTMClassifier, LSTMForecaster, LSTMTagger
from lstmkit.models import ClassifierNetwork
from lstmkit.persist import FORMAT_VERSION, read_model_dir

V1 = Path(__file__).parent / "fixtures" / "format_v1"
EXPECTED = json.loads((V1 / "expected.json").read_text())


def test_the_fixtures_really_are_version_1():
    for d in ("forecaster", "classifier", "classifier_network", "tagger"):
        assert json.loads((V1 / d / "config.json").read_text())["format_version"] == 1
    assert FORMAT_VERSION == 8


def test_v1_forecaster_predicts_what_it_did():
    f = lstmkit.load(V1 / "forecaster")
    assert isinstance(f, LSTMForecaster) and f.horizon == 3 and f.trainer.max_epochs == 2  # TrainerConfig kept
    pred = f.predict()
    exp = EXPECTED["forecaster"]
    assert [str(t.date()) for t in pred.index] == exp["sales_time"]
    for col in ("mean", "q0.1", "q0.5", "q0.9"):
        # float32 network: another CPU (AMD / Intel, other SIMD paths) rounds its sums differently in the
        # last bits, so the stored predictions hold to float32 precision, not bit for bit; a wrong
        # migration or loader moves them by far more
        np.testing.assert_allclose(pred[col].to_numpy(), exp[col], rtol=1e-5)


def test_v1_classifier_predicts_what_it_did_and_keeps_its_settings():
    c = lstmkit.load(V1 / "classifier")
    assert isinstance(c, LSTMClassifier)
    assert c.head_hidden_size == 3 and c.scaler == "standard" and c.val_size == 0.0 and c.id_col == "id"
    assert c.class_weight == {"a": 2.0, "b": 1.0} and c.classes_.tolist() == ["a", "b"]
    X = np.asarray(EXPECTED["classifier"]["X"], dtype=np.float32)
    # 0.1.0 scaled in float32, today's scaler in float64 then rounds: equal to float32 rounding
    np.testing.assert_allclose(c.predict_proba(X), EXPECTED["classifier"]["proba"], rtol=0, atol=1e-6)


def test_v1_network_and_tagger_load():
    net = lstmkit.load(V1 / "classifier_network")
    assert isinstance(net, ClassifierNetwork) and net.config.head_hidden_size == 3
    t = lstmkit.load(V1 / "tagger")
    assert isinstance(t, LSTMTagger)
    assert t.predict(EXPECTED["tagger"]["X"]) == EXPECTED["tagger"]["tags"]


def test_migrated_file_saves_as_the_current_version(tmp_path):
    f = lstmkit.load(V1 / "forecaster")
    path = f.save(tmp_path / "f")
    meta, _ = read_model_dir(path)
    assert json.loads((path / "config.json").read_text())["format_version"] == FORMAT_VERSION
    assert meta["config"]["network"]["lookback"] == 6
    np.testing.assert_array_equal(lstmkit.load(path).predict().to_numpy(), f.predict().to_numpy())


def test_a_file_from_a_newer_lstmkit_is_refused(tmp_path):
    f = lstmkit.load(V1 / "forecaster")
    path = f.save(tmp_path / "f")
    meta = json.loads((path / "config.json").read_text())
    meta["format_version"] = FORMAT_VERSION + 1
    (path / "config.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match=rf"format_version {FORMAT_VERSION + 1} is not supported .*a newer lstmkit"):
        lstmkit.load(path)


def test_import_lstmkit_is_light_and_exports_the_estimators():
    import subprocess
    import sys

    code = ("import sys, lstmkit; assert 'torch' not in sys.modules, 'torch'; "
            "assert lstmkit.LSTMForecaster.__module__ == 'lstmkit.estimators.forecaster'; "
            "assert {'LSTMForecaster', 'LSTMClassifier', 'LSTMTagger', 'load'} <= set(lstmkit.__all__)")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_hand_edited_config_with_a_bad_parameter_is_refused_at_load(tmp_path):
    import json

    import numpy as np

    from lstmkit.errors import ModelFileError
    from lstmkit.estimators import LSTMAnomalyDetector

    path = tmp_path / "det.model"
    LSTMAnomalyDetector(hidden_size=4, num_layers=1, window=8, trainer={"max_epochs": 1, "quiet": True}).fit(
        np.sin(np.arange(100) / 3.0)).save(path)
    meta = json.loads((path / "config.json").read_text())
    meta["config"]["params"]["threshold"] = "sometimes"
    (path / "config.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match=r"config.json holds parameters this LSTMAnomalyDetector does not accept: "
                                             r".*threshold must be one of"):
        lstmkit.load(path)


V2 = Path(__file__).parent / "fixtures" / "format_v2"


def test_v2_classifier_loads_as_the_plain_lstm_it_was():
    expected = json.loads((V2 / "expected.json").read_text())
    assert json.loads((V2 / "classifier" / "config.json").read_text())["format_version"] == 2
    c = lstmkit.load(V2 / "classifier")
    assert c.architecture == "lstm" and c.n_models == 1 and c.patch_size == 2 and c.scaler == "sequence"
    assert c.network_.config.architecture == "lstm" and not hasattr(c.network_, "fcn")
    X = np.asarray(expected["classifier"]["X"], dtype=np.float32)
    np.testing.assert_allclose(c.predict_proba(X), expected["classifier"]["proba"], rtol=0, atol=1e-6)
    net = lstmkit.load(V2 / "classifier_network")
    e = expected["classifier_network"]
    with torch.no_grad():
        logits = net(torch.tensor(e["x"]), torch.tensor(e["lengths"]))
    np.testing.assert_allclose(logits.numpy(), e["logits"], rtol=0, atol=1e-6)


V3 = Path(__file__).parent / "fixtures" / "format_v3"


def test_v3_forecasters_load_with_the_settings_they_were_fitted_with():
    expected = json.loads((V3 / "expected.json").read_text())
    for name in ("forecaster", "forecaster_default_lookback"):
        assert json.loads((V3 / name / "config.json").read_text())["format_version"] == 3
        f = lstmkit.load(V3 / name)
        assert f.season_length == "auto" and not hasattr(f, "settings_")  # format 3 resolved nothing at fit
        # float32 precision (the fixtures were computed on another CPU; see the v1 forecaster test)
        np.testing.assert_allclose(f.predict()["mean"].to_numpy(), expected[name], rtol=1e-5)
    f = lstmkit.load(V3 / "forecaster")
    assert f.lookback == 8 and f.transform == "log"
    # lookback=None meant max(3 * horizon, 24) in format 3: the migration writes in what the network was built with
    g = lstmkit.load(V3 / "forecaster_default_lookback")
    assert g.lookback == expected["default_lookback"] == g.network_.config.lookback == 24
    assert g.transform is None  # format 3's default, kept (format 4's default is "auto")


V4 = Path(__file__).parent / "fixtures" / "format_v4"


def test_v4_classifier_files_load_through_the_migrations_and_predict_what_they_did():
    expected = json.loads((V4 / "expected.json").read_text())
    assert json.loads((V4 / "classifier" / "config.json").read_text())["format_version"] == 4
    clf = lstmkit.load(V4 / "classifier")
    assert clf.series_stats is False and clf.network_.config.static_size == 0
    assert clf.minirocket is False and clf.minirocket_ is None  # format 7 -> 8: the network alone
    assert clf.trainer.group_by_length is False and clf.trainer.max_steps == 6  # the saved TrainerConfig, whole
    rng = np.random.default_rng(0)
    X = [rng.normal(size=(int(n), 1)) * (1 + (i % 2)) + np.sin(np.arange(n) / 3.0)[:, None] * (i % 2)
         for i, n in enumerate(rng.integers(12, 20, 24))]
    np.testing.assert_allclose(clf.predict_proba(X[:6]), expected["classifier_proba"], rtol=0, atol=1e-6)
    net = lstmkit.load(V4 / "classifier_network").eval()
    assert net.config.static_size == 0
    with torch.no_grad():
        logits = net(torch.tensor(expected["network_x"], dtype=torch.float32), torch.tensor(expected["network_lengths"]))
    np.testing.assert_allclose(logits.numpy(), expected["network_logits"], rtol=0, atol=1e-6)


V5 = Path(__file__).parent / "fixtures" / "format_v5"


def test_v5_transcriber_loads_without_augmentation_and_reads_what_it_did():
    expected = json.loads((V5 / "expected.json").read_text())
    assert json.loads((V5 / "transcriber" / "config.json").read_text())["format_version"] == 5
    model = lstmkit.load(V5 / "transcriber")
    assert model.augment is False  # how format-5 models were trained
    X = [np.asarray(x, np.float32) for x in expected["inputs"]]
    for got, want in zip(model.posteriors(X), expected["posteriors"]):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    assert model.predict(X) == expected["predict"]
