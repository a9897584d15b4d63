"""The documentation site builds with warnings as errors (a broken docstring fails), offline, in
seconds; every public name of every package's __all__ is in the API reference; the CLI reference
is generated from the commands."""

import importlib
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = ["lstmkit", "lstmkit.estimators", "lstmkit.nn", "lstmkit.data", "lstmkit.models", "lstmkit.train",
           "lstmkit.evaluation", "lstmkit.viz", "lstmkit.viz.report", "lstmkit.models.decoding", "lstmkit.train.run_record",
           "lstmkit.data.text", "lstmkit.experiments", "lstmkit.persist",
           "lstmkit.errors"]
MISSING = [m for m in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python")
           if importlib.util.find_spec(m.split(".")[0]) is None
           or (m == "mkdocstrings_handlers.python" and importlib.util.find_spec(m) is None)]
pytestmark = pytest.mark.skipif(bool(MISSING), reason=f"docs extra not installed (missing {MISSING}): "
                                                      "pip install -e '.[docs]'")


def build_site(dest: Path) -> Path:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(dest)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return dest


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return build_site(tmp_path_factory.mktemp("site"))


def test_docs_build_strict_and_offline(site):
    pages = sorted(site.rglob("*.html"))
    names = {p.parent.name if p.name == "index.html" else p.stem for p in pages}
    assert {"forecasting", "classification", "tagging", "experiments", "memory", "cli", "model-format",
            "benchmarks", "api"} <= names
    for page in pages:  # nothing is fetched from the network: no CDN script, stylesheet or font
        assert not re.search(r"<(script|link)[^>]+(src|href)=\"(https?:)?//", page.read_text()), page
    assert "fonts.googleapis" not in (site / "index.html").read_text()


def test_api_reference_lists_every_public_name(site):
    html = (site / "api" / "index.html").read_text()
    ids = set(re.findall(r'id="(lstmkit[\w.]*)"', html))
    missing = [f"{m}.{n}" for m in MODULES for n in importlib.import_module(m).__all__
               if n != "__version__" and not any(i.endswith("." + n) for i in ids)]
    assert not missing, missing


def test_cli_reference_is_generated_from_the_commands(site):
    html = (site / "cli" / "index.html").read_text()
    for command in ("lstmkit report", "lstmkit forecast train", "lstmkit experiment adding", "lstmkit tag train"):
        assert f"<code>{command}</code>" in html, command
    assert "Example: lstmkit" in html and "--run-dir" in html
    bench = (site / "benchmarks" / "index.html").read_text()
    assert "Core engine (bench_core.py)" in bench  # included from benchmarks/RESULTS.md


def test_every_marked_example_has_its_figure_on_the_page():
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import figures
    finally:
        sys.path.pop(0)
    found = figures.examples()
    pages = {page.stem for page, _, _ in found}
    assert {"forecasting", "classification", "tagging", "memory"} <= pages
    for page, names, code in found:
        compile(code, f"{page.name}:{names}", "exec")  # the example is valid Python
        text = page.read_text()
        for name in names:
            assert (ROOT / "docs" / "img" / name).stat().st_size > 1000, f"{page.name}: run python docs/figures.py {name}"
            assert f"](img/{name})" in text, f"{page.name} does not show img/{name}"
