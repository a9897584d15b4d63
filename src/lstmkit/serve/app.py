"""The streaming prediction server: FastAPI app around a :class:`~lstmkit.serve.backend.Backend`
and a :class:`~lstmkit.serve.store.StateStore`.

Endpoints (JSON in and out; every error is ``{"error": "..."}`` with a 4xx/5xx status):

- ``POST /v1/predict``: one whole sequence from a zero state: ``{"x": [[...], ...]}`` (the
  network's request inputs, named as ``GET /v1/model`` lists them) -> ``{"outputs": {...}}``.
- ``POST /v1/streams/{id}``: start a stream (201; 409 if it exists).
- ``POST /v1/streams/{id}/step``: push one step or a chunk ``{"x": [[...]], "step": n}`` of a
  started stream (404 if unknown); the server continues from the stream's stored state and
  answers ``{"stream", "step", "outputs"}`` once the new state is in the store. ``step``
  (optional) is where the chunk starts: if the stream is elsewhere the answer is 409 with its
  step, so a client can retry after a lost answer without applying a chunk twice.
- ``GET /v1/streams/{id}``: ``{"stream", "step"}``; ``DELETE /v1/streams/{id}``: end it.
- ``GET /v1/model``, ``/healthz``, ``/readyz``, ``/metrics`` (Prometheus).

Steps of many streams (and predict requests) that arrive within ``batch_window`` seconds and have
the same shape run as one batched forward (one request per stream per batch, in arrival order).
At most ``max_queue`` requests wait; beyond that the answer is 503 with ``Retry-After``. Bodies
over ``max_body_bytes`` get 413. With ``api_key`` set, POST and DELETE need the header
``X-API-Key``. Streams idle for ``stream_ttl`` seconds are evicted.

Design after Triton Inference Server's sequence batcher (correlation ids, start/end, idle
eviction, batching the steps of many sequences).
"""

from __future__ import annotations

import asyncio
import hmac
import inspect
import json
import re
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lstmkit.errors import MissingDependencyError
from lstmkit.serve.backend import Backend
from lstmkit.serve.store import MemoryStore, StateStore, StreamState

try:
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, Response
    from starlette.exceptions import HTTPException as StarletteHTTPException
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
except ImportError as _e:  # pragma: no cover - depends on the environment
    raise MissingDependencyError(f"the server needs fastapi, uvicorn and prometheus-client ({_e.name} is missing): "
                                 "pip install 'lstmkit[serve]'") from None

__all__ = ["create_app", "ServerConfig"]

STREAM_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")  # used with fullmatch; "." and ".." are refused too


@dataclass
class ServerConfig:
    """The server's limits (see the module docstring)."""

    batch_window: float = 0.002  # seconds a batch waits for more requests
    max_batch: int = 256  # requests per forward
    max_queue: int = 2048  # requests waiting or running; beyond: 503
    max_body_bytes: int = 1 << 20
    max_steps: int = 10_000  # steps per request
    stream_ttl: float = 3600.0  # seconds idle before a stream is evicted
    request_timeout: float = 30.0  # seconds a request waits for its batch; then 503
    api_key: str | None = None
    maintenance_interval: float = 1.0  # seconds between evictions / snapshot checks


class HTTPError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


@dataclass
class _Job:
    stream: str | None  # None: a stateless predict
    feeds: dict[str, np.ndarray]  # request inputs, batch axis added
    key: tuple  # jobs with equal keys batch together
    steps: int
    expect_step: int | None
    future: asyncio.Future
    created: float = field(default_factory=time.monotonic)


class _Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("lstmkit_requests", "HTTP requests", ["endpoint", "status"], registry=r)
        self.latency = Histogram("lstmkit_request_seconds", "Request latency (seconds)", ["endpoint"], registry=r,
                                 buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.batch = Histogram("lstmkit_batch_size", "Requests per batched forward", registry=r,
                               buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512))
        self.streams = Gauge("lstmkit_live_streams", "Streams in the store", registry=r)
        self.queue = Gauge("lstmkit_queue_depth", "Requests waiting or running", registry=r)
        self.rejected = Counter("lstmkit_rejected", "Requests refused with 503 (overload)", registry=r)


