"""The campaign file caches the encoded features: a reopened campaign reads them back instead
of parsing its SMILES again, gets exactly the matrices a fresh build gives, never uses an
entry made for another table or other settings, and rebuilds an entry it cannot read."""

import hashlib
import io
import json
import shutil
import sqlite3
import sys
import textwrap
import time
import zlib

import numpy as np
import pandas as pd
import pytest
import torch

import designloop as dl
from designloop.campaign import feature_cache, store
from designloop.campaign.encoding_choice import LIBRARY_ENCODINGS
from designloop.campaign.store import Store
from designloop.cli import main
from designloop.features import molecules
from designloop.features.encoding import SMILES_ENCODINGS, Encoder
from tests.test_cli import kill_after

LIGANDS = ["CCO", "c1ccccc1O", "CC(C)(C)P(C(C)(C)C)C(C)(C)C", "c1ccc(P(c2ccccc2)c2ccccc2)cc1"]
BASES = ["CCN(CC)CC", "[Na+].[OH-]", "CC(C)(C)[O-].[K+]", "none"]


def _table():
    rows = [(lig, base) for lig in LIGANDS for base in BASES]
    table = pd.DataFrame(rows, columns=["ligand", "base"])
    table["temperature"] = np.tile([40.0, 60.0, 80.0, 100.0], 4)
    return table


def _truth(ids):
    ids = np.asarray(ids)
    return np.sin(ids) + ids / 10


@pytest.fixture(scope="module")
def base_file(tmp_path_factory):
    """A SMILES campaign with six results (enough to compare the three encodings of the
    likelihood choice), whose file holds no cached features yet."""
    path = tmp_path_factory.mktemp("cache") / "lab.db"
    campaign = dl.Campaign(_table(), target="y", goal="maximize", seed=1, store=path,
                           smiles_encoding="likelihood")
    ids = np.arange(0, 16, 3)[:6]
    campaign.observe(pd.DataFrame({"candidate_id": ids, "y": _truth(ids)}))
    campaign.store.close()
    con = sqlite3.connect(path)
    assert con.execute("SELECT COUNT(*) FROM features").fetchone()[0] == 0
    con.close()
    return path


def _copy(base, folder, name="lab.db"):
    path = folder / name
    shutil.copy(base, path)
    return path


def _warm(path):
    campaign = dl.Campaign.open(path)
    matrices = {e: campaign.encoder.features(e).clone() for e in SMILES_ENCODINGS}
    campaign.store.close()
    return matrices


def _fresh(path, encoding, **fingerprint):
    """The matrix built from the file's table without any cache."""
    campaign = dl.Campaign.open(Store(path, readonly=True))
    cfg = campaign.config
    settings = {**cfg.fingerprint, **fingerprint}
    encoder = Encoder(roles=cfg.roles, **settings).fit(campaign.candidates,
                                                       cfg.feature_columns)
    campaign.store.close()
    return encoder.features(encoding)


def _entries(path):
    con = sqlite3.connect(path)
    rows = con.execute("SELECT encoding, key, n_rows, n_columns FROM features "
                       "ORDER BY encoding").fetchall()
    con.close()
    return rows


def _no_parsing(monkeypatch):
    """Make every way into RDKit's SMILES parser fail loudly, and record the attempts."""
    calls = []

    def refuse(*args, **kwargs):
        calls.append(args)
        raise AssertionError("SMILES parsed")

    monkeypatch.setattr(molecules, "parse", refuse)
    monkeypatch.setattr("rdkit.Chem.MolFromSmiles", refuse)
    return calls


def test_reopened_campaign_parses_no_smiles_and_suggests_the_same(base_file, tmp_path,
                                                                  monkeypatch):
    warm, cold = _copy(base_file, tmp_path, "warm.db"), _copy(base_file, tmp_path, "cold.db")
    _warm(warm)
    assert [e for e, *_ in _entries(warm)] == sorted(SMILES_ENCODINGS)
    calls = _no_parsing(monkeypatch)
    hits = []
    load = Store.load_features
    monkeypatch.setattr(Store, "load_features",
                        lambda self, key: hits.append(key) or load(self, key))
    campaign = dl.Campaign.open(warm)
    picks_warm = campaign.suggest(3)
    # all three encodings were compared, each read back from the file
    assert sorted(hits) == sorted(campaign.encoder.feature_key(e) for e in LIBRARY_ENCODINGS)
    assert all(load(campaign.store, key) is not None for key in hits)
    assert campaign.encoder.roles_["ligand"] == "smiles"
    assert len(campaign.encoder.describe()) == 3
    assert calls == []
    monkeypatch.undo()
    picks_cold = dl.Campaign.open(cold).suggest(3)
    pd.testing.assert_frame_equal(picks_warm, picks_cold)
    # the cold file built the matrices it compared while suggesting, and cached them after
    # the commit
    assert _entries(cold) == [e for e in _entries(warm) if e[0] in LIBRARY_ENCODINGS]


