"""``lstmkit serve MODEL_DIR --port 8000``: the streaming prediction server (FastAPI + uvicorn)."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Optional

import typer

from lstmkit.cli._options import need_dir
from lstmkit.errors import ConfigError


def serve(
    model: Path = typer.Argument(..., metavar="MODEL_DIR", file_okay=False, help="A saved lstmkit model directory."),
    host: str = typer.Option("127.0.0.1", "--host", metavar="HOST", help="Interface to listen on (0.0.0.0: all)."),
    port: int = typer.Option(8000, "--port", metavar="INT", help="TCP port."),
    backend: str = typer.Option("torch", "--backend", metavar="NAME", help="torch or onnx (onnxruntime; the model "
                                                                            "is exported and checked at start-up)."),
    store: str = typer.Option("memory", "--store", metavar="STORE",
                              help="Where stream states live: memory, disk:DIR (write-ahead log + snapshots: every "
                                   "acknowledged step survives a crash) or redis://HOST:PORT/DB."),
    api_key_env: Optional[str] = typer.Option(None, "--api-key-env", metavar="NAME",
                                              help="Environment variable holding the API key that POST and DELETE "
                                                   "requests must send as X-API-Key."),
    batch_window_ms: float = typer.Option(2.0, "--batch-window-ms", metavar="MS",
                                          help="How long a batch waits for more streams' steps (0: no waiting)."),
    max_batch: int = typer.Option(256, "--max-batch", metavar="INT", help="Requests per batched forward (1: no "
                                                                          "cross-stream batching)."),
    max_queue: int = typer.Option(2048, "--max-queue", metavar="INT", help="Requests waiting at most; beyond: 503."),
    max_body_bytes: int = typer.Option(1 << 20, "--max-body-bytes", metavar="INT", help="Largest request body."),
    stream_ttl: float = typer.Option(3600.0, "--stream-ttl", metavar="SECONDS", help="Idle streams are evicted after this."),
    snapshot_interval: float = typer.Option(30.0, "--snapshot-interval", metavar="SECONDS",
                                            help="disk store: seconds between snapshots (the log is replayed after one)."),
    threads: int = typer.Option(0, "--threads", metavar="INT", help="Compute threads (0: torch's default)."),
) -> None:
    """Serve a saved model over HTTP: whole sequences (POST /v1/predict) and named streams whose
    recurrent state the server keeps (POST /v1/streams/ID, POST /v1/streams/ID/step, DELETE);
    steps of many streams are batched into one forward. GET /v1/model describes the inputs;
    /healthz, /readyz and /metrics (Prometheus) are for operators. docs/serving.md has the API,
    the crash guarantees of each store and how to run several replicas.

    Example: LSTMKIT_API_KEY=secret lstmkit serve plant.model --port 8000 --store disk:state --api-key-env LSTMKIT_API_KEY
    """
    need_dir(model, "MODEL_DIR")
    for name, value, low in (("--port", port, 1), ("--max-batch", max_batch, 1), ("--max-queue", max_queue, 1),
                             ("--max-body-bytes", max_body_bytes, 1)):
        if value < low:
            raise ConfigError(f"{name} must be at least {low}, got {value}")
    if port > 65535:
        raise ConfigError(f"--port must be at most 65535, got {port}")
    if threads < 0:
        raise ConfigError(f"--threads must be >= 0 (0: torch's default), got {threads}")
    if not batch_window_ms >= 0:
        raise ConfigError(f"--batch-window-ms must be >= 0, got {batch_window_ms}")
    for name, value in (("--stream-ttl", stream_ttl), ("--snapshot-interval", snapshot_interval)):
        if not value > 0:
            raise ConfigError(f"{name} must be > 0 seconds, got {value}")
    _check_bind(host, port)
    api_key = None
    if api_key_env is not None:
        api_key = os.environ.get(api_key_env)
        if not api_key:
            raise ConfigError(f"--api-key-env {api_key_env}: that environment variable is not set or empty")
    import torch
    import uvicorn

    import lstmkit
    from lstmkit.serve.app import ServerConfig, create_app
    from lstmkit.serve.backend import Backend
    from lstmkit.serve.store import open_store

    if threads:
        torch.set_num_threads(threads)
    est = lstmkit.load(model)
    if est.onnx_members() != [None]:  # one graph must hold the model (a classifier with MiniRocket: one)
        raise ConfigError(f"serve: this {type(est).__name__} averages {len(est.networks_)} networks; the server runs one "
                          "graph (serve a model with n_models=1, or a classifier fitted with minirocket=True, whose "
                          "networks and MiniRocket are one graph)")
    be = Backend(est.onnx_network(), backend)
    st = open_store(store, ttl=stream_ttl, snapshot_interval=snapshot_interval)
    if not st.ping():
        raise ConfigError(f"--store {store}: the store does not answer (is the Redis server running and reachable?)")
    config = ServerConfig(batch_window=batch_window_ms / 1000.0, max_batch=max_batch, max_queue=max_queue,
                          max_body_bytes=max_body_bytes, stream_ttl=stream_ttl, api_key=api_key)
    app = create_app(be, st, config, info={"estimator": type(est).__name__, "model_dir": str(model.resolve())})
    _check_bind(host, port)  # again, just before listening: loading took a while
    typer.echo(f"serving {model} ({be.network_name}, {backend} backend, store {store}) on http://{host}:{port}", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def _check_bind(host: str, port: int) -> None:
    """Fail with one line, before any "serving" message, when uvicorn could not listen there."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise ConfigError(f"--host {host!r}: not an address of this machine ({e})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(address)
        except OSError as e:
            raise ConfigError(f"cannot listen on {host}:{port}: {e.strerror}") from None
