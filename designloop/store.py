"""The durable log of a campaign: one SQLite file (or memory) holding the configuration,
the candidate table, every cycle, suggestion and observation.

Each write (`record_cycle`, `add_observations`, `release`, `retract`) is one transaction,
so a crash at any point leaves the file readable with every committed cycle intact. Nothing
is pickled: tables are JSON, values are SQLite numbers and text. Nothing is deleted either:
a retracted observation stays, marked with when and why.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from designloop.errors import InputError

SCHEMA_VERSION = 3  # 2: the configuration holds the incumbent and the GP prior;
# 3: observations can be retracted (table retractions), which older versions would not see

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cycles (
    cycle INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    kind TEXT NOT NULL,
    surrogate TEXT,
    acquisition TEXT,
    n_observed INTEGER NOT NULL,
    info TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS suggestions (
    cycle INTEGER NOT NULL REFERENCES cycles(cycle),
    candidate_id INTEGER NOT NULL,
    rank INTEGER NOT NULL,
    score REAL,
    prediction TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'observed', 'released')),
    PRIMARY KEY (cycle, candidate_id)
);
CREATE TABLE IF NOT EXISTS observations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    candidate_id INTEGER NOT NULL,
    value NOT NULL,
    created_at TEXT NOT NULL,
    source TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS observations_candidate ON observations(candidate_id);
CREATE TABLE IF NOT EXISTS retractions (
    observation_id INTEGER PRIMARY KEY REFERENCES observations(id),
    created_at TEXT NOT NULL,
    reason TEXT NOT NULL
);
"""


