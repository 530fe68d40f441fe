"""The durable log of a campaign: one SQLite file (or memory) holding the configuration,
the candidate table, every cycle, suggestion and observation.

Each write (`record_cycle`, `add_observations`, `release`, `retract`) is one transaction,
so a crash at any point leaves the file readable with every committed cycle intact. Nothing
is pickled: tables are JSON, values are SQLite numbers and text. Nothing is deleted either:
a retracted observation stays, marked with when and why.

The file also caches the encoded feature matrices of the candidates (table features, see
`designloop.campaign.feature_cache`); the cache is no part of the log: older versions
ignore the table, and an entry may be replaced.

Several processes may use one file at once: a write step that first reads what it decides on
(the next cycle number, the pending candidates) runs inside one `transaction()`, which takes
the file's write lock (`BEGIN IMMEDIATE`) and waits for another writer up to `timeout`
seconds. Opening a file never writes to it; a read-only Store (`readonly=True`) cannot.
Everything read back is checked, so a damaged or hand-edited file gives an InputError that
names the file and what is wrong, not a traceback.
"""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd

from designloop.campaign.connection import (
    CONSTRAINTS_VERSION,
    RETRACTIONS_VERSION,
    SCHEMA,
    SCHEMA_VERSION,
    TARGETS_TABLE,
    TARGETS_VERSION,
    Transaction,
    busy_message,
    connect,
    is_int,
    now,
    table_to_json,
)
from designloop.campaign.feature_cache import FEATURES_TABLE, FeatureCache
from designloop.campaign.fit_log import FitLog
from designloop.campaign.observation_log import ObservationLog
from designloop.errors import InputError
from designloop.records import CycleRecord, NewerRecordError

BUSY_TIMEOUT_S = 120.0  # how long a write waits for another process's write to finish
DAMAGED = "the file is damaged or was edited by hand; restore it from a backup"

