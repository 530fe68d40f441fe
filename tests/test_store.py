import json
import sqlite3

import pandas as pd
import pytest

import designloop as dl
from designloop.campaign.store import Store
from designloop.records import CycleRecord


def test_store_round_trip(tmp_path):
    path = tmp_path / "s.db"
    s = Store(path)
    table = pd.DataFrame({"candidate_id": [0, 1], "x": [0.1 + 0.2, 1 / 3], "s": ["a", "b"]})
    s.initialise({"target": "y"}, table)
    s.record_cycle(1, "initial", None, "maximin", 0, CycleRecord(k=1, seed=0, reason="r"),
                   [{"candidate_id": 1, "rank": 1, "score": None, "prediction": {}}])
    s.add_observations([1, 1], [2.5, 2.7], "lab")
    s.close()
    again = Store(path)
    assert again.config() == {"target": "y"}
    pd.testing.assert_frame_equal(again.candidates(), table, check_dtype=False)
    assert again.candidates()["x"].tolist() == [0.1 + 0.2, 1 / 3]  # exact floats
    assert again.observations()["value"].tolist() == [2.5, 2.7]
    assert again.suggestions()["status"].tolist() == ["observed"]
    assert again.get_meta("schema_version") == "3"  # no failure recorded: older versions read it
    assert again.cycles()["record"].tolist() == [CycleRecord(k=1, seed=0, reason="r")]
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_failed_transaction_writes_nothing():
    s = Store()
    s.initialise({}, pd.DataFrame({"candidate_id": [0]}))
    with pytest.raises(sqlite3.IntegrityError):
        # the second row repeats the primary key: the whole cycle is rolled back
        s.record_cycle(1, "model", "gp", "bald", 0, CycleRecord(k=2, seed=0),
                       [{"candidate_id": 0, "rank": 1, "score": 1.0, "prediction": {}},
                        {"candidate_id": 0, "rank": 2, "score": 0.5, "prediction": {}}])
    assert s.cycles().empty and s.suggestions().empty


def test_not_a_campaign_file(tmp_path):
    path = tmp_path / "x.db"
    path.write_text("this is not sqlite" * 100)
    with pytest.raises(dl.InputError, match="not a designloop campaign file"):
        Store(path)
    s = Store(tmp_path / "y.db")
    s.initialise({}, pd.DataFrame({"candidate_id": [0]}))
    with pytest.raises(dl.InputError, match="already holds a campaign"):
        s.initialise({}, pd.DataFrame({"candidate_id": [0]}))


def test_cycle_records_round_trip_and_refuse_what_they_cannot_read():
    from designloop.errors import InputError

    record = CycleRecord(k=3, seed=1, encoding="onehot", encoding_scores={"onehot": -1.5},
                         warnings=["overconfident"], selection="greedy", best_f=0.25)
    data = json.loads(json.dumps(record.to_json()))
    assert "reason" not in data and "screened" not in data  # unset fields are not stored
    assert CycleRecord.from_json(data, "here") == record
    old = {"k": 2, "seed": 0, "reason": "nothing measured yet"}  # a log without versions
    assert CycleRecord.from_json(old, "here").version == 0
    for bad, message in (({**data, "version": 99}, "newer than this designloop"),
                         ({**data, "colour": "red"}, r"unknown field\(s\) \['colour'\]"),
                         ({**data, "k": "3"}, "k='3', not a whole number"),
                         ({**data, "best_f": "high"}, "best_f='high', not a number"),
                         ({**data, "screened": 1}, "screened=1, not true or false"),
                         ({**data, "warnings": [1]}, "warnings that are not text")):
        with pytest.raises(InputError, match=message):
            CycleRecord.from_json(bad, "here")


def test_early_logs_and_newer_records(tmp_path):
    from designloop.errors import InputError

    # an early version kept its own "_encoding" key in the info of initial cycles
    early = {"k": 1, "seed": 0, "reason": "nothing measured yet", "_encoding": None}
    assert CycleRecord.from_json(early, "here") == CycleRecord(k=1, seed=0,
                                                               reason=early["reason"], version=0)
    with pytest.raises(InputError, match="not a format version"):
        CycleRecord.from_json({"k": 1, "seed": 0, "version": "abc"}, "here")
    path = tmp_path / "newer.db"
    s = Store(path)
    s.initialise({"target": "y"}, pd.DataFrame({"candidate_id": [0], "x": [0.5]}))
    s.record_cycle(1, "initial", None, "random", 0, CycleRecord(k=1, seed=0), [])
    s._conn.execute("UPDATE cycles SET info = ?", (json.dumps({"k": 1, "seed": 0,
                                                               "version": 99}),))
    with pytest.raises(InputError) as info:
        s.cycles()
    assert "upgrade designloop" in str(info.value) and "damaged" not in str(info.value)
