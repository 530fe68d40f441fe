"""What each cycle's model step leaves for the next (table `fits`, one row per cycle): the
SMILES encoding last chosen by comparison and the GP hyper-parameters the fit ended with
(see `designloop.campaign.reuse`).

It is a log of how each cycle's model was fitted and a start for the next fit, not part of
the campaign's record: a cycle's row is written in the transaction that logs the cycle and
removed with it, an older designloop ignores the table, and a row that cannot be read back
is ignored (the next fit then starts cold, which costs time and nothing else).
"""

from __future__ import annotations

import json

FITS_TABLE = """
CREATE TABLE IF NOT EXISTS fits (
    cycle INTEGER PRIMARY KEY REFERENCES cycles(cycle),
    state TEXT NOT NULL
)"""


class FitLog:
    """The `fits` part of `Store` (a mixin: it uses the store's connection and queries)."""

    def _log_fit(self, cycle: int, state: dict | None) -> None:
        """Write cycle `cycle`'s fit state (inside the caller's transaction); None: none."""
        if state is None:
            return
        self._conn.execute(FITS_TABLE)
        self._conn.execute("INSERT OR REPLACE INTO fits VALUES (?, ?)",
                           (int(cycle), json.dumps(state)))

    def _forget_fit(self, cycle: int) -> None:
        """Remove cycle `cycle`'s fit state (inside the caller's transaction)."""
        if self._has_table("fits"):
            self._conn.execute("DELETE FROM fits WHERE cycle = ?", (int(cycle),))

    def last_fit_state(self) -> dict:
        """The latest cycle's fit state; {} when there is none or it does not read back as a
        JSON object (the next fit then starts cold)."""
        if not self._has_table("fits"):
            return {}
        for (text,) in self._query("SELECT state FROM fits ORDER BY cycle DESC LIMIT 1"):
            try:
                state = json.loads(text)
            except (TypeError, ValueError):
                return {}
            return state if isinstance(state, dict) else {}
        return {}
