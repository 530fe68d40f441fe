"""Several processes on one campaign file at once: real processes racing, several times."""

import contextlib
import io
import multiprocessing
import sqlite3
import sys

import numpy as np
import pandas as pd
import pytest

import designloop as dl
from designloop.campaign.store import Store

REPEATS = 3


def _candidates(path):
    gen = np.random.default_rng(0)
    table = pd.DataFrame({"a": gen.random(60), "b": gen.random(60)})
    table["y"] = np.nan
    table.loc[:5, "y"] = gen.random(6)
    table.to_csv(path, index=False)
    return table


def _cli(args):
    """Run the designloop command in this process: (exit status, standard error)."""
    from designloop.cli import main

    sys.argv = ["designloop", *args]
    stderr = io.StringIO()
    code = 0
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        try:
            main()
        except SystemExit as exc:
            code = exc.code or 0
        except Exception as exc:  # an unhandled error is what the test is looking for
            code, stderr = -1, io.StringIO(f"{type(exc).__name__}: {exc}")
    return code, stderr.getvalue()


def _suggest_racer(paths, barrier, queue):
    for path in paths:
        campaign = dl.Campaign.open(path)
        barrier.wait(timeout=300)
        try:
            picks = campaign.suggest(3)
            queue.put((path, "ok", int(picks["cycle"].iloc[0]), picks["candidate_id"].tolist()))
        except Exception as exc:
            queue.put((path, type(exc).__name__, str(exc), []))
        campaign.store.close()


def _init_racer(runs, barrier, queue):
    for db, candidates in runs:
        barrier.wait(timeout=300)
        code, err = _cli(["init", db, "-c", candidates, "-t", "y", "--goal", "maximize"])
        queue.put((db, code, err))


def _race(target, per_process_args, timeout=600):
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(per_process_args))
    queue = ctx.Queue()
    procs = [ctx.Process(target=target, args=(args, barrier, queue))
             for args in per_process_args]
    for proc in procs:
        proc.start()
    try:
        results = [queue.get(timeout=timeout)
                   for _ in range(sum(len(a) for a in per_process_args))]
    finally:
        for proc in procs:
            proc.join(timeout=60)
            if proc.is_alive():
                proc.kill()
    return results


@pytest.mark.slow
def test_two_suggests_at_once_take_consecutive_cycles(tmp_path):
    table = _candidates(tmp_path / "c.csv")
    paths = []
    for rep in range(REPEATS):
        path = str(tmp_path / f"lab{rep}.db")
        dl.Campaign(table, target="y", goal="maximize", store=path).store.close()
        paths.append(path)
    results = _race(_suggest_racer, [paths, paths])
    for path in paths:
        mine = [r for r in results if r[0] == path]
        assert [r[1] for r in mine] == ["ok", "ok"], mine  # the second waited, no IntegrityError
        assert sorted(r[2] for r in mine) == [1, 2]
        first, second = mine
        assert not set(first[3]) & set(second[3])  # the second did not re-suggest the first's
        store = Store(path, readonly=True)
        assert store.cycles()["cycle"].tolist() == [1, 2]
        assert len(store.pending()) == 6
        store.close()


@pytest.mark.slow
def test_two_inits_of_one_file_leave_the_winners_file(tmp_path):
    _candidates(tmp_path / "c.csv")
    runs = [(str(tmp_path / f"lab{rep}.db"), str(tmp_path / "c.csv")) for rep in range(REPEATS)]
    results = _race(_init_racer, [runs, runs])
    for db, _ in runs:
        codes = sorted((code, err) for path, code, err in results if path == db)
        assert [c for c, _ in codes] == [0, 2], codes
        loser = " ".join(codes[1][1].split())
        assert loser.count("error:") == 1 and "already exists" in loser
        campaign = dl.Campaign.open(Store(db, readonly=True))  # the winner's file is intact
        assert campaign.status()["measured"] == 6
        campaign.store.close()


def test_a_busy_file_gives_one_clear_error_and_writes_nothing(tmp_path):
    table = _candidates(tmp_path / "c.csv")
    path = tmp_path / "lab.db"
    dl.Campaign(table, target="y", goal="maximize", store=path).store.close()
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
    try:
        campaign = dl.Campaign.open(Store(path, timeout=0.2))
        with pytest.raises(dl.InputError, match="is busy: another designloop command"):
            campaign.suggest(2)
        with pytest.raises(dl.InputError, match="is busy"):
            campaign.observe(pd.DataFrame({"candidate_id": [7], "y": [1.0]}))
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert campaign.store.cycles().empty and campaign.status()["measurements"] == 6
    assert len(campaign.suggest(2)) == 2  # and works once the other write is done


def test_create_is_exclusive_and_discard_removes_only_its_own_file(tmp_path):
    db = tmp_path / "lab.db"
    db.write_bytes(b"another process's file")
    with pytest.raises(dl.InputError, match="already exists"):
        Store(db, create=True)
    assert db.read_bytes() == b"another process's file"
    new = Store(tmp_path / "new.db", create=True)
    new.initialise({}, pd.DataFrame({"candidate_id": [0]}))
    new.discard()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lab.db"]
    kept = tmp_path / "kept.db"
    Store(kept).initialise({}, pd.DataFrame({"candidate_id": [0]}))
    Store(kept).discard()  # opened, not created: discard closes it and leaves the file
    assert Store(kept).config() == {}