class _Server:
    """The state behind the app: backend, store, batcher."""

    def __init__(self, backend: Backend, store: StateStore, config: ServerConfig) -> None:
        self.backend, self.store, self.config = backend, store, config
        self.metrics = _Metrics()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lstmkit-serve")  # store + compute
        self.queue: asyncio.Queue[_Job] | None = None
        self.inflight = 0
        self.tasks: list[asyncio.Task] = []
        self.ready = False

    # --- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        self.queue = asyncio.Queue()
        self.tasks = [asyncio.create_task(self._batcher()), asyncio.create_task(self._maintenance())]
        self.ready = True

    async def stop(self) -> None:
        self.ready = False
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.executor.submit(self.store.close).result()
        self.executor.shutdown(wait=True)

    async def call(self, fn: Any, *args: Any) -> Any:
        """Run ``fn`` on the server's one worker thread (store access and compute are serialised)."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    async def store_call(self, fn: Any, *args: Any) -> Any:
        """:meth:`call` for a store operation: a store that fails (Redis down) is a 503."""
        try:
            return await self.call(fn, *args)
        except HTTPError:
            raise
        except Exception as e:  # noqa: BLE001 - any store failure
            raise HTTPError(503, f"the state store is unavailable ({type(e).__name__}: {e}); retry shortly",
                            {"Retry-After": "1"}) from None

    # --- requests -> jobs -------------------------------------------------------------------
    def parse(self, body: dict[str, Any]) -> tuple[dict[str, np.ndarray], tuple, int]:
        """The request inputs of ``body`` as batch-1 arrays, their batching key and step count."""
        b = self.backend
        feeds, key, steps = {}, [], None
        unknown = sorted(set(body) - set(b.request_inputs) - {"step"})
        if unknown:
            raise HTTPError(400, f"unknown field(s) {unknown}; this model takes {b.request_inputs} (and 'step' on streams)")
        for name in b.request_inputs:
            info = b.inputs[name]
            if name not in body:
                raise HTTPError(400, f"missing field {name!r}: expected an array of shape "
                                     f"{_shape_text(info.request_shape)} ({info.dtype.name})")
            shape_text = _shape_text(info.request_shape)
            try:
                raw = np.asarray(body[name])  # JSON numbers only: strings, booleans, nulls and ragged lists are refused
            except (TypeError, ValueError, OverflowError):
                raise HTTPError(400, f"{name} must be a (nested) list of numbers of shape {shape_text}") from None
            if raw.dtype.kind not in "iuf" or _holds_bool(body[name]):
                raise HTTPError(400, f"{name} must be a (nested) list of numbers of shape {shape_text}")
            if info.dtype.kind == "i" and raw.size and raw.dtype.kind == "f":
                raise HTTPError(400, f"{name} must hold integer ids (JSON integers), got {raw.dtype.name} numbers")
            arr = raw.astype(np.float64)
            want = info.request_shape
            if arr.ndim != len(want) or any(w is not None and w != n for w, n in zip(want, arr.shape)):
                raise HTTPError(400, f"{name} must have shape {_shape_text(want)}, got {list(arr.shape)}")
            if arr.size == 0:
                raise HTTPError(400, f"{name} must hold at least one step, got shape {list(arr.shape)}")
            if not np.all(np.isfinite(arr)):
                raise HTTPError(400, f"{name} must be finite (no NaN or infinity)")
            if info.dtype == np.float32 and np.abs(arr).max() > float(np.finfo(np.float32).max):
                raise HTTPError(400, f"{name} holds values beyond float32's range (|x| <= 3.4e38), the network's precision")
            if info.dtype.kind == "i":
                limit = b.id_limits.get(name)
                if np.any(arr != np.round(arr)) or arr.min() < 0 or (limit is not None and arr.max() >= limit):
                    hi = f" and below {limit}" if limit is not None else ""
                    raise HTTPError(400, f"{name} must hold integer ids >= 0{hi}")
            if info.time_axis is not None:
                t_req = info.time_axis - (1 if info.batch_axis is not None and info.batch_axis < info.time_axis else 0)
                t = int(arr.shape[t_req])
                if t > self.config.max_steps:
                    raise HTTPError(413, f"{name} holds {t} steps; the server takes at most {self.config.max_steps} "
                                         "per request")
                steps = t if steps is None else steps
            arr = arr.astype(info.dtype)
            feeds[name] = np.expand_dims(arr, info.batch_axis) if info.batch_axis is not None else arr
            key.append((name, arr.shape))
        return feeds, tuple(key), steps or 1

    async def submit(self, job_args: dict[str, Any]) -> dict[str, Any]:
        if self.inflight >= self.config.max_queue:
            self.metrics.rejected.inc()
            raise HTTPError(503, f"overloaded: {self.inflight} requests waiting; retry shortly", {"Retry-After": "1"})
        loop = asyncio.get_running_loop()
        job = _Job(future=loop.create_future(), **job_args)
        self.inflight += 1
        self.metrics.queue.set(self.inflight)
        try:
            self.queue.put_nowait(job)
            return await asyncio.wait_for(asyncio.shield(job.future), self.config.request_timeout)
        except asyncio.TimeoutError:
            job.future.cancel()  # not yet in a batch: it never runs; already running: its step may be stored
            raise HTTPError(503, f"no answer within {self.config.request_timeout:g} s; retry shortly (a stream step may "
                                 "have been applied: GET the stream's step)",
                            {"Retry-After": "1"}) from None
        finally:
            self.inflight -= 1
            self.metrics.queue.set(self.inflight)

    # --- the batcher ------------------------------------------------------------------------
    async def _batcher(self) -> None:
        loop = asyncio.get_running_loop()
        pending: deque[_Job] = deque()
        while True:
            if not pending:
                pending.append(await self.queue.get())
            deadline = loop.time() + self.config.batch_window
            while len(pending) < 4 * self.config.max_batch:
                try:
                    pending.append(self.queue.get_nowait())
                    continue
                except asyncio.QueueEmpty:
                    pass
                left = deadline - loop.time()
                if left <= 0:
                    break
                try:
                    pending.append(await asyncio.wait_for(self.queue.get(), left))
                except asyncio.TimeoutError:
                    break
            batch, rest, seen = [], deque(), set()
            key = next((j.key for j in pending if not j.future.done()), None)
            for job in pending:
                if job.future.done():  # its request timed out
                    continue
                if len(batch) < self.config.max_batch and job.key == key and (job.stream is None or job.stream not in seen):
                    batch.append(job)
                else:
                    rest.append(job)
                if job.stream is not None:
                    seen.add(job.stream)  # a stream's later chunks wait for this one, batched or deferred
            pending = rest
            if not batch:
                continue
            self.metrics.batch.observe(len(batch))
            try:
                results = await self.call(self._process, batch)
            except Exception as e:  # noqa: BLE001 - the batch fails, the server keeps serving
                results = [HTTPError(503, f"the batch failed: {type(e).__name__}: {e}; retry shortly", {"Retry-After": "1"})
                           for _ in batch]
            for job, res in zip(batch, results):
                if job.future.done():
                    continue
                if isinstance(res, Exception):
                    job.future.set_exception(res)
                else:
                    job.future.set_result(res)

    def _process(self, batch: list[_Job]) -> list[Any]:
        """Worker thread: load states, one forward, store the new states, split the outputs."""
        b = self.backend
        ids = [j.stream for j in batch if j.stream is not None]
        stored = dict(zip(ids, self.store.get_many(ids))) if ids else {}
        results: list[Any] = [None] * len(batch)
        live = []
        for k, job in enumerate(batch):
            if job.stream is None:
                live.append(k)
                continue
            st = stored.get(job.stream)
            if st is None:
                results[k] = HTTPError(404, f"unknown stream {job.stream!r}: start it with POST /v1/streams/{job.stream}")
            elif job.expect_step is not None and job.expect_step != st.step:
                results[k] = HTTPError(409, f"stream {job.stream!r} is at step {st.step}; this chunk starts at step "
                                            f"{job.expect_step}")
            else:
                live.append(k)
        if not live:
            return results
        jobs = [batch[k] for k in live]
        feeds: dict[str, np.ndarray] = {}
        for name in b.request_inputs:
            feeds[name] = np.concatenate([j.feeds[name] for j in jobs], axis=b.inputs[name].batch_axis or 0)
        if b.lengths_input:
            feeds[b.lengths_input] = np.array([j.steps for j in jobs], dtype=np.int64)
        for name in b.state_inputs:
            info = b.inputs[name]
            parts = [stored[j.stream].arrays[name] if j.stream is not None else info.zeros for j in jobs]
            feeds[name] = np.concatenate(parts, axis=info.batch_axis)
        out = b.run(feeds)
        now = time.time()
        updates, expected, owners = [], [], []
        for i, (k, job) in enumerate(zip(live, jobs)):
            outputs = {}
            for name in b.output_names:
                if name not in b.state_outputs:
                    outputs[name] = np.squeeze(np.take(out[name], [i], axis=b.output_batch_axis[name]), axis=b.output_batch_axis[name])
            arrays = {s_in: np.take(out[s_out], [i], axis=b.output_batch_axis[s_out]) for s_in, s_out in b.state_pairs}
            if not all(np.all(np.isfinite(v)) for v in (*outputs.values(), *arrays.values())):
                results[k] = HTTPError(400, "the network's outputs are not finite for this input (values too large?); "
                                            "nothing was stored")
                continue
            step = job.steps
            if job.stream is not None:
                new = StreamState(stored[job.stream].step + step, arrays, now)
                updates.append((job.stream, new))
                expected.append(stored[job.stream].step)
                owners.append(k)
                step = new.step
            results[k] = {"outputs": outputs, "step": step}
        if updates:  # before any answer: an acknowledged step is stored
            for k, ok in zip(owners, self.store.put_many(updates, expected)):
                if not ok:
                    results[k] = HTTPError(409, f"stream {batch[k].stream!r} was changed by another request while this "
                                                "chunk ran (another replica?); nothing was stored: GET its step and retry")
        return results

    async def _maintenance(self) -> None:
        while True:
            await asyncio.sleep(self.config.maintenance_interval)
            try:
                await self.call(self._maintain)
            except Exception:  # noqa: BLE001 - housekeeping must not stop the server
                pass

    def _maintain(self) -> None:
        self.store.evict_idle(self.config.stream_ttl)
        self.store.maintain()


def _holds_bool(value: Any) -> bool:
    """Does a parsed JSON array hold true/false anywhere (numpy turns [1, true] into integers)?"""
    if isinstance(value, bool):
        return True
    if isinstance(value, list):
        return any(_holds_bool(v) for v in value)
    return False


def _shape_text(shape: tuple[int | None, ...]) -> str:
    return "(" + ", ".join("T" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _jsonable(outputs: dict[str, np.ndarray]) -> dict[str, Any]:
    return {k: v.tolist() for k, v in outputs.items()}


def create_app(backend: Backend, store: StateStore | None = None, config: ServerConfig | None = None,
               *, info: dict[str, Any] | None = None) -> FastAPI:
    """The FastAPI app serving ``backend`` with stream states in ``store`` (default: in memory).

    ``info`` is added to ``GET /v1/model`` (e.g. the estimator type and model directory).
    """
    server = _Server(backend, store if store is not None else MemoryStore(), config or ServerConfig())
    cfg = server.config

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        await server.start()
        try:
            yield
        finally:
            await server.stop()

    kwargs: dict[str, Any] = {}
    if "telemetry" in inspect.signature(FastAPI.__init__).parameters:
        # FastAPI's native OpenTelemetry asks the global providers on every request (10 % of the
        # server's time in a 1000-stream test); the server has its own Prometheus /metrics.
        kwargs["telemetry"] = {"tracing": False, "metrics": False, "logs": False}
    # no /docs, /redoc, /openapi.json: the API is docs/serving.md (the generated pages would show
    # no request bodies, load Swagger from a CDN, and be open without the API key)
    app = FastAPI(title="lstmkit prediction server", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None, **kwargs)
    app.state.server = server
    m = server.metrics

    def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status, headers=headers)

    app.add_middleware(_Guard, config=cfg, metrics=m)

    @app.exception_handler(HTTPError)
    async def http_error(request: Request, exc: HTTPError) -> JSONResponse:
        return error(exc.status, exc.message, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def routing_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:  # 404, 405
        return error(exc.status_code, str(exc.detail))

    async def read_json(request: Request) -> dict[str, Any]:
        chunks, total = [], 0
        async for chunk in request.stream():
            total += len(chunk)
            if total > cfg.max_body_bytes:
                raise HTTPError(413, f"request body over {cfg.max_body_bytes} bytes")
            chunks.append(chunk)
        raw = b"".join(chunks)
        if not raw:
            return {}
        try:
            body = json.loads(raw)
        except RecursionError:
            raise HTTPError(400, "the body is nested too deeply") from None
        except (ValueError, UnicodeDecodeError) as e:
            raise HTTPError(400, f"the body is not valid JSON: {e}") from None
        if not isinstance(body, dict):
            raise HTTPError(400, f"the body must be a JSON object, got {type(body).__name__}")
        return body

    def check_id(stream_id: str) -> None:
        if not STREAM_ID.fullmatch(stream_id) or stream_id in (".", ".."):
            raise HTTPError(400, "stream id must be 1-128 characters of A-Z a-z 0-9 . _ : -")

    def check_streaming() -> None:
        if not backend.streaming:
            raise HTTPError(400, f"this model ({backend.network_name}) carries no state across calls: use POST /v1/predict")

    @app.api_route("/healthz", methods=["GET", "HEAD"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.api_route("/readyz", methods=["GET", "HEAD"])
    async def readyz() -> JSONResponse:
        ok = server.ready and await server.call(server.store.ping)
        return JSONResponse({"status": "ready" if ok else "not ready"}, status_code=200 if ok else 503)

    @app.get("/metrics")
    async def metrics() -> Response:
        try:
            m.streams.set(await server.call(server.store.count))
        except Exception:  # noqa: BLE001 - a store that cannot count leaves the gauge as it was
            pass
        return Response(generate_latest(m.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/model")
    async def model_info() -> dict[str, Any]:
        return {**backend.describe(), **(info or {}),
                "limits": {"max_body_bytes": cfg.max_body_bytes, "max_steps": cfg.max_steps, "max_queue": cfg.max_queue,
                           "stream_ttl": cfg.stream_ttl, "durable_store": server.store.durable}}

    @app.post("/v1/predict")
    async def predict(request: Request) -> JSONResponse:
        body = await read_json(request)
        if "step" in body:
            raise HTTPError(400, "'step' belongs to stream steps, not to /v1/predict")
        feeds, key, steps = server.parse(body)
        res = await server.submit(dict(stream=None, feeds=feeds, key=key, steps=steps, expect_step=None))
        return JSONResponse({"outputs": _jsonable(res["outputs"])})  # a Response skips FastAPI's slow re-encoding

    @app.post("/v1/streams/{stream_id}", status_code=201)
    async def start(stream_id: str) -> dict[str, Any]:
        check_id(stream_id)
        check_streaming()

        zeros = {n: backend.inputs[n].zeros for n in backend.state_inputs}
        if not await server.store_call(server.store.create, stream_id, StreamState(0, zeros)):
            raise HTTPError(409, f"stream {stream_id!r} exists; DELETE it first or continue it")
        return {"stream": stream_id, "step": 0}

    @app.get("/v1/streams/{stream_id}")
    async def get_stream(stream_id: str) -> dict[str, Any]:
        check_id(stream_id)
        st = (await server.store_call(server.store.get_many, [stream_id]))[0]
        if st is None:
            raise HTTPError(404, f"unknown stream {stream_id!r}")
        return {"stream": stream_id, "step": st.step}

    @app.delete("/v1/streams/{stream_id}")
    async def end(stream_id: str) -> dict[str, Any]:
        check_id(stream_id)
        if not await server.store_call(server.store.delete, stream_id):
            raise HTTPError(404, f"unknown stream {stream_id!r}")
        return {"stream": stream_id, "ended": True}

    @app.post("/v1/streams/{stream_id}/step")
    async def step(stream_id: str, request: Request) -> JSONResponse:
        check_id(stream_id)
        check_streaming()
        body = await read_json(request)
        expect = body.get("step")
        if expect is not None and (not isinstance(expect, int) or isinstance(expect, bool) or expect < 0):
            raise HTTPError(400, f"step must be an int >= 0 (where this chunk starts), got {expect!r}")
        feeds, key, steps = server.parse(body)
        res = await server.submit(dict(stream=stream_id, feeds=feeds, key=key, steps=steps, expect_step=expect))
        return JSONResponse({"stream": stream_id, "step": res["step"], "outputs": _jsonable(res["outputs"])})

    return app


class _Guard:
    """Pure ASGI middleware (Starlette's BaseHTTPMiddleware costs a task and two memory streams per
    request): the API key on mutating methods, the declared body size, metrics, and a JSON 500
    for anything unexpected, so one failing request never stops the server."""

    def __init__(self, app: Any, config: ServerConfig, metrics: _Metrics) -> None:
        self.app, self.config, self.metrics = app, config, metrics

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        endpoint = _endpoint(scope["path"])
        t0 = time.perf_counter()
        status = {"code": 500, "started": False}

        async def send_wrapper(message: dict) -> None:
            if message["type"] == "http.response.start":
                status["code"], status["started"] = message["status"], True
            await send(message)

        problem = self._check(scope)
        try:
            if problem is not None:
                await _json_response(send_wrapper, problem.status, {"error": problem.message}, problem.headers)
            else:
                await self.app(scope, receive, send_wrapper)
        except Exception as e:  # noqa: BLE001 - one request fails, the server keeps serving
            if not status["started"]:
                await _json_response(send_wrapper, 500, {"error": f"internal error: {type(e).__name__}: {e}"})
        self.metrics.requests.labels(endpoint, str(status["code"])).inc()
        self.metrics.latency.labels(endpoint).observe(time.perf_counter() - t0)

    def _check(self, scope: dict) -> HTTPError | None:
        headers = {k.lower(): v for k, v in scope.get("headers", [])}  # raw bytes
        if scope["method"] in ("POST", "DELETE", "PUT") and self.config.api_key is not None:
            if not hmac.compare_digest(headers.get(b"x-api-key", b""), self.config.api_key.encode("utf-8")):
                return HTTPError(401, "missing or wrong X-API-Key header")
        size = headers.get(b"content-length", b"").decode("latin-1")
        if size.isdigit() and int(size) > self.config.max_body_bytes:
            return HTTPError(413, f"request body of {size} bytes; the server takes at most {self.config.max_body_bytes}")
        return None


async def _json_response(send: Any, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
    data = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": data})


def _endpoint(path: str) -> str:
    """The route template of a path, for metric labels (bounded cardinality)."""
    if path.startswith("/v1/streams/"):
        return "/v1/streams/{id}/step" if path.endswith("/step") else "/v1/streams/{id}"
    return path if path in ("/healthz", "/readyz", "/metrics", "/v1/model", "/v1/predict") else "other"
