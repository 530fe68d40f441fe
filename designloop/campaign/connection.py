"""A campaign file at the level of SQLite (stdlib sqlite3): its tables, opening it, the
transactions on it, and tables and numbers as they are written to it."""

from __future__ import annotations

import json
import math
import os
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from designloop.errors import InputError

SCHEMA_VERSION = 7  # the newest this designloop reads. 2: the configuration holds the
# incumbent and the GP prior; 3: observations can be retracted (table retractions), which
# older versions would not see; 4: experiments can fail (table failures), which older
# versions would read as values; 5: a filter rules candidates out (table filters), which
# older versions would suggest; 6: several targets (table observation_targets); 7:
# outcome constraints, which version 6 would optimise. A file
# carries the lowest version its contents need:
RETRACTIONS_VERSION = 3  # new files (their schema has the retractions table)
FAILURES_VERSION = 4  # raised to at the first failure
FILTERS_VERSION = 5  # raised to when a candidate filter is first set (table filters)
TARGETS_VERSION = 6  # a campaign of several targets (table observation_targets)
CONSTRAINTS_VERSION = 7  # a campaign with outcome constraints (a target's goal "constraint")
SCHEMA = """
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
"""
RETRACTIONS_TABLE = """
CREATE TABLE IF NOT EXISTS retractions (
    observation_id INTEGER PRIMARY KEY REFERENCES observations(id),
    created_at TEXT NOT NULL,
    reason TEXT NOT NULL
)"""
SCHEMA += RETRACTIONS_TABLE + ";\n"
TARGETS_TABLE = """
CREATE TABLE IF NOT EXISTS observation_targets (
    observation_id INTEGER PRIMARY KEY REFERENCES observations(id),
    target TEXT NOT NULL
)"""
FILTERS_TABLE = """
CREATE TABLE IF NOT EXISTS filters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    expression TEXT
)"""


def table_to_json(table: pd.DataFrame) -> str:
    """A DataFrame as JSON with exact float round-trip (Python's repr of floats)."""
    data = table.astype(object).where(table.notna(), None).to_numpy().tolist()
    return json.dumps({"columns": [str(c) for c in table.columns], "data": data})


def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def now() -> str:
    """UTC timestamp in ISO 8601."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def connect(path: str, readonly: bool, create: bool, timeout: float
            ) -> tuple[sqlite3.Connection, set[str], bool]:
    """An autocommit connection to the campaign file `path` (or ":memory:"), the names of
    the tables it holds, and whether it was created here.

    Raises:
        InputError: the folder or (read-only) the file does not exist, `create` and the file
            exists, or the file is not a designloop campaign file.
    """
    memory = path == ":memory:"
    created = False
    if not memory:
        file = Path(path)
        if not file.parent.exists():
            raise InputError(f"folder {file.parent} for the campaign file does not exist")
        if create:
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            except FileExistsError:
                raise InputError(
                    f"{path} already exists; choose a new file name, or continue the "
                    f"campaign in it with designloop suggest {path}") from None
            created = True
        elif readonly and not file.is_file():
            raise InputError(f"campaign file {path} does not exist; create it with "
                             "designloop init")
    conn = None
    try:
        if readonly and not memory:
            uri = f"file:{quote(os.path.abspath(path))}?mode=ro"
            conn = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)
        else:
            conn = sqlite3.connect(path, timeout=timeout, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        if not readonly:
            conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        tables = {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        if conn is not None:
            conn.close()
        raise InputError(
            f"{path} is not a designloop campaign file ({exc}); give a new file name "
            "to start a campaign"
        ) from None
    if tables and "meta" not in tables:
        conn.close()
        raise InputError(
            f"{path} is not a designloop campaign file (an SQLite database without "
            "designloop's tables); give a new file name to start a campaign")
    return conn, tables, created


def busy_message(store) -> str:
    """The error for a file another process holds too long."""
    return (f"{store.path} is busy: another designloop command has been writing to it for "
            f"{store.timeout:g} s; try again when it has finished")


class Transaction:
    """BEGIN IMMEDIATE ... COMMIT on the store's connection, or ROLLBACK on any error;
    nested uses join the outermost. After the commit the store writes the feature matrices
    the step built (`FeatureCache`); after a rollback it forgets them."""

    def __init__(self, store):
        self.store = store
        self.conn = store._conn
        self.outer = False

    def __enter__(self):
        if self.conn.in_transaction:  # nested: the outermost transaction commits
            return self.conn
        try:
            if self.store._fresh:
                self.conn.execute("PRAGMA journal_mode = WAL")
                self.store._fresh = False
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise InputError(busy_message(self.store)) from None
            if "readonly" in str(exc):
                raise InputError(f"{self.store.path} cannot be written (a read-only file or "
                                 "folder); copy it somewhere writable") from None
            raise
        self.outer = True
        return self.conn

    def __exit__(self, exc_type, exc, tb):
        if not self.outer:
            return False
        if exc_type is None:
            try:
                self.conn.execute("COMMIT")
            except BaseException:
                self.store._discard_unwritten()
                raise
            self.store._write_features()  # the feature matrices the step built
        else:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            self.store._discard_unwritten()
        return False