def now() -> str:
    """UTC timestamp in ISO 8601."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def table_to_json(table: pd.DataFrame) -> str:
    """A DataFrame as JSON with exact float round-trip (Python's repr of floats)."""
    data = table.astype(object).where(table.notna(), None).to_numpy().tolist()
    return json.dumps({"columns": [str(c) for c in table.columns], "data": data})


def table_from_json(text: str) -> pd.DataFrame:
    """Inverse of table_to_json; columns get pandas' inferred dtypes back."""
    obj = json.loads(text)
    return pd.DataFrame(obj["data"], columns=obj["columns"]).infer_objects()


class Store:
    """SQLite-backed campaign log.

    Args:
        path: a file path, or ":memory:" for a log that lives as long as the object.
    """

    def __init__(self, path: str | Path = ":memory:"):
        self.path = str(path)
        self._memory = self.path == ":memory:"
        if not self._memory:
            parent = Path(self.path).parent
            if not parent.exists():
                raise InputError(f"folder {parent} for the campaign file does not exist")
        try:
            self._conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            self._conn.execute("PRAGMA busy_timeout = 30000")
            if not self._memory:
                self._conn.execute("PRAGMA journal_mode = WAL")
                self._conn.execute("PRAGMA synchronous = FULL")
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._conn.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise InputError(
                f"{self.path} is not a designloop campaign file ({exc}); give a new file name "
                "to start a campaign"
            ) from None
        version = self.get_meta("schema_version")
        if version is not None and int(version) > SCHEMA_VERSION:
            raise InputError(
                f"{self.path} was written by a newer designloop (schema {version}); upgrade"
            )

    # ------------------------------------------------------------------ plumbing
    def transaction(self):
        """Context manager: BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error."""
        return _Transaction(self._conn)

    def close(self) -> None:
        self._conn.close()

    def _query(self, sql: str, params=()) -> list[tuple]:
        with closing(self._conn.execute(sql, params)) as cur:
            return cur.fetchall()

    # ------------------------------------------------------------------ meta
    def get_meta(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    @property
    def is_initialised(self) -> bool:
        return self.get_meta("config") is not None

    def initialise(self, config: dict, candidates: pd.DataFrame) -> None:
        """Write the configuration and the candidate table (once)."""
        if self.is_initialised:
            raise InputError(
                f"{self.path} already holds a campaign; open it to continue, or choose a new "
                "file name"
            )
        with self.transaction():
            rows = [
                ("schema_version", str(SCHEMA_VERSION)),
                ("config", json.dumps(config)),
                ("candidates", table_to_json(candidates)),
                ("created_at", now()),
            ]
            self._conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", rows)

    def config(self) -> dict:
        text = self.get_meta("config")
        if text is None:
            raise InputError(f"{self.path} holds no campaign yet; create one with init first")
        return json.loads(text)

    def candidates(self) -> pd.DataFrame:
        return table_from_json(self.get_meta("candidates"))

    # ------------------------------------------------------------------ cycles
    def next_cycle(self) -> int:
        rows = self._query("SELECT COALESCE(MAX(cycle), 0) FROM cycles")
        return int(rows[0][0]) + 1

    def record_cycle(self, cycle: int, kind: str, surrogate: str | None, acquisition: str | None,
                     n_observed: int, info: dict, suggestions: list[dict]) -> None:
        """Log one suggest step and its suggestions (status pending) in one transaction."""
        with self.transaction():
            self._conn.execute(
                "INSERT INTO cycles VALUES (?, ?, ?, ?, ?, ?, ?)",
                (cycle, now(), kind, surrogate, acquisition, n_observed, json.dumps(info)),
            )
            self._conn.executemany(
                "INSERT INTO suggestions VALUES (?, ?, ?, ?, ?, 'pending')",
                [(cycle, s["candidate_id"], s["rank"], s["score"], json.dumps(s["prediction"]))
                 for s in suggestions],
            )

    def cycles(self) -> pd.DataFrame:
        rows = self._query("SELECT * FROM cycles ORDER BY cycle")
        cols = ["cycle", "created_at", "kind", "surrogate", "acquisition", "n_observed", "info"]
        df = pd.DataFrame(rows, columns=cols)
        df["info"] = df["info"].map(json.loads)
        return df

    def last_info(self, key: str):
        """`info[key]` of the latest cycle whose info has it, or None."""
        for (text,) in self._query("SELECT info FROM cycles ORDER BY cycle DESC"):
            info = json.loads(text)
            if key in info:
                return info[key]
        return None

    def suggestions(self) -> pd.DataFrame:
        rows = self._query("SELECT * FROM suggestions ORDER BY cycle, rank")
        cols = ["cycle", "candidate_id", "rank", "score", "prediction", "status"]
        df = pd.DataFrame(rows, columns=cols)
        df["prediction"] = df["prediction"].map(json.loads)
        return df

    def pending(self) -> list[int]:
        rows = self._query("SELECT DISTINCT candidate_id FROM suggestions WHERE status='pending'")
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

    # ------------------------------------------------------------------ observations
    def add_observations(self, candidate_ids: list[int], values: list, source: str) -> None:
        """Append measurements (replicates stay separate rows) and mark their pending
        suggestions observed, in one transaction."""
        stamp = now()
        with self.transaction():
            self._conn.executemany(
                "INSERT INTO observations (candidate_id, value, created_at, source) "
                "VALUES (?, ?, ?, ?)",
                [(int(c), v, stamp, source) for c, v in zip(candidate_ids, values, strict=True)],
            )
            marks = ",".join("?" * len(candidate_ids))
            self._conn.execute(
                f"UPDATE suggestions SET status='observed' WHERE status='pending' "
                f"AND candidate_id IN ({marks})", [int(c) for c in candidate_ids])

    def observations(self, retracted: bool = False) -> pd.DataFrame:
        """The measurements in the order recorded: those in force, or with `retracted`
        every one, with `retracted_at` and `reason` (empty for those in force)."""
        cols = ["id", "candidate_id", "value", "created_at", "source"]
        if not retracted:
            rows = self._query("SELECT * FROM observations WHERE id NOT IN "
                               "(SELECT observation_id FROM retractions) ORDER BY id")
            return pd.DataFrame(rows, columns=cols)
        rows = self._query("SELECT o.*, r.created_at, r.reason FROM observations o LEFT JOIN "
                           "retractions r ON r.observation_id = o.id ORDER BY o.id")
        return pd.DataFrame(rows, columns=[*cols, "retracted_at", "reason"])

    def retract(self, observation_ids: list[int], reason: str = "") -> None:
        """Mark observations as retracted, in one transaction: they stay in the file, with
        when and why, but no longer count. The caller checks that the ids are in force."""
        stamp = now()
        with self.transaction():
            self._conn.executemany(
                "INSERT INTO retractions (observation_id, created_at, reason) VALUES (?, ?, ?)",
                [(int(i), stamp, reason) for i in observation_ids])
            # a file older than retractions is now one that older versions must not read
            self._conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version' AND "
                               "CAST(value AS INTEGER) < ?", (str(SCHEMA_VERSION), SCHEMA_VERSION))


class _Transaction:
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.conn.execute("COMMIT")
        else:
            self.conn.execute("ROLLBACK")
        return False
