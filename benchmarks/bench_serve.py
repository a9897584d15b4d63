"""The prediction server under load: 1000 concurrent streams against ``lstmkit serve`` on
loopback, with cross-stream batching and without (``--max-batch 1``), on the torch and the
onnxruntime backend, all in one run; then a flood past the queue bound.

For each configuration: steps/s (acknowledged stream steps per second of wall time), latency
p50/p99 of a step request (one step per request; one row with 10), the answers' status codes, and the largest difference between the
served outputs and an offline float64 run of each stream's whole series (a mixed-up state would
show as O(0.1)). The network is LSTMAnomalyDetector's default (2 x 64, prediction scorer), fit
briefly on a sine (its weights do not matter for speed). Server and client share the machine.

    python benchmarks/bench_serve.py                     # about 5 minutes on 2 cores
    python benchmarks/bench_serve.py --streams 200 --steps 5
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import numpy as np
import torch

from lstmkit.estimators import LSTMAnomalyDetector
from lstmkit.export.onnx import onnx_spec
from lstmkit.serve.client import check_against, drive_streams


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(model: Path, *args: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    code = "import sys; from lstmkit.cli.main import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen([sys.executable, "-c", code, "serve", str(model), "--port", str(port), *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    import urllib.request
    for _ in range(600):
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=1) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


def offline(network: torch.nn.Module, series: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    spec = onnx_spec(copy.deepcopy(network).double().eval())
    ids = list(series)
    x = torch.from_numpy(np.stack([series[i] for i in ids])).double()
    g = torch.Generator().manual_seed(0)
    inputs = [x] + [torch.zeros_like(make(len(ids), x.shape[1], g)).double() for _, make in spec.inputs[1:]]
    with torch.no_grad():
        res = spec.module(*inputs)
    state = {o for _, o in spec.state_pairs}
    return {sid: {n: r[b].numpy() for n, r in zip(spec.outputs, res) if n not in state} for b, sid in enumerate(ids)}


async def flood(url: str, n: int) -> dict[int, int]:
    body = json.dumps({"x": np.zeros((50, 1)).tolist()})
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=n)) as session:
        async def one() -> int:
            try:
                async with session.post(url + "/v1/predict", data=body) as r:
                    await r.read()
                    return r.status
            except aiohttp.ClientError:
                return -1
        codes = await asyncio.gather(*(one() for _ in range(n)))
    return {c: codes.count(c) for c in sorted(set(codes))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=20, help="steps per stream, one per request")
    ap.add_argument("--threads", type=int, default=1, help="the server's compute threads")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    folder = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    t = np.arange(600)
    det = LSTMAnomalyDetector(random_state=0, trainer={"max_epochs": 2, "quiet": True}).fit(np.sin(t / 5.0))
    det.save(folder / "det.model")
    rng = np.random.default_rng(0)
    series = {f"s{k}": rng.normal(size=(args.steps, 1)) for k in range(args.streams)}
    expected = offline(det.networks_[0], series)
    configs = [("torch", "batched", ["--backend", "torch"]),
               ("torch", "batched, 10 steps per request", ["--backend", "torch"]),
               ("torch", "one stream per forward", ["--backend", "torch", "--max-batch", "1", "--batch-window-ms", "0"]),
               ("onnx", "batched", ["--backend", "onnx"]),
               ("onnx", "one stream per forward", ["--backend", "onnx", "--max-batch", "1", "--batch-window-ms", "0"])]
    rows = []
    print(f"{args.streams} concurrent streams x {args.steps} steps (one step per request), server threads "
          f"{args.threads}, {os.cpu_count()} CPUs")
    for backend, mode, extra in configs:
        proc, url = start(folder / "det.model", "--threads", str(args.threads), "--max-queue", str(4 * args.streams), *extra)
        try:
            chunk = 10 if "10 steps" in mode else 1
            res = asyncio.run(drive_streams(url, series, chunk=chunk, timeout=300))
            err = check_against(res.runs, expected)
            row = {"backend": backend, "mode": mode, "steps_per_s": res.steps_per_second,
                   "p50_ms": 1e3 * res.latency(0.5), "p99_ms": 1e3 * res.latency(0.99),
                   "status": {str(k): v for k, v in res.status_counts.items()}, "errors": len(res.errors),
                   "max_abs_diff_vs_offline": err, "seconds": res.seconds}
            rows.append(row)
            print(f"{backend:6s} {mode:31s} {row['steps_per_s']:8.0f} steps/s  p50 {row['p50_ms']:6.1f} ms  "
                  f"p99 {row['p99_ms']:7.1f} ms  status {row['status']}  errors {row['errors']}  "
                  f"max |served - offline| {err:.1e}")
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
    base = {r["backend"]: r["steps_per_s"] for r in rows if r["mode"] == "one stream per forward"}
    for r in rows:
        if r["mode"] == "batched":
            print(f"cross-stream batching speed-up, {r['backend']}: {r['steps_per_s'] / base[r['backend']]:.1f}x")
    tb = next(r["steps_per_s"] for r in rows if r["backend"] == "torch" and r["mode"] == "batched")
    ob = next(r["steps_per_s"] for r in rows if r["backend"] == "onnx" and r["mode"] == "batched")
    print(f"onnxruntime / torch, batched: {ob / tb:.2f}x")
    proc, url = start(folder / "det.model", "--max-queue", "256")
    try:
        codes = asyncio.run(flood(url, 4000))
        with __import__("urllib.request").request.urlopen(url + "/healthz", timeout=5) as r:
            alive = r.status == 200
        print(f"flood of 4000 concurrent predicts (50 steps) past --max-queue 256: status counts {codes}; "
              f"healthy afterwards: {alive}")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "flood": codes}, f, indent=1)


if __name__ == "__main__":
    main()
