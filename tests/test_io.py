import pytest

import designloop as dl
from designloop.io import read_table


def test_bom_semicolons_and_spaces(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("\ufeff a ;b \n1; x \n2;y\n", encoding="utf-8")
    df = read_table(path)
    assert list(df.columns) == ["a", "b"]
    assert df["b"].tolist() == ["x", "y"]
    assert df["a"].tolist() == [1, 2]


def test_tabs(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("a\tb\n1\t2\n")
    assert list(read_table(path).columns) == ["a", "b"]


@pytest.mark.parametrize("content, message", [("", "empty"), ("a,b\n", "no data rows"),
                                               ("a,a\n1,2\n", "repeats")])
def test_unreadable_tables(tmp_path, content, message):
    path = tmp_path / "t.csv"
    path.write_text(content)
    with pytest.raises(dl.InputError, match=message):
        read_table(path, "candidates")


def test_missing_file_is_named(tmp_path):
    with pytest.raises(dl.InputError, match="results file .*nope.csv does not exist"):
        read_table(tmp_path / "nope.csv", "results")