def test_reaction_components_read_their_mordred_matrix_back(tmp_path, monkeypatch):
    path = tmp_path / "lab.db"
    campaign = dl.Campaign(_table(), target="y", goal="maximize", seed=1, store=path)
    ids = np.arange(0, 16, 3)[:6]
    campaign.observe(pd.DataFrame({"candidate_id": ids, "y": _truth(ids)}))
    first = campaign.suggest(2)
    assert campaign.store.cycles().iloc[-1]["record"].encoding == "mordred"
    campaign.store.close()
    assert [e for e, *_ in _entries(path)] == ["mordred"]  # only what the cycle needed
    calls = _no_parsing(monkeypatch)
    monkeypatch.setattr(molecules, "_mordred_row", lambda smiles: (_ for _ in ()).throw(
        AssertionError("Mordred computed again")))
    reopened = dl.Campaign.open(path)
    reopened.release()
    again = reopened.suggest(2)
    pd.testing.assert_frame_equal(again.drop(columns="cycle"), first.drop(columns="cycle"))
    assert calls == []


def test_cached_features_equal_fresh_ones_exactly(base_file, tmp_path, monkeypatch):
    path = _copy(base_file, tmp_path)
    built = _warm(path)
    _no_parsing(monkeypatch)
    campaign = dl.Campaign.open(path)
    cached = {e: campaign.encoder.features(e) for e in SMILES_ENCODINGS}
    monkeypatch.undo()
    for encoding in SMILES_ENCODINGS:
        fresh = _fresh(path, encoding)
        assert cached[encoding].dtype == torch.float64
        assert cached[encoding].shape == fresh.shape
        assert torch.equal(cached[encoding], fresh)  # bit for bit
        assert torch.equal(built[encoding], fresh)


def test_a_table_without_smiles_is_cached_too(tmp_path):
    gen = np.random.default_rng(0)
    table = pd.DataFrame({"a": gen.random(20), "s": gen.choice(["x", "y", "z"], 20)})
    path = tmp_path / "lab.db"
    X = dl.Campaign(table, target="y", store=path).encoder.features()
    assert [(e, n, d) for e, _, n, d in _entries(path)] == [("no_smiles", 20, X.shape[1])]
    again = dl.Campaign.open(path).encoder.features()
    assert torch.equal(again, X)


def test_a_changed_key_never_reuses_an_entry(base_file, tmp_path):
    path = _copy(base_file, tmp_path)
    cached = _warm(path)
    campaign = dl.Campaign.open(path)
    cfg = campaign.config
    table = campaign.candidates

    def key(table=table, roles=cfg.roles, encoding="morgan", **fingerprint):
        enc = Encoder(roles=roles, **{**cfg.fingerprint, **fingerprint})
        return enc.fit(table, cfg.feature_columns).feature_key(encoding)

    assert key() == campaign.encoder.feature_key("morgan")  # stable across objects
    edited = table.copy()
    edited.loc[0, "ligand"] = "CCCO"
    reordered = table.copy()
    reordered.loc[[0, 1], "temperature"] = reordered.loc[[1, 0], "temperature"].to_numpy()
    others = [key(morgan_bits=512), key(morgan_radius=3), key(morgan_counts=True),
              key(encoding="descriptors"), key(encoding="onehot"), key(table=edited),
              key(table=reordered), key(roles={**cfg.roles, "base": "categorical"}),
              key(roles={**cfg.roles, "temperature": "categorical"})]
    assert len(set(others)) == len(others) and key() not in others

    # other fingerprint settings over the same file build their own matrix
    other = Encoder(roles=cfg.roles, **{**cfg.fingerprint, "morgan_bits": 128},
                    cache=campaign.store).fit(table, cfg.feature_columns, check_smiles=False)
    X = other.features("morgan")
    assert torch.equal(X, _fresh(path, "morgan", morgan_bits=128))
    assert X.shape != cached["morgan"].shape
    campaign.store.close()

    # a candidate table changed in the file: its features are built again, not read back
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("UPDATE meta SET value = json_set(value, '$.data[0][1]', 'CCCO') "
                "WHERE key = 'candidates'")
    con.close()
    reopened = dl.Campaign.open(path)
    assert reopened.candidates.loc[0, "ligand"] == "CCCO"
    for encoding in SMILES_ENCODINGS:
        X = reopened.encoder.features(encoding)
        assert torch.equal(X, _fresh(path, encoding))
    assert not torch.equal(reopened.encoder.features("onehot"), cached["onehot"])
    # the entries of the old table were replaced, one entry per encoding stays
    assert len(_entries(path)) == len(SMILES_ENCODINGS)


