"""A damaged or hand-edited campaign file: every command that reads it answers with one line,
exit status 2, naming the file and what is wrong, and leaves the file as it was."""

import shutil
import sqlite3
import sys

import numpy as np
import pandas as pd
import pytest

import designloop as dl
from designloop.campaign.store import SCHEMA_VERSION, Store
from designloop.cli import main


@pytest.fixture(scope="module")
def healthy(tmp_path_factory):
    """A campaign file with two cycles, observations and a pending suggestion."""
    path = tmp_path_factory.mktemp("healthy") / "lab.db"
    gen = np.random.default_rng(1)
    table = pd.DataFrame({"a": gen.random(30), "b": gen.random(30), "y": np.nan})
    campaign = dl.Campaign(table, target="y", goal="maximize", store=path)
    picks = campaign.suggest(3)
    campaign.observe(picks.assign(y=[1.0, 2.0, 3.0]))
    campaign.suggest(2)
    campaign.store.close()
    return path


def _sql(*statements):
    def damage(path):
        con = sqlite3.connect(path, isolation_level=None)
        for statement in statements:
            con.execute(statement)
        con.close()
    return damage


def _bytes(content):
    def damage(path):
        path.write_bytes(content)
    return damage


def _config(**changes):
    def damage(path):
        con = sqlite3.connect(path, isolation_level=None)
        import json

        config = json.loads(con.execute("SELECT value FROM meta WHERE key='config'").fetchone()[0])
        config.update(changes)
        con.execute("UPDATE meta SET value=? WHERE key='config'", (json.dumps(config),))
        con.close()
    return damage


DAMAGE = {
    # name: (how, a piece of the message)
    "config not JSON": (_sql("UPDATE meta SET value='{\"target\": ' WHERE key='config'"),
                        "the configuration (table meta, key 'config') is not valid JSON"),
    "config not an object": (_sql("UPDATE meta SET value='[1, 2]' WHERE key='config'"),
                             "should be a JSON object"),
    "config field of wrong type": (_config(batch_size="three"),
                                   "field 'batch_size' is 'three', not a whole number"),
    "config field unknown value": (_config(task="regresion"), "field 'task' is 'regresion'"),
    "config field emptied": (_config(target=None), "field 'target' is None, not text"),
    "candidates not JSON": (_sql("UPDATE meta SET value='{' WHERE key='candidates'"),
                            "the candidate table (table meta, key 'candidates') is not valid"),
    "candidates of wrong shape": (_sql("UPDATE meta SET value='{\"columns\": [\"a\"], "
                                       "\"data\": [[1, 2]]}' WHERE key='candidates'"),
                                  "rows of equal length"),
    "candidate value not a number": (
        _sql("UPDATE meta SET value=json_set(value, '$.data[4][1]', 'hot') "
             "WHERE key='candidates'"),
        "column 'a', candidate 4 holds 'hot' where a number belongs"),
    "candidate value infinite": (
        _sql("UPDATE meta SET value=replace(value, '[2, 0.', '[2, 1e999, 0.') "
             "WHERE key='candidates'", "UPDATE meta SET value=json_remove(value, '$.data[2][2]')"
             " WHERE key='candidates'"),
        "column 'a', candidate 2 holds inf where a number belongs"),
    "cycle info not JSON": (_sql("UPDATE cycles SET info='{\"reason\": ' WHERE cycle=1"),
                            "the info of cycle 1 (table cycles) is not valid JSON"),
    "cycle info of wrong type": (_sql("UPDATE cycles SET info='{\"warnings\": \"many\"}' "
                                      "WHERE cycle=2"), "holds warnings='many'"),
    "cycle count not a number": (_sql("UPDATE cycles SET n_observed='lots' WHERE cycle=2"),
                                 "column 'n_observed' holds 'lots'"),
    "prediction not JSON": (_sql("UPDATE suggestions SET prediction='{' WHERE cycle=2"),
                            "(table suggestions) is not valid JSON"),
    "measurement not a number": (_sql("UPDATE observations SET value='high' WHERE id=2"),
                                 "row id 2, column 'value' holds 'high'"),
    "unknown candidate": (_sql("UPDATE observations SET candidate_id=999 WHERE id=1"),
                          "refers to candidate_id(s) [999]"),
    "table missing": (_sql("DROP TABLE observations"), "no such table: observations"),
    "schema version not a number": (
        _sql("UPDATE meta SET value='two' WHERE key='schema_version'"),
        "the schema version (table meta, key 'schema_version') is 'two', not a whole number"),
    "newer schema": (_sql(f"UPDATE meta SET value='{SCHEMA_VERSION + 1}' "
                          "WHERE key='schema_version'", "DROP TABLE suggestions"),
                     "written by a newer designloop"),
    "empty file": (_bytes(b""), "is an empty file (0 bytes)"),
    "not SQLite": (_bytes(b"candidate_id,y\n0,1\n" * 100), "not a designloop campaign file"),
    "other SQLite": (_sql("DROP TABLE meta"), "not a designloop campaign file"),
}
COMMANDS = {"status": [], "history": ["--csv"], "report": ["-o", "{d}/report.html"],
            "suggest": ["-n", "1", "-o", "{d}/next.csv"], "observe": ["{d}/results.csv"],
            "release": []}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_file_one_line_exit_2_unchanged(healthy, tmp_path, capsys, monkeypatch,
                                                damage, command):
    db = tmp_path / "lab.db"
    shutil.copy(healthy, db)
    how, message = DAMAGE[damage]
    how(db)
    before = db.read_bytes()
    pd.DataFrame({"candidate_id": [0], "y": [5.0]}).to_csv(tmp_path / "results.csv", index=False)
    args = [a.format(d=tmp_path) for a in COMMANDS[command]]
    monkeypatch.setattr(sys, "argv", ["designloop", command, str(db), *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    out, err = capsys.readouterr()
    assert exit_.value.code == 2, err
    assert err.startswith("error:") and err.strip().count("\n") == 0, err
    assert str(db) in err and message in err, err
    assert db.read_bytes() == before
    assert not (tmp_path / "report.html").exists() and not (tmp_path / "next.csv").exists()


def test_read_only_commands_never_create_or_change_the_file(healthy, tmp_path, capsys,
                                                            monkeypatch):
    db = tmp_path / "lab.db"
    shutil.copy(healthy, db)
    before = db.read_bytes()
    for args in (["status"], ["history", "--csv"], ["report", "-o", str(tmp_path / "r.html")]):
        monkeypatch.setattr(sys, "argv", ["designloop", args[0], str(db), *args[1:]])
        main()
    assert "pending" in capsys.readouterr().out
    assert db.read_bytes() == before
    store = Store(db, readonly=True)
    with pytest.raises(dl.InputError, match="read-only"):
        store.release()
