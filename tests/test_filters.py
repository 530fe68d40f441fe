"""Known constraints: a filter on the candidates, parsed (never run), logged and obeyed."""

import sqlite3

import numpy as np
import pandas as pd
import pytest

import designloop as dl
from designloop.campaign.filters import candidate_mask
from tests.test_cli import run as cli

TABLE = pd.DataFrame({"temperature": [80, 100, 130, 60], "solvent": ["DMF", "THF", "water", "THF"],
                      "Aryl halide": ["a", "none", "b", "c"]})


@pytest.mark.parametrize("expression, expected", [
    ("temperature <= 120 and solvent != 'DMF'", [False, True, False, True]),
    ("90 <= temperature <= 140", [False, True, True, False]),
    ("solvent in ['THF', 'water']", [False, True, True, True]),
    ("solvent not in ('THF',) or temperature > 120", [True, False, True, False]),
    ("`Aryl halide` != 'none'", [True, False, True, True]),
    ("not (temperature > 90)", [True, False, False, True]),
    ("temperature > -5.5 and (solvent == 'DMF' or solvent == 'water')", [True, False, True, False]),
])
def test_filters_select_what_they_say(expression, expected):
    assert candidate_mask(expression, TABLE).tolist() == expected


@pytest.mark.parametrize("expression, message", [
    ("temp < 3", "names the column 'temp', which the candidates do not have"),
    ("solvent == DMF", "text values go in quotes: 'DMF'"),
    ("temperature <= 'hot'", "compares number with text"),
    ("__import__('os').getcwd() == 'x'", "is not allowed here"),
    ("temperature +", "cannot parse"),
    ("temperature", "is not a condition"),
    ("5 < 6", "needs a column on one side"),
    ("temperature in 80", "tests a column against a list"),
    ("   ", "the filter is empty"),
    ("solvent == ['DMF']", "a list goes after `in`"),
    ("temperature in ['120']", "compares number with text"),
    ("mixed < 'b'", "cannot compare these"),
    ("temperature > 1 and " * 150 + "temperature > 2", "keep it under 2000"),
    ("(" * 300 + "temperature > 1" + ")" * 300, "cannot parse|nested too deeply"),
])
def test_bad_filters_are_refused_in_one_line(expression, message):
    with pytest.raises(dl.InputError, match=message) as info:
        candidate_mask(expression, TABLE.assign(mixed=[1, "b", 2.0, "c"]))
    assert "\n" not in str(info.value)


def test_quoted_text_keeps_its_backticks_and_missing_values_never_pass():
    table = TABLE.assign(temperature=[80, np.nan, 130, 60], solvent=["a`b`", "THF", "x", "THF"])
    assert candidate_mask("solvent == 'a`b`'", table).tolist() == [True, False, False, False]
    assert candidate_mask("temperature != 2", table).tolist() == [True, False, True, True]
    assert candidate_mask("not temperature > 100", table).tolist() == [True, False, False, True]
    assert candidate_mask("`True` > 1", pd.DataFrame({"True": [1, 2]})).tolist() == [False, True]


def grid() -> pd.DataFrame:
    x, z = np.meshgrid(np.linspace(0, 1, 8), np.linspace(0, 1, 8))
    return pd.DataFrame({"x": x.ravel(), "z": z.ravel()})


def test_a_campaign_never_suggests_what_its_filter_rules_out(tmp_path):
    table = grid()
    path = tmp_path / "lab.db"
    c = dl.Campaign(table, target="y", goal="maximize", where="x <= 0.5", store=path)
    allowed = set(np.flatnonzero(table.x <= 0.5))
    picked = []
    for _ in range(4):
        picks = c.suggest(3)
        picked += picks["candidate_id"].tolist()
        c.observe(picks.assign(y=picks.x + picks.z))
    assert set(picked) <= allowed
    assert set(c.score_candidates()["candidate_id"]) <= allowed
    assert c.store.cycles()["record"].iloc[-1].candidate_filter == "x <= 0.5"
    assert c.status()["candidates allowed"] == len(allowed)
    assert c.restrict("x > 0.5 and z > 0.5") == 16
    again = dl.Campaign.open(path)
    assert again.candidate_filter == "x > 0.5 and z > 0.5"
    assert set(again.suggest(5)["candidate_id"]) <= set(np.flatnonzero((table.x > 0.5)
                                                                        & (table.z > 0.5)))
    again.release()
    assert again.restrict(None) == 64 and again.candidate_filter is None
    logged = sqlite3.connect(path).execute("SELECT expression FROM filters ORDER BY id").fetchall()
    assert logged == [("x <= 0.5",), ("x > 0.5 and z > 0.5",), (None,)]
    assert again.store.get_meta("schema_version") == "5"


def test_a_filter_that_rules_out_everything_or_too_much_is_refused():
    with pytest.raises(dl.InputError, match="rules out all 64 candidates"):
        dl.Campaign(grid(), target="y", where="x > 2")
    c = dl.Campaign(grid(), target="y", where="x == 0")
    with pytest.raises(dl.InputError, match="rules out all 64"):
        c.restrict("z < 0")
    assert c.candidate_filter == "x == 0"  # nothing written
    with pytest.raises(dl.InputError, match="allowed by the filter 'x == 0'"):
        c.suggest(9)
    assert len(c.suggest(8)) == 8


def test_campaigns_without_a_filter_keep_an_older_schema(tmp_path):
    c = dl.Campaign(grid(), target="y", store=tmp_path / "lab.db")
    c.suggest(2)
    assert c.store.get_meta("schema_version") == "3"
    assert c.candidate_filter is None and "filter" not in c.status()


def test_cli_where(tmp_path, capsys, monkeypatch):
    grid().to_csv(tmp_path / "c.csv", index=False)
    db = tmp_path / "lab.db"
    code, _, err = cli(["init", db, "-c", tmp_path / "c.csv", "-t", "y", "--where", "q < 1"],
                       capsys, monkeypatch)
    assert code == 2 and "names the column 'q'" in err and not db.exists()
    assert cli(["init", db, "-c", tmp_path / "c.csv", "-t", "y", "--where", "x < 0.2"],
               capsys, monkeypatch)[0] == 0
    code, out, _ = cli(["where", db, "z >= 0.5"], capsys, monkeypatch)
    assert code == 0 and "32 of 64 candidates may be suggested" in out
    code, out, _ = cli(["status", db], capsys, monkeypatch)
    assert "z >= 0.5" in out
    code, _, err = cli(["where", db, "z >= 'high'"], capsys, monkeypatch)
    assert code == 2 and "compares number with text" in err
    code, _, err = cli(["where", db], capsys, monkeypatch)
    assert code == 2 and "--clear" in err
    code, out, _ = cli(["where", db, "--clear"], capsys, monkeypatch)
    assert code == 0 and "64 of 64" in out