def test_an_invalid_smiles_edited_into_the_file_is_an_input_error(base_file, tmp_path, capsys,
                                                                   monkeypatch):
    path = _copy(base_file, tmp_path)
    _warm(path)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("UPDATE meta SET value = json_set(value, '$.data[5][1]', 'C1CC(') "
                "WHERE key = 'candidates'")
    con.close()
    monkeypatch.setattr(sys, "argv", ["designloop", "suggest", str(path), "-n", "2"])
    with pytest.raises(SystemExit) as exit_:
        main()
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "Traceback" not in err
    assert "'C1CC(' is not a valid SMILES" in " ".join(err.split())
    assert dl.Campaign.open(path).store.cycles().empty


def _blob(matrix, **save):
    buffer = io.BytesIO()
    np.save(buffer, matrix, **save)
    return zlib.compress(buffer.getvalue())


DAMAGE = {
    "bytes changed": ("UPDATE features SET data = CAST(zeroblob(100) AS BLOB)", None),
    "not a matrix, digest right": ("UPDATE features SET data = ?, digest = ?",
                                   lambda n, d: b"not numpy at all"),
    "other shape, digest right": ("UPDATE features SET data = ?, digest = ?",
                                  lambda n, d: _blob(np.zeros((n, d + 1)))),
    "integers, digest right": ("UPDATE features SET data = ?, digest = ?",
                               lambda n, d: _blob(np.zeros((n, d), dtype=np.int64))),
    "pickled objects, digest right": (
        "UPDATE features SET data = ?, digest = ?",
        lambda n, d: _blob(np.array([[object()] * d] * n, dtype=object), allow_pickle=True)),
    "shape not a number": ("UPDATE features SET n_rows = 'many'", None),
    "no data": ("UPDATE features SET data = NULL", None),
}


def _damage(path, damages):
    """Damage the entries of `path`, the i-th entry (by encoding) with `damages[i]`."""
    con = sqlite3.connect(path, isolation_level=None)
    if "no data" in damages:  # a table of another shape, without NOT NULL
        con.execute("ALTER TABLE features RENAME TO old")
        con.execute("CREATE TABLE features (key TEXT PRIMARY KEY, encoding TEXT, n_rows, "
                    "n_columns, digest TEXT, data BLOB, created_at TEXT)")
        con.execute("INSERT INTO features SELECT * FROM old")
        con.execute("DROP TABLE old")
    entries = con.execute("SELECT key, n_rows, n_columns FROM features ORDER BY encoding")
    for (key, n, d), damage in zip(entries.fetchall(), damages, strict=True):
        sql, blob = DAMAGE[damage]
        if blob is None:
            con.execute(f"{sql} WHERE key = ?", (key,))
        else:
            data = blob(n, d)
            con.execute(f"{sql} WHERE key = ?", (data, hashlib.sha256(data).hexdigest(), key))
    con.close()


def _intact(path, encodings=SMILES_ENCODINGS):
    """Every encoding's entry reads back as the matrix a fresh build gives."""
    campaign = dl.Campaign.open(Store(path, readonly=True))
    for encoding in encodings:
        stored = campaign.store.load_features(campaign.encoder.feature_key(encoding))
        assert stored is not None and np.array_equal(stored, _fresh(path, encoding).numpy())
    campaign.store.close()


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_entry_is_ignored_and_rebuilt(base_file, tmp_path, damage):
    path = _copy(base_file, tmp_path)
    _warm(path)
    _damage(path, [damage] * len(SMILES_ENCODINGS))
    campaign = dl.Campaign.open(path)
    for encoding in SMILES_ENCODINGS:
        key = campaign.encoder.feature_key(encoding)
        assert campaign.store.load_features(key) is None
        X = campaign.encoder.features(encoding)  # built again, and written again
        assert torch.equal(X, _fresh(path, encoding))
    campaign.store.close()
    _intact(path)


def test_suggest_on_damaged_entries_succeeds_and_repairs_them(base_file, tmp_path, capsys,
                                                              monkeypatch):
    path = _copy(base_file, tmp_path)
    _warm(path)
    # entries by encoding: descriptors, morgan, mordred, onehot; the campaign compares all
    # but Mordred's, and repairs those it reads
    _damage(path, ["no data", "pickled objects, digest right", "bytes changed",
                   "bytes changed"])
    monkeypatch.setattr(sys, "argv", ["designloop", "suggest", str(path), "-n", "2"])
    main()  # no SystemExit: the command succeeds
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "Suggestions, cycle 1" in captured.out
    assert "encoding:" in captured.out
    _intact(path, LIBRARY_ENCODINGS)


