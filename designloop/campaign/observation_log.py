"""The measurements in a campaign file: tables observations, retractions and failures; and
the candidate filter in force (table filters, see `designloop.campaign.filters`).

A measurement is a row of `observations`; retracting it adds a row to `retractions`, and an
experiment that failed (gave nothing to measure) is an observation whose value is the text
FAILED with a row in `failures`. Nothing is ever deleted. Files written before retractions
or failures existed lack those tables: nothing in them is retracted or failed, and the
table is created (and the schema version raised) by the first write that needs it.
"""

from __future__ import annotations

import pandas as pd

from designloop.campaign.connection import (
    FAILURES_VERSION,
    FILTERS_TABLE,
    FILTERS_VERSION,
    RETRACTIONS_TABLE,
    RETRACTIONS_VERSION,
    is_int,
    is_number,
    now,
)

FAILED = "failed"  # the value stored, and the word a results cell uses, for a failed experiment
FAILURES_TABLE = """
CREATE TABLE IF NOT EXISTS failures (
    observation_id INTEGER PRIMARY KEY REFERENCES observations(id)
)"""
COLUMNS = ["id", "candidate_id", "value", "created_at", "source"]


class ObservationLog:
    """The observation part of `Store` (a mixin: it uses the store's connection, path,
    queries and transactions)."""

    def _has_table(self, name: str) -> bool:
        return bool(self._query("SELECT name FROM sqlite_master WHERE type = 'table' AND "
                                "name = ?", (name,)))

    def _raise_schema_version(self, version: int) -> None:
        """Mark a file whose contents now need schema `version` as one that older versions
        must not read (inside the caller's transaction); a file at that version or above is
        left as it is."""
        self._conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version' AND "
                           "CAST(value AS INTEGER) < ?", (str(version), version))

    def add_observations(self, candidate_ids: list[int], values: list, source: str,
                         failed: list[bool] | None = None, targets: list | None = None
                         ) -> None:
        """Append measurements (replicates stay separate rows) and mark their pending
        suggestions observed, in one transaction. `failed[i]` marks an experiment that gave
        no value (its `values[i]` is ignored and FAILED stored); in a campaign of several
        targets, `targets[i]` names the target of each value (None for a failure)."""
        stamp = now()
        n = len(candidate_ids)
        failed = [False] * n if failed is None else [bool(f) for f in failed]
        targets = [None] * n if targets is None else list(targets)
        with self.transaction():
            if any(failed):
                self._conn.execute(FAILURES_TABLE)
                self._raise_schema_version(FAILURES_VERSION)
            for c, v, f, t in zip(candidate_ids, values, failed, targets, strict=True):
                cur = self._conn.execute(
                    "INSERT INTO observations (candidate_id, value, created_at, source) "
                    "VALUES (?, ?, ?, ?)", (int(c), FAILED if f else v, stamp, source))
                if f:
                    self._conn.execute("INSERT INTO failures (observation_id) VALUES (?)",
                                       (cur.lastrowid,))
                elif t is not None:
                    self._conn.execute("INSERT INTO observation_targets (observation_id, "
                                       "target) VALUES (?, ?)", (cur.lastrowid, str(t)))
            marks = ",".join("?" * len(candidate_ids))
            self._conn.execute(
                f"UPDATE suggestions SET status='observed' WHERE status='pending' "
                f"AND candidate_id IN ({marks})", [int(c) for c in candidate_ids])

    def failed_ids(self) -> set[int]:
        """Observation ids of the failed experiments (retracted or not)."""
        if not self._has_table("failures"):
            return set()
        rows = self._query("SELECT observation_id FROM failures")
        for (value,) in rows:
            if not is_int(value):
                raise self._wrong("table failures", "observation_id", value, "a whole number")
        return {int(v) for (v,) in rows}

    def observations(self, retracted: bool = False, failed: bool = False) -> pd.DataFrame:
        """The measurements in the order recorded: those in force (id, candidate_id, value,
        created_at, source), or with `retracted` every one, with `retracted_at` and `reason`
        (empty for those in force).

        Failed experiments are left out, so that every value is a number (regression) or a
        label; with `failed` they are in, with a boolean column `failed` (their value is
        FAILED). In a campaign of several targets a column `target` names each value's
        target (empty for a failure)."""
        # a file written before retractions existed has no such table: nothing is retracted
        if not self._has_table("retractions"):
            rows = [(*row, None, None) if retracted else row
                    for row in self._query("SELECT * FROM observations ORDER BY id")]
        elif not retracted:
            rows = self._query("SELECT * FROM observations WHERE id NOT IN "
                               "(SELECT observation_id FROM retractions) ORDER BY id")
        else:
            rows = self._query("SELECT o.*, r.created_at, r.reason FROM observations o LEFT "
                               "JOIN retractions r ON r.observation_id = o.id ORDER BY o.id")
        for row in rows:
            if not is_int(row[1]):
                raise self._wrong(f"table observations, row id {row[0]!r}", "candidate_id",
                                  row[1], "a whole number")
            if not (isinstance(row[2], str) or is_number(row[2])):
                raise self._wrong(f"table observations, row id {row[0]!r}", "value", row[2],
                                  "a finite number or a label")
        frame = pd.DataFrame(rows, columns=[*COLUMNS, "retracted_at", "reason"] if retracted
                             else COLUMNS)
        if self._has_table("observation_targets"):  # several targets: which one each is
            named = dict(self._query("SELECT observation_id, target FROM observation_targets"))
            frame.insert(3, "target", frame["id"].map(named))
        gone = frame["id"].isin(self.failed_ids()).to_numpy(dtype=bool)
        if failed:
            frame.insert(3, "failed", gone)
            return frame
        return frame[~gone].reset_index(drop=True)

    def retract(self, observation_ids: list[int], reason: str = "") -> None:
        """Mark observations as retracted, in one transaction: they stay in the file, with
        when and why, but no longer count. The caller checks that the ids are in force."""
        stamp = now()
        with self.transaction():
            self._conn.execute(RETRACTIONS_TABLE)  # a file from before retractions gets the table
            self._conn.executemany(
                "INSERT INTO retractions (observation_id, created_at, reason) VALUES (?, ?, ?)",
                [(int(i), stamp, reason) for i in observation_ids])
            self._raise_schema_version(RETRACTIONS_VERSION)

    # ------------------------------------------------------------------ candidate filter
    def set_filter(self, expression: str | None) -> None:
        """Log a new candidate filter (None: no filter from now on), in one transaction;
        the caller has checked it against the candidates. Earlier ones stay in the log."""
        with self.transaction():
            self._conn.execute(FILTERS_TABLE)
            self._conn.execute("INSERT INTO filters (created_at, expression) VALUES (?, ?)",
                               (now(), expression))
            self._raise_schema_version(FILTERS_VERSION)

    def candidate_filter(self) -> str | None:
        """The filter in force (the latest logged), or None."""
        if not self._has_table("filters"):
            return None
        rows = self._query("SELECT expression FROM filters ORDER BY id DESC LIMIT 1")
        if rows and rows[0][0] is not None and not isinstance(rows[0][0], str):
            raise self._wrong("table filters", "expression", rows[0][0], "text")
        return rows[0][0] if rows else None
