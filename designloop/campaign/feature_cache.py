"""The cache of encoded feature matrices in a campaign file (table `features`).

An entry is keyed by a hash of everything it was computed from (`Encoder.feature_key`);
its data is np.save of the float64 matrix (no pickle), zlib-compressed, with its SHA-256.
It is written in a transaction of its own after the step that built it commits (never as
part of a logged step), and an entry that cannot be read back intact is ignored and built
again.
"""

from __future__ import annotations

import hashlib
import io
import zlib

import numpy as np

from designloop.campaign.connection import now
from designloop.errors import InputError

FEATURES_TABLE = """
CREATE TABLE IF NOT EXISTS features (
    key TEXT PRIMARY KEY,
    encoding TEXT NOT NULL,
    n_rows INTEGER NOT NULL,
    n_columns INTEGER NOT NULL,
    digest TEXT NOT NULL,
    data BLOB NOT NULL,
    created_at TEXT NOT NULL
)"""
FEATURES_BUSY_TIMEOUT_S = 2.0  # a cache write waits this long for another writer, then gives up


class FeatureCache:
    """The feature-cache part of `Store` (a mixin: it uses the store's connection, path and
    transactions)."""

    def load_features(self, key: str) -> np.ndarray | None:
        """The feature matrix cached under `key` (see `save_features`), or None when there is
        none. An entry that cannot be read back intact (damaged, or not a float64 matrix of
        its recorded shape) is ignored, as if it were not there: the caller builds the
        matrix again."""
        if key in self._features:
            return self._features[key]
        if self._memory:
            return None
        try:
            if not self._has_table("features"):  # a file from before the cache
                return None
            rows = self._query("SELECT n_rows, n_columns, digest, data FROM features WHERE "
                               "key = ?", (key,))
        except InputError:
            return None
        if not rows:
            return None
        n_rows, n_columns, digest, data = rows[0]
        if not isinstance(data, bytes) or hashlib.sha256(data).hexdigest() != digest:
            return None
        return _bytes_matrix(data, (n_rows, n_columns))

    def save_features(self, key: str, encoding: str, matrix: np.ndarray) -> None:
        """Cache the float64 feature matrix `matrix` (of the encoding named `encoding`) under
        `key`, a hash of everything it was computed from.

        An in-memory store keeps it in memory; a read-only one keeps nothing. A file gets
        it in a transaction of its own, at once or, inside a `transaction()`, once that has
        committed (nothing of a step that fails is written). It replaces the entries of the
        same encoding under other keys. Writing is best effort: when the file is busy for
        more than a moment or cannot be written, the entry is left out and built again next
        time."""
        if self._memory:
            self._features[key] = matrix
            return
        if self.readonly:
            return
        self._features[key] = matrix
        self._unwritten[key] = encoding
        if not self._conn.in_transaction:
            self._write_features()

    def _write_features(self) -> None:
        """Write the matrices waiting in memory, in one short transaction of their own."""
        waiting, self._unwritten = self._unwritten, {}
        matrices = [(key, encoding, self._features.pop(key)) for key, encoding in waiting.items()]
        if not matrices:
            return
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {int(FEATURES_BUSY_TIMEOUT_S * 1000)}")
            rows = []
            for key, encoding, matrix in matrices:
                data = _matrix_bytes(matrix)
                rows.append((key, encoding, *matrix.shape, hashlib.sha256(data).hexdigest(),
                             data, now()))
            with self.transaction():
                self._conn.execute(FEATURES_TABLE)  # a file from before the cache gets the table
                for row in rows:
                    self._conn.execute("DELETE FROM features WHERE encoding = ? AND key != ?",
                                       (row[1], row[0]))
                self._conn.executemany("INSERT OR REPLACE INTO features VALUES "
                                       "(?, ?, ?, ?, ?, ?, ?)", rows)
        except Exception:
            # only a cache, written after the step committed: a busy file or a full disk must
            # not fail the step; the matrix is built again next time
            pass
        finally:
            try:
                self._conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            except Exception:
                pass  # the step has committed: a cache's housekeeping must not fail it

    def _discard_unwritten(self) -> None:
        for key in self._unwritten:
            self._features.pop(key, None)
        self._unwritten = {}


def _matrix_bytes(matrix: np.ndarray) -> bytes:
    """A float64 matrix as bytes: np.save's format (no pickle), zlib-compressed."""
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(matrix, dtype=np.float64), allow_pickle=False)
    return zlib.compress(buffer.getvalue(), 6)


def _bytes_matrix(data: bytes, shape: tuple) -> np.ndarray | None:
    """Inverse of `_matrix_bytes`: the float64 matrix of this shape, or None when `data` is
    not one."""
    try:
        matrix = np.load(io.BytesIO(zlib.decompress(data)), allow_pickle=False)
    except (ValueError, OSError, EOFError, zlib.error):
        return None
    if not (isinstance(matrix, np.ndarray) and matrix.dtype == np.float64
            and matrix.shape == shape):
        return None
    return matrix if matrix.flags.writeable else matrix.copy()
