"""The estimator base: trainer settings merge over each estimator's declared defaults."""

import pytest

from lstmkit.errors import ConfigError
from lstmkit.estimators import LSTMClassifier, LSTMForecaster, LSTMTagger
from lstmkit.train import TrainerConfig


@pytest.mark.parametrize("cls", [LSTMForecaster, LSTMClassifier, LSTMTagger])
def test_trainer_fields_given_override_only_themselves(cls):
    defaults = cls.trainer_defaults
    for given in ({"max_epochs": 5}, TrainerConfig(max_epochs=5)):
        cfg = cls(trainer=given).trainer_config()
        assert cfg.max_epochs == 5
        for k, v in defaults.items():
            if k != "max_epochs":
                assert getattr(cfg, k) == v, k
    assert cls().trainer_config().max_epochs == defaults["max_epochs"]


def test_set_params_nested_keeps_the_type_and_the_other_fields():
    f = LSTMForecaster(trainer=TrainerConfig(max_epochs=7))
    f.set_params(trainer__lr=5e-4)
    assert isinstance(f.trainer, TrainerConfig) and f.trainer.max_epochs == 7 and f.trainer.lr == 5e-4
    c = LSTMClassifier().set_params(trainer__batch_size=4)
    assert c.trainer == {"batch_size": 4} and c.trainer_config().lr == LSTMClassifier.trainer_defaults["lr"]


def test_bad_trainer_arguments_are_config_errors():
    with pytest.raises(ConfigError, match=r"trainer: unknown field\(s\) \['epochs'\]"):
        LSTMClassifier(trainer={"epochs": 3}).trainer_config()
    with pytest.raises(ConfigError, match="trainer must be a TrainerConfig, a dict or None, got int"):
        LSTMTagger(trainer=3).trainer_config()
    with pytest.raises(ConfigError, match=r"unknown parameter 'hiden_size' \(did you mean 'hidden_size'\?\)"):
        LSTMTagger().set_params(hiden_size=3)


def test_resume_needs_a_run_folder():
    import numpy as np

    X, y = [np.zeros((3, 1), np.float32)] * 4, ["a", "b"] * 2
    with pytest.raises(ConfigError, match=r"resume=True needs a run folder: set trainer=\{'run_dir': ...\} \(CLI: --run-dir\)"):
        LSTMClassifier(trainer={"max_epochs": 1}).fit(X, y, resume=True)


def test_fit_resume_in_python_continues_to_the_same_weights(tmp_path, monkeypatch):
    """A fit interrupted after 5 steps (the SIGINT path, triggered from a callback) and resumed from
    its run folder ends with the weights of an uninterrupted fit."""
    import numpy as np
    import torch

    import lstmkit.estimators.base as base
    from lstmkit.train import Callback, Trainer, TrainingInterrupted

    rng = np.random.default_rng(0)
    X = [rng.normal(size=(6, 2)).astype(np.float32) + (i % 2) for i in range(24)]
    y = ["a", "b"] * 12
    trainer = {"max_epochs": 4, "batch_size": 8, "quiet": True}
    full = LSTMClassifier(hidden_size=4, head_hidden_size=4, trainer=trainer).fit(X, y)

    class CtrlC(Callback):
        def on_step_end(self, t, model, loss):
            if t.global_step == 5:
                t._signals.caught = "SIGINT"  # what the SIGINT handler does

    monkeypatch.setattr(base, "Trainer", lambda cfg: Trainer(cfg, callbacks=[CtrlC()]))
    run = {**trainer, "run_dir": str(tmp_path / "run")}
    with pytest.raises(TrainingInterrupted, match=r"interrupted \(SIGINT\) at epoch 2, step 5; checkpoint saved"):
        LSTMClassifier(hidden_size=4, head_hidden_size=4, trainer=run).fit(X, y)
    monkeypatch.undo()
    resumed = LSTMClassifier(hidden_size=4, head_hidden_size=4, trainer=run).fit(X, y, resume=True)
    for (k, a), b in zip(full.network_.state_dict().items(), resumed.network_.state_dict().values()):
        assert torch.equal(a, b), k


def test_tagger_rejects_wrong_types_by_name():
    sents, tags = [["the", "cat"]] * 4, [["D", "N"]] * 4
    with pytest.raises(ConfigError, match=r"dropout must be in \[0, 1\), got 'a'"):
        LSTMTagger(dropout="a", trainer={"max_epochs": 1}).fit(sents, tags)
    with pytest.raises(ConfigError, match=r"use_crf must be True or False, got 'maybe'"):
        LSTMTagger(use_crf="maybe", trainer={"max_epochs": 1}).fit(sents, tags)
    with pytest.raises(ConfigError, match=r"lowercase must be True or False, got 1"):
        LSTMTagger(lowercase=1, trainer={"max_epochs": 1}).fit(sents, tags)


def test_grid_search_on_one_series_with_time_series_split():
    """GridSearchCV works on the forecaster without a custom scorer: score() is the negative MAE
    of forecasting the fold that follows the training part."""
    import numpy as np
    import pandas as pd
    from sklearn.model_selection import GridSearchCV, TimeSeriesSplit

    y = pd.Series(10 + np.sin(np.arange(96) * np.pi / 6), index=pd.date_range("2000-01-01", periods=96, freq="MS"))
    est = LSTMForecaster(horizon=6, lookback=12, hidden_size=4, trainer={"max_epochs": 2, "quiet": True})
    search = GridSearchCV(est, {"trainer__lr": [1e-3, 1e-2]}, cv=TimeSeriesSplit(2), error_score="raise").fit(y)
    assert search.best_params_["trainer__lr"] in (1e-3, 1e-2) and np.isfinite(search.best_score_)
    fitted = est.fit(y.iloc[:-6])
    assert fitted.score(y.iloc[-6:]) == -float(np.mean(np.abs(fitted.predict()["mean"].to_numpy() - y.iloc[-6:].to_numpy())))
