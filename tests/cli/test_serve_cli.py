"""``lstmkit serve`` refuses bad options with one line and exit 2, before printing "serving"."""

import socket

import numpy as np
import pytest

from lstmkit.cli.main import main
from lstmkit.estimators import LSTMAnomalyDetector

pytest.importorskip("fastapi", reason="the server needs fastapi (pip install 'lstmkit[serve]')")


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("serve-cli") / "det.model"
    LSTMAnomalyDetector(hidden_size=4, num_layers=1, window=8, trainer={"max_epochs": 1, "quiet": True}).fit(
        np.sin(np.arange(100) / 3.0)).save(path)
    return path


def test_bad_serve_options_are_one_line_and_exit_2(model, tmp_path, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", str(model), "--port", str(port)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: cannot listen on 127.0.0.1:{port}: ") and err.count("\n") == 1
    (tmp_path / "afile").write_text("x")
    cases = [
        (["--port", "70000"], "--port must be at most 65535, got 70000"),
        (["--threads", "-3"], "--threads must be >= 0"),
        (["--stream-ttl", "0"], "--stream-ttl must be > 0 seconds, got 0.0"),
        (["--host", "999.1.1.1"], "--host '999.1.1.1': not an address of this machine"),
        (["--store", f"disk:{tmp_path / 'afile'}"], "cannot use that folder"),
        (["--store", "redis://127.0.0.1:1/0"], "the store does not answer"),
        (["--api-key-env", "LSTMKIT_NO_SUCH_VARIABLE"], "that environment variable is not set or empty"),
    ]
    for args, message in cases:
        assert main(["serve", str(model), *args]) == 2, args
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1 and "serving" not in err, (args, err)


def test_debug_shows_the_traceback_and_keeps_the_exit_code(model, capsys):
    assert main(["--debug", "serve", str(model), "--port", "70000"]) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and err.rstrip().endswith(
        "error: --port must be at most 65535, got 70000")
