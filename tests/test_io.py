import numpy as np
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




def test_missing_file_is_named(tmp_path):
    with pytest.raises(dl.InputError, match="results file .*nope.csv does not exist"):
        read_table(tmp_path / "nope.csv", "results")


def test_semicolons_with_decimal_commas_are_numbers(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("temperature;ratio;solvent;yield\n60;1,5;thf;10,25\n70;2;dmf;\n"
                    "80;-2,5e-1;1,4-dioxane;3\n")
    df = read_table(path, "candidates")
    assert df["ratio"].tolist() == [1.5, 2.0, -0.25]
    assert df["yield"].tolist()[::2] == [10.25, 3.0] and np.isnan(df["yield"][1])
    assert df["solvent"].tolist() == ["thf", "dmf", "1,4-dioxane"]
    c = dl.Campaign(df, target="yield", source=str(path))
    assert c.encoder.roles_ == {"temperature": "numeric", "ratio": "numeric",
                                "solvent": "categorical"}
    assert c.store.observations()["value"].tolist() == [10.25, 3.0]
    tabs = tmp_path / "t.tsv"
    tabs.write_text("a\tb\n1,5\t2\n3\t4,5\n")
    assert read_table(tabs).to_numpy().tolist() == [[1.5, 2.0], [3.0, 4.5]]


@pytest.mark.parametrize("content, message", [
    ("", "empty"), ("a,b\n", "no data rows"), ("a,a\n1,2\n", "repeats"),
    # numbers that cannot be read without guessing
    ("a;b\n1,5;x\n2.5;y\n", r"column 'a' mixes decimal commas \(line 2: '1,5'\) and decimal "
                            r"points \(line 3: '2.5'\)"),
    ("a;b\n1.234,5;x\n2,5;y\n", r"column 'a' groups thousands \(line 2: '1.234,5'\); save the "
                                "file without thousands separators"),
    ("yield\n10,5\n3,25\n", "line 2 has 2 cells but the header has 1 column.*decimal commas, "
                            "separate the columns with ';'"),
])
def test_unreadable_tables(tmp_path, content, message):
    path = tmp_path / "t.csv"
    path.write_text(content)
    with pytest.raises(dl.InputError, match=message):
        read_table(path, "candidates")


def test_trailing_separators_do_not_shift_columns(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2,\n3,4,\n")
    assert read_table(path).to_dict("list") == {"a": [1, 3], "b": [2, 4]}
