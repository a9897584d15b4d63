"""lstmkit report / viz.report.write_report: a tiny adding-problem run becomes one offline page."""

import json
import re
import shutil

import pytest

from lstmkit.cli.main import main
from lstmkit.errors import ConfigError
from lstmkit.experiments import run_experiment

pytest.importorskip("plotly", reason="the report needs plotly (the viz extra)")
from lstmkit.viz.report import write_report  # noqa: E402

EXTERNAL = re.compile(r"<(script|link|img|iframe)[^>]+(src|href)=[\"']?(https?:)?//", re.I)


@pytest.fixture(scope="module")
def adding_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    run_experiment("adding", ["lstm"], 12, hidden_size=4, batch_size=8, max_steps=3, steps_per_epoch=3,
                   n_val=16, n_test=16, max_minutes=None, run_dir=str(root))
    return root / "adding-lstm-12"


def test_report_of_an_adding_run_is_one_offline_page(adding_run, tmp_path, capsys):
    out = tmp_path / "report.html"
    assert main(["report", str(adding_run), "-o", str(out), "--sequences", "2"]) == 0
    assert "wrote" in capsys.readouterr().out
    page = out.read_text()
    assert not EXTERNAL.search(page)  # self-contained: no CDN script, stylesheet or image
    assert page.count("Plotly.newPlot(") >= 2 + 2 * 2  # two metric plots + two figures per sequence
    for section in ('id="configuration"', 'id="metrics"', 'id="gates"', "experiment.json", "trainer_config.json",
                    "SequenceNetwork", "Units that hold the marked values", "Gates at the markers",
                    "baseline: always 0.5", "Held-out sequence 1"):
        assert section in page, section
    assert "Held-out sequence 2" not in page
    assert 'class="note"' not in page


def test_missing_pieces_get_a_note(adding_run, tmp_path):
    old = tmp_path / "old-run"
    shutil.copytree(adding_run, old)
    (old / "experiment.json").unlink()  # a run from before experiment.json
    page = write_report(old, tmp_path / "r1.html").read_text()
    assert "holds no samples to draw" in page
    shutil.rmtree(old / "model")
    (old / "trainer_config.json").unlink()
    page = write_report(old, tmp_path / "r2.html").read_text()
    assert "No saved network" in page and "No <code>trainer_config.json</code>" in page
    assert 'id="metrics"' in page and "train_loss" in page
    cfg = json.loads((adding_run / "experiment.json").read_text())
    assert cfg["problem"] == "adding" and cfg["length"] == 12


def test_bad_run_folders(adding_run, tmp_path, capsys):
    with pytest.raises(ConfigError, match=r"pass one of them"):
        write_report(adding_run.parent, tmp_path / "r.html")
    with pytest.raises(ConfigError, match=r"must end in \.html"):
        write_report(adding_run, tmp_path / "r.png")
    assert main(["report", str(tmp_path / "nope"), "-o", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert "RUN_DIR" in err and "does not exist" in err
