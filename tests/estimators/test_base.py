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