class Store(ObservationLog, FeatureCache, FitLog):
    """SQLite-backed campaign log.

    Args:
        path: a file path, or ":memory:" for a log that lives as long as the object.
        readonly: open an existing file read-only (SQLite `mode=ro`): reading never
            creates or changes it, and any write raises InputError.
        create: create the file, which must not exist yet (exclusively: of two processes
            creating the same file, one gets an InputError and touches nothing). `discard()`
            removes it again.
        timeout: seconds a write waits for another process's write to the same file.
    """

    def __init__(self, path: str | Path = ":memory:", *, readonly: bool = False,
                 create: bool = False, timeout: float = BUSY_TIMEOUT_S):
        self.path = str(path)
        self.readonly = readonly
        self.timeout = float(timeout)
        self._memory = self.path == ":memory:"
        # feature matrices kept in memory: all of them for an in-memory store, else those
        # waiting for the current transaction to commit before they are written
        self._features: dict[str, np.ndarray] = {}
        self._unwritten: dict[str, str] = {}  # key -> encoding, written after the commit
        self._conn, tables, self.created = connect(self.path, readonly, create, self.timeout)
        if tables:
            try:
                self._check_version()
            except InputError:
                self.close()
                raise
        # a new file switches to write-ahead logging at its first write (readers then never
        # wait for a writer); until then opening it has changed nothing
        self._fresh = not tables and not self._memory and not readonly

    def _check_version(self) -> None:
        version = self.get_meta("schema_version")
        if version is None:
            if self.get_meta("config") is None:
                return  # nothing written yet
            raise InputError(f"{self.path}: the schema version (table meta, key "
                             f"'schema_version') is missing; {DAMAGED}")
        if not (isinstance(version, str) and version.strip().isdigit()):
            raise InputError(f"{self.path}: the schema version (table meta, key "
                             f"'schema_version') is {version!r}, not a whole number; {DAMAGED}")
        if int(version) > SCHEMA_VERSION:
            raise InputError(
                f"{self.path} was written by a newer designloop (schema {int(version)}, this "
                f"one reads up to {SCHEMA_VERSION}); upgrade designloop to open it")

    # ------------------------------------------------------------------ plumbing
    def transaction(self):
        """Context manager: BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error.

        The write lock is taken at the start, so what is read inside cannot change before
        the writes commit; another process's write waits (up to `timeout` seconds, then
        InputError). Nested uses join the outermost transaction."""
        if self.readonly:
            raise InputError(f"{self.path} is open read-only; nothing can be written")
        return Transaction(self)

    def close(self) -> None:
        """Close the connection (the object cannot be used afterwards)."""
        if self._conn is not None:
            self._conn.close()

    def discard(self) -> None:
        """Close, and remove the file if this Store created it (`create=True`); a file that
        existed before is never removed."""
        self.close()
        if self.created:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            self.created = False

    def _query(self, sql: str, params=()) -> list[tuple]:
        try:
            with closing(self._conn.execute(sql, params)) as cur:
                return cur.fetchall()
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise InputError(busy_message(self)) from None
            raise InputError(f"{self.path}: cannot read the campaign log ({exc}); "
                             f"{DAMAGED}") from None
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{self.path}: cannot read the campaign log ({exc}); "
                             f"{DAMAGED}") from None

    def _json(self, text, what: str, kind: type = dict):
        """Parse a JSON value read from the file; InputError naming it when it is not JSON
        of the expected kind."""
        try:
            value = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{self.path}: {what} is not valid JSON ({exc}); {DAMAGED}") \
                from None
        if not isinstance(value, kind):
            raise InputError(f"{self.path}: {what} should be a JSON "
                             f"{'object' if kind is dict else 'array'}, not "
                             f"{type(value).__name__}; {DAMAGED}")
        return value

    def _wrong(self, where: str, column: str, value, expected: str) -> InputError:
        return InputError(f"{self.path}: {where}, column '{column}' holds {value!r} where "
                          f"{expected} belongs; {DAMAGED}")

    # ------------------------------------------------------------------ meta
    def get_meta(self, key: str) -> str | None:
        """The value of `key` in the meta table, or None (also before anything is written)."""
        if not self._query("SELECT name FROM sqlite_master WHERE type = 'table' AND "
                           "name = 'meta'"):
            return None
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    @property
    def is_initialised(self) -> bool:
        """Whether the file holds a campaign (its configuration)."""
        return self.get_meta("config") is not None

    def initialise(self, config: dict, candidates: pd.DataFrame) -> None:
        """Create the tables and write the configuration and the candidate table (once),
        in one transaction."""
        with self.transaction():
            several = bool(config.get("targets"))
            for statement in (SCHEMA + FEATURES_TABLE + ";" + (TARGETS_TABLE if several
                                                                else "")).split(";"):
                if statement.strip():
                    self._conn.execute(statement)
            if self.is_initialised:
                raise InputError(
                    f"{self.path} already holds a campaign; open it to continue, or choose a "
                    "new file name")
            rows = [
                ("schema_version", str(_created_version(config))),
                ("config", json.dumps(config)),
                ("candidates", table_to_json(candidates)),
                ("created_at", now()),
            ]
            self._conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", rows)

    def config(self) -> dict:
        """The stored configuration (a dict as written by `initialise`)."""
        text = self.get_meta("config")
        if text is None:
            if not self._memory and os.path.getsize(self.path) == 0:
                raise InputError(f"{self.path} is an empty file (0 bytes), not a campaign; "
                                 "delete it, then create the campaign with designloop init")
            raise InputError(f"{self.path} holds no campaign yet; create one with init first")
        return self._json(text, "the configuration (table meta, key 'config')")

    def candidates(self) -> pd.DataFrame:
        """The candidate table, `candidate_id` first (0..N-1)."""
        what = "the candidate table (table meta, key 'candidates')"
        obj = self._json(self.get_meta("candidates"), what)
        columns, data = obj.get("columns"), obj.get("data")
        if not (isinstance(columns, list) and isinstance(data, list)
                and all(isinstance(r, list) and len(r) == len(columns) for r in data)):
            raise InputError(f"{self.path}: {what} should hold 'columns' and 'data' rows of "
                             f"equal length; {DAMAGED}")
        ids = [r[0] for r in data] if columns and columns[0] == "candidate_id" else None
        if ids != list(range(len(data))):
            raise InputError(f"{self.path}: {what} should start with the column candidate_id "
                             f"numbering the rows 0, 1, 2, ...; {DAMAGED}")
        return pd.DataFrame(data, columns=columns).infer_objects()

    # ------------------------------------------------------------------ cycles
    def next_cycle(self) -> int:
        """The number the next cycle gets. Read it inside the `transaction()` that records
        the cycle, so that no other process takes the same number in between."""
        rows = self._query("SELECT COALESCE(MAX(cycle), 0) FROM cycles")
        if not is_int(rows[0][0]):
            raise self._wrong("table cycles", "cycle", rows[0][0], "a whole number")
        return int(rows[0][0]) + 1

    def record_cycle(self, cycle: int, kind: str, surrogate: str | None, acquisition: str | None,
                     n_observed: int, record: CycleRecord, suggestions: list[dict]) -> None:
        """Log one suggest step (its CycleRecord as JSON, and its `fit_state` in table fits)
        and its suggestions (status pending) in one transaction."""
        with self.transaction():
            self._conn.execute(
                "INSERT INTO cycles VALUES (?, ?, ?, ?, ?, ?, ?)",
                (cycle, now(), kind, surrogate, acquisition, n_observed,
                 json.dumps(record.to_json())),
            )
            self._conn.executemany(
                "INSERT INTO suggestions VALUES (?, ?, ?, ?, ?, 'pending')",
                [(cycle, s["candidate_id"], s["rank"], s["score"], json.dumps(s["prediction"]))
                 for s in suggestions],
            )
            self._log_fit(cycle, record.fit_state)

    def discard_cycle(self, cycle: int) -> None:
        """Remove the latest cycle and its suggestions in one transaction, as if it had never
        been suggested: for a suggest step whose output could not be delivered.

        Raises:
            InputError: `cycle` is not the latest cycle, or some of its suggestions were
                already observed or released (nothing is removed then).
        """
        with self.transaction():
            latest = self._query("SELECT MAX(cycle) FROM cycles")[0][0]
            if latest is None or int(cycle) != latest:
                raise InputError(f"cycle {cycle} is not the latest cycle ({latest}) of "
                                 f"{self.path}; only the latest can be discarded")
            done = self._query("SELECT COUNT(*) FROM suggestions WHERE cycle = ? AND "
                               "status != 'pending'", (int(cycle),))[0][0]
            if done:
                raise InputError(f"cycle {cycle} of {self.path} has {done} suggestion(s) "
                                 "already observed or released; it is kept")
            self._conn.execute("DELETE FROM suggestions WHERE cycle = ?", (int(cycle),))
            self._forget_fit(cycle)
            self._conn.execute("DELETE FROM cycles WHERE cycle = ?", (int(cycle),))

    def cycles(self) -> pd.DataFrame:
        """One row per cycle: cycle, created_at, kind, surrogate, acquisition, n_observed and
        record (its CycleRecord)."""
        rows = self._query("SELECT * FROM cycles ORDER BY cycle")
        cols = ["cycle", "created_at", "kind", "surrogate", "acquisition", "n_observed", "record"]
        for row in rows:
            where = f"table cycles, cycle {row[0]!r}"
            if len(row) != len(cols):
                raise InputError(f"{self.path}: table cycles has {len(row)} columns, not "
                                 f"{len(cols)}; {DAMAGED}")
            for col, value, expected, ok in (
                    ("cycle", row[0], "a whole number", is_int(row[0])),
                    ("kind", row[2], "text", isinstance(row[2], str)),
                    ("n_observed", row[5], "a whole number", is_int(row[5]))):
                if not ok:
                    raise self._wrong(where, col, value, expected)
        df = pd.DataFrame(rows, columns=cols)
        df["record"] = [self._record(row[6], row[0]) for row in rows]
        return df

    def _record(self, text, cycle) -> CycleRecord:
        where = f"the info of cycle {cycle!r} (table cycles)"
        data = self._json(text, where)
        try:
            return CycleRecord.from_json(data, f"{self.path}: {where}")
        except NewerRecordError:
            raise
        except InputError as exc:
            raise InputError(f"{exc}; {DAMAGED}") from None

    def last_record_value(self, field: str):
        """The field `field` of the latest cycle's record that has it set, or None."""
        for cycle, text in self._query("SELECT cycle, info FROM cycles ORDER BY cycle DESC"):
            value = getattr(self._record(text, cycle), field)
            if value is not None:
                return value
        return None

    def suggestions(self) -> pd.DataFrame:
        """One row per suggestion: cycle, candidate_id, rank, score, prediction (a dict),
        status (pending, observed or released)."""
        rows = self._query("SELECT * FROM suggestions ORDER BY cycle, rank")
        cols = ["cycle", "candidate_id", "rank", "score", "prediction", "status"]
        for row in rows:
            where = f"table suggestions, cycle {row[0]!r}"
            for col, value, expected, ok in (
                    ("candidate_id", row[1], "a whole number", is_int(row[1])),
                    ("rank", row[2], "a whole number", is_int(row[2])),
                    ("score", row[3], "a number or nothing",
                     row[3] is None or isinstance(row[3], int | float))):
                if not ok:
                    raise self._wrong(where, col, value, expected)
        df = pd.DataFrame(rows, columns=cols)
        df["prediction"] = [
            self._json(row[4], f"the prediction for candidate {row[1]} in cycle {row[0]} "
                               "(table suggestions)") for row in rows]
        return df

    def pending(self) -> list[int]:
        """Candidate ids suggested and neither observed nor released yet."""
        rows = self._query("SELECT DISTINCT candidate_id FROM suggestions WHERE status='pending'")
        for (cid,) in rows:
            if not is_int(cid):
                raise self._wrong("table suggestions", "candidate_id", cid, "a whole number")
        return sorted(r[0] for r in rows)

    def release(self, candidate_ids: list[int] | None = None) -> int:
        """Mark pending suggestions as released (all, or those candidates); returns how many."""
        with self.transaction():
            if candidate_ids is None:
                cur = self._conn.execute(
                    "UPDATE suggestions SET status='released' WHERE status='pending'")
            else:
                marks = ",".join("?" * len(candidate_ids))
                cur = self._conn.execute(
                    f"UPDATE suggestions SET status='released' WHERE status='pending' "
                    f"AND candidate_id IN ({marks})", list(candidate_ids))
            return cur.rowcount


def _created_version(config: dict) -> int:
    """The schema version a new campaign file needs: the lowest that reads its settings."""
    targets = config.get("targets") or {}
    if any(spec.get("goal") == "constraint" for spec in targets.values()):
        return CONSTRAINTS_VERSION
    return TARGETS_VERSION if targets else RETRACTIONS_VERSION
