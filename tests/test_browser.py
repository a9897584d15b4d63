"""The report page and the documentation site in a real browser: headless Chromium (Debian's
chromium package, installed here with apt-get when absent and possible; otherwise these tests
skip with the reason). A page fails on any console message (uncaught errors, failed loads) and
on a plotly figure that did not render. DNS is switched off (--host-resolver-rules), so a page
that needed the network fails too. Screenshots are saved under the test's temporary folder.
"""

import functools
import http.server
import importlib.util
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from system_packages import find_or_install

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.browser


@functools.lru_cache(maxsize=1)
def _find_chromium() -> tuple[str | None, str]:
    return find_or_install(("chromium", "chromium-browser", "google-chrome"), "chromium")


@pytest.fixture(scope="module")
def chromium():
    path, reason = _find_chromium()
    if path is None:
        pytest.skip(reason)
    return path


def open_page(chromium: str, url: str, folder: Path, name: str) -> tuple[str, list[str], Path]:
    """(DOM after the scripts ran, console/network error lines, screenshot path)."""
    common = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--no-first-run", "--disable-dev-shm-usage", f"--user-data-dir={folder / ('profile-' + name)}",
              "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--enable-logging=stderr", "--v=0",
              "--virtual-time-budget=15000"]
    dom = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True, timeout=180)
    errors = [line for line in dom.stderr.splitlines()
              if "CONSOLE" in line or "Failed to load resource" in line or "ERR_NAME_NOT_RESOLVED" in line]
    shot = folder / f"{name}.png"
    subprocess.run([*common, f"--screenshot={shot}", "--window-size=1280,2400", "--hide-scrollbars", url],
                   capture_output=True, text=True, timeout=180)
    return dom.stdout, errors, shot


def test_the_console_check_catches_an_error(chromium, tmp_path):
    page = tmp_path / "broken.html"
    # A script from a CDN cannot load (DNS is off), so the code that needs it fails visibly.
    page.write_text("<!doctype html><html><body><p>x</p><script>no_such_function();</script>"
                    '<script src="https://cdn.plot.ly/plotly-2.35.2.min.js"></script>'
                    "<script>Plotly.newPlot('p', [])</script></body></html>")
    dom, errors, _ = open_page(chromium, page.as_uri(), tmp_path, "broken")
    assert "<p>x</p>" in dom
    assert any("no_such_function" in e for e in errors), errors
    assert any("Plotly is not defined" in e for e in errors), errors


def test_report_renders_offline_without_console_errors(chromium, tmp_path):
    pytest.importorskip("plotly", reason="the report needs plotly (the viz extra)")
    from lstmkit.experiments import run_experiment
    from lstmkit.viz.report import write_report

    run_experiment("adding", ["lstm"], 12, hidden_size=4, batch_size=8, max_steps=3, steps_per_epoch=3,
                   n_val=16, n_test=16, max_minutes=None, run_dir=str(tmp_path / "runs"))
    report = write_report(tmp_path / "runs" / "adding-lstm-12", tmp_path / "report.html", n_sequences=2)
    source = report.read_text()
    dom, errors, shot = open_page(chromium, report.as_uri(), tmp_path, "report")
    assert not errors, errors
    figures = source.count("Plotly.newPlot(")
    assert figures >= 6
    assert dom.count('class="plot-container plotly"') == figures  # every figure rendered
    assert "main-svg" in dom and "Units that hold the marked values" in dom
    assert shot.stat().st_size > 10_000


def test_task_report_renders_offline_without_console_errors(chromium, tmp_path):
    pytest.importorskip("plotly", reason="the report needs plotly (the viz extra)")
    import numpy as np

    from lstmkit import LSTMClassifier
    from lstmkit.viz.report import write_report

    rng = np.random.default_rng(0)
    y = np.array(["a", "b"] * 12)
    X = rng.normal(size=(24, 7, 2)) + (y == "b")[:, None, None]
    LSTMClassifier(hidden_size=4, val_size=0.25, trainer={"max_epochs": 2, "quiet": True, "run_dir": str(tmp_path / "run")}).fit(X, y)
    report = write_report(tmp_path / "run", tmp_path / "report.html", n_sequences=2)
    figures = report.read_text().count("Plotly.newPlot(")
    dom, errors, shot = open_page(chromium, report.as_uri(), tmp_path, "task-report")
    assert not errors, errors
    assert figures >= 2 + 2 * 2 and dom.count('class="plot-container plotly"') == figures
    assert "Evaluation against baselines" in dom and "majority class" in dom
    assert shot.stat().st_size > 10_000


@pytest.fixture(scope="module")
def served_site(tmp_path_factory):
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("mkdocstrings_handlers") is None:
        pytest.skip("docs extra not installed: pip install -e '.[docs]'")
    site = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(site)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize("page", ["", "memory/", "api/"])  # the index, a page of figures, the largest page
def test_docs_pages_load_without_console_errors(chromium, served_site, tmp_path, page):
    dom, errors, shot = open_page(chromium, f"{served_site}/{page}", tmp_path, re.sub(r"\W", "", page) or "index")
    assert not errors, errors
    assert 'class="md-content"' in dom or "md-content" in dom
    assert shot.stat().st_size > 10_000
