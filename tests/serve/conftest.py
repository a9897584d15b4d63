"""Shared pieces of the server tests: a small saved detector, its offline (float64) predictions,
a server started as a real process on a free loopback port, and a Redis server."""

import copy
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("fastapi", reason="the server needs fastapi (pip install 'lstmkit[serve]')")
pytest.importorskip("httpx", reason="the server tests need httpx (pip install 'lstmkit[serve]')")

import httpx  # noqa: E402
from system_packages import find_or_install  # noqa: E402

from lstmkit.estimators import LSTMAnomalyDetector  # noqa: E402
from lstmkit.export.onnx import onnx_spec  # noqa: E402


@pytest.fixture(scope="session")
def saved_model(tmp_path_factory) -> Path:
    x = np.sin(np.arange(400) / 4.0) + 0.1 * np.cos(np.arange(400) / 1.7)
    det = LSTMAnomalyDetector(hidden_size=8, num_layers=2, window=16, horizon=2, random_state=0,
                              trainer={"max_epochs": 2, "quiet": True}).fit(x)
    path = tmp_path_factory.mktemp("serve") / "det.model"
    det.save(path)
    return path


def offline(network: torch.nn.Module, series: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """Each stream's outputs over its whole series (T, F) from a zero state, in float64 (one
    batched run per series length): ``{stream: {output: (T, ...)}}``."""
    spec = onnx_spec(copy.deepcopy(network).double().eval())
    state_outputs = {o for _, o in spec.state_pairs}
    out: dict[str, dict[str, np.ndarray]] = {}
    by_length: dict[int, list[str]] = {}
    for sid, s in series.items():
        by_length.setdefault(len(s), []).append(sid)
    g = torch.Generator().manual_seed(0)
    for T, ids in by_length.items():
        x = torch.from_numpy(np.stack([series[i] for i in ids])).double()  # (B, T, F)
        inputs = [x] + [torch.zeros_like(make(len(ids), T, g)).double() for _, make in spec.inputs[1:]]
        with torch.no_grad():
            res = spec.module(*inputs)
        for b, sid in enumerate(ids):
            out[sid] = {n: r[b].numpy() for n, r in zip(spec.outputs, res) if n not in state_outputs}
    return out


@pytest.fixture(scope="session")
def reference():
    """``reference(network, {stream: series}) -> {stream: {output: (T, ...)}}``: offline float64 predictions."""
    return offline


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """``lstmkit serve`` in a child process; ready when /readyz answers 200."""

    def __init__(self, model: Path, *args: str, env: dict | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        code = "import sys; from lstmkit.cli.main import main; sys.exit(main(sys.argv[1:]))"
        cmd = [sys.executable, "-c", code, "serve", str(model), "--port", str(self.port), "--threads", "1", *args]
        self.proc = subprocess.Popen(cmd, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}: {self.proc.stdout.read()}")
            try:
                if httpx.get(self.url + "/readyz", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.kill()
        raise RuntimeError("the server did not become ready within 120 s")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture(scope="session")
def server_process():
    """The :class:`ServerProcess` class: ``server_process(model_dir, *serve_args)``."""
    return ServerProcess


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A real Redis server on a free port (no persistence: the tests kill lstmkit, not Redis)."""
    pytest.importorskip("redis", reason="the Redis store needs redis-py (pip install 'lstmkit[serve]')")
    binary, reason = find_or_install(("redis-server",), "redis-server")
    if binary is None:
        pytest.skip(reason)
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.skip("redis-server did not start")
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=30)
