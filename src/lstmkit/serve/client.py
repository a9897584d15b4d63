"""An asyncio client of the prediction server, and the load test built on it.

:func:`drive_streams` plays many streams at once, each pushing its own series chunk by chunk
with the ``step`` field (so a retry never applies a chunk twice), and returns what every stream
got back; :func:`check_against` compares that with offline predictions.
``benchmarks/bench_serve.py`` and the server's tests use it.

Over sockets it uses aiohttp (httpx's connection pool spends O(connections) per request, which
made the client, not the server, the bottleneck of a 1000-stream test); an app in the same
process is driven through httpx's ASGI transport (``app=``).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from lstmkit.errors import MissingDependencyError

__all__ = ["LoadResult", "StreamRun", "check_against", "drive_streams"]


@dataclass
class StreamRun:
    """One stream's series (T, ...) and what came back: ``outputs[name][t]`` for each answered step."""

    stream: str
    series: np.ndarray
    acked: int = 0  # steps acknowledged
    outputs: dict[str, dict[int, np.ndarray]] = field(default_factory=dict)
    statuses: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # seconds per step request


@dataclass
class LoadResult:
    runs: list[StreamRun]
    seconds: float
    status_counts: dict[int, int]
    errors: list[str]

    @property
    def steps_per_second(self) -> float:
        return sum(r.acked for r in self.runs) / self.seconds if self.seconds else 0.0

    def latency(self, q: float) -> float:
        """The q-quantile (0..1) of the step requests' latencies, in seconds."""
        values = [v for r in self.runs for v in r.latencies]
        return float(np.quantile(values, q)) if values else float("nan")


Post = Callable[[str, Any], Any]  # (path, json body or None) -> awaitable (status, headers, body text)


@asynccontextmanager
async def _session(url: str, headers: dict[str, str], timeout: float, max_connections: int,
                   app: Any = None) -> AsyncIterator[tuple[Post, tuple[type[BaseException], ...]]]:
    if app is not None:
        import httpx

        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app", headers=headers,
                                     timeout=timeout) as client:
            async def post(path: str, body: Any) -> tuple[int, dict, str]:
                r = await client.post(path, json=body)
                return r.status_code, dict(r.headers), r.text
            yield post, (httpx.HTTPError,)
        return
    try:
        import aiohttp
    except ImportError:
        raise MissingDependencyError("the server client needs aiohttp: pip install 'lstmkit[serve]'") from None
    conn = aiohttp.TCPConnector(limit=max_connections)
    async with aiohttp.ClientSession(base_url=url, headers=headers, connector=conn,
                                     timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        async def post(path: str, body: Any) -> tuple[int, dict, str]:
            data = None if body is None else json.dumps(body)
            async with session.post(path, data=data, headers={"content-type": "application/json"}) as r:
                return r.status, dict(r.headers), await r.text()
        yield post, (aiohttp.ClientError, asyncio.TimeoutError)


async def drive_streams(url: str, series: dict[str, np.ndarray], *, input_name: str = "x", chunk: int = 1,
                        api_key: str | None = None, resume: dict[str, int] | None = None, retry_503: bool = True,
                        timeout: float = 60.0, max_connections: int = 1000, runs: dict[str, StreamRun] | None = None,
                        app: Any = None) -> LoadResult:
    """Push every stream's series through the server concurrently, ``chunk`` steps per request.

    Each stream is started first (``POST /v1/streams/{id}``) unless ``resume`` (stream -> step
    to continue from, after a restart) is given; ``runs``: earlier results to extend. A 503 is
    retried after a twentieth of its Retry-After when ``retry_503``; a connection error ends that
    stream's run (recorded in ``errors``). ``app``: drive a FastAPI app in this process instead
    of ``url``.
    """
    headers = {"X-API-Key": api_key} if api_key else {}
    runs = runs if runs is not None else {sid: StreamRun(sid, s) for sid, s in series.items()}
    counts: dict[int, int] = {}
    errors: list[str] = []
    t0 = time.perf_counter()
    async with _session(url, headers, timeout, max_connections, app) as (post, connection_errors):

        async def one(sid: str) -> None:
            run = runs[sid]
            try:
                if resume is None:
                    status, _, text = await post(f"/v1/streams/{sid}", None)
                    counts[status] = counts.get(status, 0) + 1
                    if status != 201:
                        errors.append(f"{sid}: start -> {status} {text[:200]}")
                        return
                pos = (resume or {}).get(sid, run.acked)
                run.acked = pos
                while pos < len(run.series):
                    part = run.series[pos:pos + chunk]
                    t_req = time.perf_counter()
                    status, hdrs, text = await post(f"/v1/streams/{sid}/step", {input_name: part.tolist(), "step": pos})
                    run.latencies.append(time.perf_counter() - t_req)
                    counts[status] = counts.get(status, 0) + 1
                    run.statuses.append(status)
                    if status == 503 and retry_503:
                        retry = {k.lower(): v for k, v in hdrs.items()}.get("retry-after", "1")
                        await asyncio.sleep(float(retry) * 0.05)
                        continue
                    if status != 200:
                        errors.append(f"{sid}: step {pos} -> {status} {text[:200]}")
                        return
                    body = json.loads(text)
                    for name, values in body["outputs"].items():
                        got = run.outputs.setdefault(name, {})
                        for k, v in enumerate(values):
                            got[pos + k] = np.asarray(v)
                    pos = body["step"]
                    run.acked = pos
            except connection_errors as e:
                errors.append(f"{sid}: {type(e).__name__}: {e}")

        await asyncio.gather(*(one(sid) for sid in series))
    return LoadResult(list(runs.values()), time.perf_counter() - t0, counts, errors)


def check_against(runs: list[StreamRun], reference: dict[str, dict[str, np.ndarray]]) -> float:
    """Largest |served - offline| over every answered step of every stream; ``reference[stream][output]``
    is the offline output over the whole series (T, ...)."""
    worst = 0.0
    for run in runs:
        for name, got in run.outputs.items():
            ref = reference[run.stream][name]
            for t, v in got.items():
                worst = max(worst, float(np.abs(v - ref[t]).max()))
    return worst
