"""Readers: UCR/UEA .ts and CoNLL/CoNLL-U, including malformed and empty files."""

import numpy as np
import pytest

from lstmkit.data.conll import read_conll, read_conllu
from lstmkit.data.ts import read_ts
from lstmkit.errors import ConfigError, DataError

UNI = """# a comment
@problemName Tiny
@timeStamps false
@univariate true
@equalLength true
@seriesLength 3
@classLabel true a b
@data
1,2,3:a
4,5,?:b
"""

MULTI_UNEQUAL = """@problemName Tiny2
@dimensions 2
@equalLength false
@classLabel true x y
@data
1,2,3:4,5,6:x
7,8:9,10:y
"""


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_ts_univariate_equal_length(tmp_path):
    X, y = read_ts(write(tmp_path, "a.ts", UNI))
    assert X.shape == (2, 3, 1)
    np.testing.assert_array_equal(X[0, :, 0], [1, 2, 3])
    assert np.isnan(X[1, 2, 0])
    assert y.tolist() == ["a", "b"]


def test_ts_multivariate_unequal_length(tmp_path):
    X, y = read_ts(write(tmp_path, "b.ts", MULTI_UNEQUAL))
    assert isinstance(X, list) and [x.shape for x in X] == [(3, 2), (2, 2)]
    np.testing.assert_array_equal(X[1], [[7, 9], [8, 10]])
    assert y.tolist() == ["x", "y"]


@pytest.mark.parametrize(
    "bad_line, expected",
    [
        ("1,2,oops:a", r"line 11: dimension 0: expected comma-separated numbers, got 'oops'"),
        ("1,2,3:zzz", r"line 11: class label 'zzz' is not among"),
        ("1,2,3", r"line 11: expected '<values>:<class label>'"),
    ],
)
def test_ts_malformed_line_names_file_and_line(tmp_path, bad_line, expected):
    p = write(tmp_path, "bad.ts", UNI + bad_line + "\n")
    with pytest.raises(DataError, match=expected) as info:
        read_ts(p)
    assert "bad.ts" in str(info.value)


def test_ts_dimension_mismatch(tmp_path):
    p = write(tmp_path, "dim.ts", MULTI_UNEQUAL + "1,2\n".replace("\n", ":x\n"))
    with pytest.raises(DataError, match=r"line 8: expected 2 ':'-separated dimensions"):
        read_ts(p)


def test_ts_empty_and_headers_only(tmp_path):
    with pytest.raises(DataError, match="no '@data' line"):
        read_ts(write(tmp_path, "empty.ts", ""))
    with pytest.raises(DataError, match="no cases"):
        read_ts(write(tmp_path, "nodata.ts", UNI.split("1,2,3")[0]))
    with pytest.raises(DataError, match="does not exist"):
        read_ts(tmp_path / "missing.ts")


CONLLU = """# sent_id = 1
# text = Ali geldi .
1\tAli\tAli\tPROPN\t_\t_\t2\tnsubj\t_\t_
2\tgeldi\tgel\tVERB\t_\t_\t0\troot\t_\t_
3\t.\t.\tPUNCT\t_\t_\t2\tpunct\t_\t_

1-2\tvámonos\t_\t_\t_\t_\t_\t_\t_\t_
1\tvamos\tir\tVERB\t_\t_\t0\troot\t_\t_
2\tnos\tnosotros\tPRON\t_\t_\t1\tobj\t_\t_
"""


def test_conllu_reads_sentences_and_skips_multiword_tokens(tmp_path):
    tokens, tags = read_conllu(write(tmp_path, "a.conllu", CONLLU))
    assert tokens == [["Ali", "geldi", "."], ["vamos", "nos"]]
    assert tags == [["PROPN", "VERB", "PUNCT"], ["VERB", "PRON"]]
    _, deprels = read_conllu(tmp_path / "a.conllu", column="deprel")
    assert deprels[0] == ["nsubj", "root", "punct"]
    with pytest.raises(ConfigError, match="column must be one of"):
        read_conllu(tmp_path / "a.conllu", column="upost")


def test_conllu_malformed_lines(tmp_path):
    p = write(tmp_path, "bad.conllu", CONLLU.replace("2\tgeldi\tgel\tVERB\t_\t_\t0\troot\t_\t_", "2 geldi gel VERB"))
    with pytest.raises(DataError, match=r"bad.conllu, line 4: expected 10 tab-separated CoNLL-U columns .* got 1"):
        read_conllu(p)
    p = write(tmp_path, "bad2.conllu", CONLLU.replace("3\t.\t.", "5\t.\t."))
    with pytest.raises(DataError, match=r"line 5: expected token ID 3"):
        read_conllu(p)


def test_conll_bio_and_errors(tmp_path):
    text = "-DOCSTART- -X- O O\n\nEU NNP B-ORG\nrejects VBZ O\n\nPeter NNP B-PER\nBlackburn NNP I-PER\n"
    tokens, tags = read_conll(write(tmp_path, "a.txt", text))
    assert tokens == [["EU", "rejects"], ["Peter", "Blackburn"]]
    assert tags == [["B-ORG", "O"], ["B-PER", "I-PER"]]
    with pytest.raises(DataError, match=r"line 4: expected 3 columns like the first token line, got 2"):
        read_conll(write(tmp_path, "b.txt", "EU NNP B-ORG\nrejects O\n".replace("rejects O", "\nrejects O").replace("\n\n", "\n\n\n")))
    with pytest.raises(DataError, match="no sentences found"):
        read_conll(write(tmp_path, "empty.txt", "\n\n"))
    with pytest.raises(DataError, match="no sentences found"):
        read_conllu(write(tmp_path, "empty.conllu", "# only a comment\n"))
