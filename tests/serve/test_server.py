"""The server in-process (ASGI): streams continue from their stored state and match offline
predictions while their steps are batched together; overload gives 503 + Retry-After and the
server recovers; malformed requests get a 4xx JSON error and the server keeps serving."""

import asyncio
import json

import httpx
import numpy as np
import pytest

import lstmkit
from lstmkit.serve.app import ServerConfig, create_app
from lstmkit.serve.backend import Backend
from lstmkit.serve.client import check_against, drive_streams


def run(app, fn):
    async def main():
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
                return await fn(client)
    return asyncio.run(main())


def series_for(n: int, T: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {f"s{k}": rng.normal(size=(T, 1)) for k in range(n)}


@pytest.mark.parametrize("kind", ["torch", "onnx"])
def test_streams_are_batched_and_never_mixed(saved_model, reference, kind):
    if kind == "onnx":
        pytest.importorskip("onnxruntime", reason="the onnx backend needs onnxruntime")
    net = lstmkit.load(saved_model).networks_[0]
    app = create_app(Backend(net, kind), config=ServerConfig(batch_window=0.005))
    series = series_for(120, 9)

    async def go(client):
        res = await drive_streams("", series, chunk=3, app=app)
        metrics = (await client.get("/metrics")).text
        return res, metrics

    res, metrics = run(app, go)
    assert res.errors == [] and set(res.status_counts) == {200, 201}
    assert all(r.acked == 9 for r in res.runs)
    expected = reference(net, series)
    assert check_against(res.runs, expected) < 1e-4  # float32 served vs float64 offline; a mixed state is O(0.1)
    total = float(next(line.split()[-1] for line in metrics.splitlines() if line.startswith("lstmkit_batch_size_sum")))
    count = float(next(line.split()[-1] for line in metrics.splitlines() if line.startswith("lstmkit_batch_size_count")))
    assert total / count > 1.5  # steps of different streams ran in one forward
    # the check can fail: serving stream s0's chunks from s1's state is far off
    swapped = {**expected, "s0": expected["s1"]}
    assert check_against([r for r in res.runs if r.stream == "s0"], swapped) > 1e-2


def test_overload_answers_503_and_recovers(saved_model):
    net = lstmkit.load(saved_model).networks_[0]
    app = create_app(Backend(net), config=ServerConfig(batch_window=0.05, max_queue=8, max_batch=4))
    x = [[0.5], [0.1]]

    async def go(client):
        answers = await asyncio.gather(*(client.post("/v1/predict", json={"x": x}) for _ in range(60)))
        after = await client.post("/v1/predict", json={"x": x})
        metrics = (await client.get("/metrics")).text
        return answers, after, metrics

    answers, after, metrics = run(app, go)
    codes = [a.status_code for a in answers]
    assert set(codes) == {200, 503} and codes.count(200) >= 8
    busy = next(a for a in answers if a.status_code == 503)
    assert busy.headers["retry-after"] == "1" and "overloaded" in busy.json()["error"]
    assert after.status_code == 200
    ok = [a.json()["outputs"]["mean"] for a in answers if a.status_code == 200]
    assert all(o == ok[0] for o in ok)  # every answered request got its own (identical) result
    assert f"lstmkit_rejected_total {float(codes.count(503))}" in metrics


def test_malformed_requests_get_a_json_4xx_and_the_server_keeps_serving(saved_model):
    net = lstmkit.load(saved_model).networks_[0]
    app = create_app(Backend(net), config=ServerConfig(api_key="sesame", max_body_bytes=2000, max_steps=50))
    key = {"X-API-Key": "sesame"}

    async def go(client):
        out = {}
        out["start"] = await client.post("/v1/streams/a", headers=key)
        out["again"] = await client.post("/v1/streams/a", headers=key)
        out["no key"] = await client.post("/v1/streams/a/step", json={"x": [[1.0]]})
        out["wrong key"] = await client.post("/v1/streams/a/step", json={"x": [[1.0]]}, headers={"X-API-Key": "x"})
        out["shape"] = await client.post("/v1/streams/a/step", json={"x": [[1.0, 2.0]]}, headers=key)
        out["nan"] = await client.post("/v1/streams/a/step", content=b'{"x": [[NaN]]}', headers=key)
        out["text"] = await client.post("/v1/streams/a/step", json={"x": "abc"}, headers=key)
        out["field"] = await client.post("/v1/streams/a/step", json={"x": [[1.0]], "y": 2}, headers=key)
        out["missing"] = await client.post("/v1/streams/a/step", json={}, headers=key)
        out["json"] = await client.post("/v1/streams/a/step", content=b"{not json", headers=key)
        out["list"] = await client.post("/v1/streams/a/step", json=[1, 2], headers=key)
        out["step type"] = await client.post("/v1/streams/a/step", json={"x": [[1.0]], "step": "0"}, headers=key)
        out["wrong step"] = await client.post("/v1/streams/a/step", json={"x": [[1.0]], "step": 3}, headers=key)
        out["unknown"] = await client.post("/v1/streams/zz/step", json={"x": [[1.0]]}, headers=key)
        out["bad id"] = await client.post("/v1/streams/a%20b", headers=key)
        out["big"] = await client.post("/v1/streams/a/step", json={"x": [[0.123456789]] * 300}, headers=key)
        out["steps"] = await client.post("/v1/streams/a/step", json={"x": [[1.0]] * 60}, headers=key)
        out["route"] = await client.get("/v1/nothing")
        out["method"] = await client.put("/v1/predict", headers=key)
        out["delete unknown"] = await client.delete("/v1/streams/zz", headers=key)
        out["float32 range"] = await client.post("/v1/streams/a/step", json={"x": [[1e39]]}, headers=key)
        out["string number"] = await client.post("/v1/streams/a/step", json={"x": [["1.5"]]}, headers=key)
        out["boolean"] = await client.post("/v1/streams/a/step", json={"x": [[True]]}, headers=key)
        out["mixed boolean"] = await client.post("/v1/streams/a/step", json={"x": [[0.5], [True]]}, headers=key)
        out["int and boolean"] = await client.post("/v1/streams/a/step", json={"x": [[1], [False]]}, headers=key)
        out["huge int"] = await client.post("/v1/streams/a/step", content=b'{"x": [[' + b"1" * 400 + b"]]}", headers=key)
        out["deep"] = await client.post("/v1/predict", content=b'{"x": ' + b"[" * 900 + b"]" * 900 + b"}", headers=key)
        out["newline id"] = await client.post("/v1/streams/a%0A", headers=key)
        out["dot id"] = await client.post("/v1/streams/..x", headers=key)
        out["docs page"] = await client.get("/docs")
        out["head health"] = await client.head("/healthz")
        out["ok"] = await client.post("/v1/streams/a/step", json={"x": [[1.0], [0.5]], "step": 0}, headers=key)
        out["get"] = await client.get("/v1/streams/a")
        out["end"] = await client.delete("/v1/streams/a", headers=key)
        out["gone"] = await client.get("/v1/streams/a")
        return out

    out = run(app, go)
    expected = {"start": 201, "again": 409, "no key": 401, "wrong key": 401, "shape": 400, "nan": 400, "text": 400,
                "field": 400, "missing": 400, "json": 400, "list": 400, "step type": 400, "wrong step": 409,
                "unknown": 404, "bad id": 400, "big": 413, "steps": 413, "route": 404, "method": 405,
                "delete unknown": 404, "float32 range": 400, "string number": 400, "boolean": 400, "mixed boolean": 400, "int and boolean": 400, "huge int": 400,
                "deep": 400, "newline id": 400, "dot id": 201, "docs page": 404, "head health": 200, "ok": 200, "get": 200, "end": 200, "gone": 404}
    assert {k: r.status_code for k, r in out.items()} == expected
    for name, r in out.items():
        if r.status_code >= 400 and name != "docs page":
            assert set(r.json()) == {"error"} and r.json()["error"], name
    assert out["shape"].json()["error"] == "x must have shape (T, 1), got [1, 2]"
    assert out["nan"].json()["error"] == "x must be finite (no NaN or infinity)"
    assert out["wrong step"].json()["error"] == "stream 'a' is at step 0; this chunk starts at step 3"
    assert out["no key"].json()["error"] == "missing or wrong X-API-Key header"
    assert out["ok"].json()["step"] == 2 and out["get"].json() == {"stream": "a", "step": 2}  # nothing bad was stored
    assert "beyond float32's range" in out["float32 range"].json()["error"]


def test_a_streams_chunks_run_in_arrival_order(saved_model):
    """A chunk deferred because its shape differs from the batch's holds back that stream's later
    chunks: C's first chunk (1 step) is applied before its second (2 steps), though the second
    has the shape of D's chunk, which leads the batch."""
    net = lstmkit.load(saved_model).networks_[0]
    app = create_app(Backend(net), config=ServerConfig(batch_window=0.3))

    async def go(client):
        for sid in ("C", "D"):
            await client.post(f"/v1/streams/{sid}")

        async def push(sid, x, delay):
            await asyncio.sleep(delay)
            return await client.post(f"/v1/streams/{sid}/step", json={"x": x})

        return await asyncio.gather(push("D", [[0.0], [0.0]], 0.0), push("C", [[0.5]], 0.03),
                                    push("C", [[0.5], [0.5]], 0.06))

    d, c1, c2 = run(app, go)
    assert (d.json()["step"], c1.json()["step"], c2.json()["step"]) == (2, 1, 3)


def test_a_non_ascii_api_key_and_a_store_that_fails(saved_model):
    from lstmkit.serve.store import MemoryStore

    class Broken(MemoryStore):
        def create(self, stream_id, state):
            raise ConnectionError("store down")

        def get_many(self, ids):
            raise ConnectionError("store down")

    net = lstmkit.load(saved_model).networks_[0]
    app = create_app(Backend(net), Broken(), ServerConfig(api_key="sékret"))

    async def go(client):
        good = await client.post("/v1/streams/a", headers={"X-API-Key": "sékret".encode()})
        bad = await client.post("/v1/streams/a", headers={"X-API-Key": "sekret"})
        deep = await client.post("/v1/predict", content=b'{"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
                                 headers={"X-API-Key": "sékret".encode()})
        step = await client.post("/v1/streams/a/step", json={"x": [[0.0]]}, headers={"X-API-Key": "sékret".encode()})
        return good, bad, deep, step

    good, bad, deep, step = run(app, go)
    assert step.status_code == 503 and step.headers["retry-after"] == "1"  # the batch failed: retry later
    assert "the batch failed: ConnectionError: store down" in step.json()["error"]
    assert deep.status_code == 400 and deep.json()["error"] == "the body is nested too deeply"
    assert good.status_code == 503 and good.headers["retry-after"] == "1"  # past the key; the store is down
    assert "the state store is unavailable (ConnectionError: store down)" in good.json()["error"]
    assert bad.status_code == 401


def test_idle_streams_are_evicted(saved_model):
    net = lstmkit.load(saved_model).networks_[0]
    app = create_app(Backend(net), config=ServerConfig(stream_ttl=0.3, maintenance_interval=0.05))

    async def go(client):
        await client.post("/v1/streams/idle")
        await client.post("/v1/streams/busy")
        for _ in range(8):
            await asyncio.sleep(0.1)
            await client.post("/v1/streams/busy/step", json={"x": [[0.0]]})
        return (await client.get("/v1/streams/idle")).status_code, (await client.get("/v1/streams/busy")).status_code

    assert run(app, go) == (404, 200)


def test_a_model_without_state_serves_predict_only():
    from lstmkit.models.classifier import ClassifierNetwork, ClassifierNetworkConfig

    net = ClassifierNetwork(ClassifierNetworkConfig(input_size=2, num_classes=3, hidden_size=4))
    app = create_app(Backend(net))

    async def go(client):
        model = (await client.get("/v1/model")).json()
        stream = await client.post("/v1/streams/a")
        pred = await client.post("/v1/predict", json={"x": [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]})
        return model, stream, pred

    model, stream, pred = run(app, go)
    assert model["streaming"] is False and model["inputs"] == {"x": {"shape": [None, 2], "dtype": "float32"}}
    assert stream.status_code == 400 and "carries no state" in stream.json()["error"]
    import torch
    with torch.no_grad():
        want = net.eval()(torch.tensor([[[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]]), torch.tensor([3]))[0].numpy()
    np.testing.assert_allclose(pred.json()["outputs"]["logits"], want, rtol=0, atol=1e-6)
    assert json.dumps(pred.json())  # plain JSON


def test_a_language_model_streams_token_ids():
    """Integer inputs: ids are checked against the vocabulary; a stream continues token by token."""
    import torch

    from lstmkit.models.language_model import LanguageModelNetwork, LanguageModelNetworkConfig

    torch.manual_seed(0)
    net = LanguageModelNetwork(LanguageModelNetworkConfig(vocab_size=12, embedding_dim=6, hidden_size=8))
    app = create_app(Backend(net))
    tokens = [3, 1, 4, 1, 5, 9, 2, 6]

    async def go(client):
        await client.post("/v1/streams/lm")
        parts = [await client.post("/v1/streams/lm/step", json={"tokens": tokens[:5]}),
                 await client.post("/v1/streams/lm/step", json={"tokens": tokens[5:], "step": 5})]
        bad = [await client.post("/v1/streams/lm/step", json={"tokens": t}) for t in ([12], [-1], [1.5])]
        return parts, bad

    parts, bad = run(app, go)
    logits = np.concatenate([np.array(p.json()["outputs"]["logits"]) for p in parts])  # (8, V)
    with torch.no_grad():
        want = net.eval()(torch.tensor([tokens]))[0][0].double().numpy()
    assert np.abs(logits - want).max() < 1e-5 and parts[1].json()["step"] == 8
    assert [b.status_code for b in bad] == [400, 400, 400]
    assert bad[0].json()["error"] == "tokens must hold integer ids >= 0 and below 12"


def test_a_classifier_with_minirocket_serves_what_predict_proba_gives():
    """A classifier with MiniRocket (the default: network and MiniRocket halves): ``lstmkit serve``
    runs the whole of ``predict_proba`` (``onnx_network()``), not the network half alone."""
    from lstmkit.estimators import LSTMClassifier

    rng = np.random.default_rng(3)
    X = rng.normal(size=(16, 30, 1)).astype(np.float32)
    y = np.array([0, 1] * 8)
    X[y == 1, 10:20] += 2.0
    clf = LSTMClassifier(hidden_size=4, fcn_filters=(4, 4, 4), minirocket=True,
                         trainer={"max_steps": 3, "quiet": True}).fit(X, y)
    assert clf.minirocket_ is not None
    app = create_app(Backend(clf.onnx_network()))
    x = clf.pipeline_.inputs.transform(X[:1])[0]  # model input of one series (T, F')

    async def go(client):
        return (await client.post("/v1/predict", json={"x": x.tolist()})).json()

    out = run(app, go)
    np.testing.assert_allclose(np.exp(out["outputs"]["log_probs"]), clf.predict_proba(X[:1])[0], rtol=0, atol=1e-5)
    net_only = clf.predict_proba(X[:1], part="network")[0]
    assert not np.allclose(np.exp(out["outputs"]["log_probs"]), net_only, atol=1e-3)