def test_a_file_without_the_features_table(base_file, tmp_path, capsys, monkeypatch):
    """A file written before the cache existed opens, read-only commands leave it as it was,
    and the first step that builds features adds the table."""
    path = _copy(base_file, tmp_path)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("DROP TABLE features")
    con.close()
    before = path.read_bytes()
    for args in (["status"], ["report", "-o", str(tmp_path / "r.html")]):
        monkeypatch.setattr(sys, "argv", ["designloop", args[0], str(path), *args[1:]])
        main()
    assert path.read_bytes() == before
    campaign = dl.Campaign.open(path)
    picks = campaign.suggest(2)
    assert len(picks) == 2
    assert [e for e, *_ in _entries(path)] == sorted(LIBRARY_ENCODINGS)
    assert campaign.store.get_meta("schema_version") == str(store.RETRACTIONS_VERSION)


def test_the_cache_is_written_only_after_the_step_commits(tmp_path):
    path = tmp_path / "s.db"
    s = Store(path)
    s.initialise({}, pd.DataFrame({"candidate_id": [0, 1]}))
    X = np.arange(6.0).reshape(2, 3)
    with pytest.raises(RuntimeError), s.transaction():
        s.save_features("k1", "morgan", X)
        assert s.load_features("k1") is X  # the step itself sees it
        raise RuntimeError("the step fails")
    assert s.load_features("k1") is None and _entries(path) == []
    with s.transaction():
        s.save_features("k1", "morgan", X)
        assert _entries(path) == []  # not part of the step's transaction
    assert _entries(path) == [("morgan", "k1", 2, 3)]
    again = Store(path).load_features("k1")
    assert again.dtype == np.float64 and np.array_equal(again, X) and again.flags.writeable
    s.save_features("k2", "morgan", X + 1)  # outside a step: written at once
    assert _entries(path) == [("morgan", "k2", 2, 3)]  # and replaces the other key's entry

    memory = Store()
    memory.save_features("k", "onehot", X)
    assert memory.load_features("k") is X and memory.load_features("other") is None
    readonly = Store(path, readonly=True)
    before = path.read_bytes()
    readonly.save_features("k3", "onehot", X)
    assert readonly.load_features("k3") is None and path.read_bytes() == before


def test_a_cache_that_cannot_be_written_never_fails_the_step(base_file, tmp_path):
    """A failing cache write (here a trigger that rolls back, as a full disk would) leaves
    the suggestions logged: the entry is written after the step, in its own transaction."""
    path = _copy(base_file, tmp_path)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("CREATE TRIGGER full BEFORE INSERT ON features BEGIN "
                "SELECT RAISE(ROLLBACK, 'database or disk is full'); END")
    con.close()
    campaign = dl.Campaign.open(path)
    picks = campaign.suggest(2)
    assert _entries(path) == []
    reopened = dl.Campaign.open(path)
    assert reopened.store.pending() == sorted(picks["candidate_id"].tolist())
    assert reopened.store.cycles()["cycle"].tolist() == [1]


def test_a_busy_file_leaves_the_entry_out_without_waiting(tmp_path, monkeypatch):
    monkeypatch.setattr(feature_cache, "FEATURES_BUSY_TIMEOUT_S", 0.2)
    path = tmp_path / "s.db"
    s = Store(path)
    s.initialise({}, pd.DataFrame({"candidate_id": [0, 1]}))
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    start = time.perf_counter()
    s.save_features("k", "onehot", np.ones((2, 2)))
    assert time.perf_counter() - start < 5
    other.execute("COMMIT")
    other.close()
    assert s.load_features("k") is None
    assert s.timeout == store.BUSY_TIMEOUT_S  # the log's own writes still wait as long
    assert s._conn.execute("PRAGMA busy_timeout").fetchone()[0] == int(s.timeout * 1000)
    s.save_features("k", "onehot", np.ones((2, 2)))
    assert np.array_equal(Store(path).load_features("k"), np.ones((2, 2)))


CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    from designloop.campaign.store import Store
    s = Store(sys.argv[1])
    X = np.random.default_rng(0).random((4000, 300))
    for i in range(10_000):
        s.save_features(f"k{i}", "descriptors", X + i)
        print(i, flush=True)
""")


@pytest.mark.slow
def test_the_log_survives_sigkill_while_the_cache_is_written(base_file, tmp_path):
    path = _copy(base_file, tmp_path)
    before = dl.Campaign.open(path).observations()
    written = kill_after(CHILD, path, 5, pause=0.05)
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    keys = [k for (k,) in con.execute("SELECT key FROM features WHERE encoding='descriptors'")]
    con.close()
    assert len(keys) == 1 and int(keys[0][1:]) >= written  # whole entries only
    reopened = dl.Campaign.open(path)
    pd.testing.assert_frame_equal(reopened.observations(), before)
    X = np.random.default_rng(0).random((4000, 300)) + int(keys[0][1:])
    assert np.array_equal(reopened.store.load_features(keys[0]), X)
    assert json.loads(reopened.store.get_meta("config"))["target"] == "y"
