"""`lstmkit experiment` trains through the Trainer and prints the comparison table."""

from lstmkit.cli.main import main
from lstmkit.experiments import run_experiment


def test_adding_cli_prints_table(capsys):
    code = main(["experiment", "adding", "--cell", "lstm", "--cell", "rnn", "--length", "12", "--max-steps", "6", "--hidden-size", "8", "--batch-size", "16"])
    out = capsys.readouterr().out
    assert code == 0, out
    for word in ("cell", "length", "steps", "wall time", "held-out MAE", "solved", "lstm", "rnn"):
        assert word in out
    assert out.count(" 12 ") >= 2 and " 6 " in out  # length column and 6 training steps


def test_temporal_order_runs_and_reports_error_rate():
    (r,) = run_experiment("temporal-order", ["gru"], 20, hidden_size=8, max_steps=4, batch_size=16, n_val=32, n_test=64)
    assert r.steps == 4 and r.metric == "error" and 0.0 <= r.heldout <= 1.0 and r.solved is False


def test_bad_cell_is_one_clear_line(capsys):
    code = main(["experiment", "adding", "--cell", "lstn", "--length", "12"])
    err = capsys.readouterr().err
    assert code == 2 and "cell must be one of ['lstm', 'lstm-ln', 'gru', 'rnn'], got ['lstn'] (did you mean 'lstm'?)" in err
