"""Matching result rows to candidates: by `candidate_id`, or by the values of the feature
columns. Every failure names the row and says how to fix it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from designloop.errors import InputError
from designloop.io import unneutralise

ID = "candidate_id"


def comparable(series: pd.Series) -> pd.Series:
    """Comparable text for a column: numbers rounded to 9 significant digits, text stripped
    and without the quote that keeps it from running as a spreadsheet formula."""
    numeric = pd.to_numeric(series, errors="coerce")
    if numeric.notna().all():
        return numeric.map(lambda v: f"{float(v):.9g}")
    return series.astype(str).str.strip().map(unneutralise)


def candidate_ids(values, n: int, where: str, lines=None) -> np.ndarray:
    """Candidate ids as integers, each a whole number from 0 to n - 1 (never a negative
    index counted from the end).

    Args:
        values: the ids as given (numbers or text).
        n: the number of candidates.
        where: file or option name for error messages.
        lines: the line in the file of each value, for error messages (None: no lines).

    Raises:
        InputError: naming the first value that is not an id, and its line.
    """
    series = pd.Series(list(values), dtype=object)
    truth = series.map(lambda v: isinstance(v, bool | np.bool_))  # TRUE is not candidate 1
    ids = pd.to_numeric(series.mask(truth), errors="coerce")
    bad = (ids.isna() | (ids != ids.round()) | (ids < 0) | (ids >= n)).to_numpy()
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        at = f"line {int(lines[pos])}: " if lines is not None else ""
        raise InputError(
            f"{where}: {at}candidate_id {series.iloc[pos]} is not a candidate (ids are whole "
            f"numbers from 0 to {n - 1}); copy the id from the suggestions"
        )
    return ids.astype(np.int64).to_numpy()


def plain(value):
    """A numpy scalar as the Python value it holds (for messages)."""
    return value.item() if isinstance(value, np.generic) else value


def filled(series: pd.Series) -> np.ndarray:
    """Which cells hold something (not missing, not blank text)."""
    return (series.notna() & series.astype(str).str.strip().ne("")).to_numpy()


def _disagreement(results: pd.DataFrame, ids: np.ndarray, candidates: pd.DataFrame,
                  feature_columns: list[str]) -> tuple[int, str] | None:
    """(position, column) of the first row whose feature values contradict its id."""
    first = None
    for col in [c for c in feature_columns if c in results.columns]:
        given = results[col].reset_index(drop=True)
        known = candidates[col].iloc[ids].reset_index(drop=True)
        a = pd.to_numeric(given, errors="coerce").to_numpy(dtype=float)
        b = pd.to_numeric(known, errors="coerce").to_numpy(dtype=float)
        numbers = np.isfinite(a) & np.isfinite(b)
        same = np.where(numbers, np.isclose(a, b, rtol=1e-9, atol=0.0),
                        given.astype(str).str.strip().map(unneutralise).to_numpy()
                        == known.astype(str).str.strip().to_numpy())
        wrong = np.flatnonzero(filled(given) & ~same)
        if len(wrong) and (first is None or wrong[0] < first[0]):
            first = (int(wrong[0]), col)
    return first


def match_rows(results: pd.DataFrame, candidates: pd.DataFrame, feature_columns: list[str],
               source: str, lines=None, new_rows: bool = False) -> np.ndarray:
    """Candidate index for every row of `results` (-1 for a row that is no candidate, when
    `new_rows` allows those).

    A row with a `candidate_id` is that candidate, and any feature values it also carries
    must be that candidate's; a row without one is found by its feature values.

    Args:
        results: the rows to match (with a `candidate_id` column, or all feature columns).
        candidates: the campaign's candidate table (row i = candidate i).
        feature_columns: the columns that identify a candidate.
        source: file or object name for error messages.
        lines: the line of each row in its file (default: position + 2, after the header).
        new_rows: a row without `candidate_id` whose feature values match no candidate is
            -1, not an error.

    Raises:
        InputError: an id is not a candidate or disagrees with the row's feature values, a
            row matches no candidate (unless `new_rows`), or several identical candidates.
    """
    n = len(candidates)
    lines = np.arange(len(results)) + 2 if lines is None else np.asarray(lines)
    out = np.full(len(results), -1, dtype=np.int64)
    has_id = ID in results.columns
    given = filled(results[ID]) if has_id else np.zeros(len(results), dtype=bool)
    if given.any():
        out[given] = candidate_ids(results[ID][given], n, source, lines[given])
        wrong = _disagreement(results[given], out[given], candidates, feature_columns)
        if wrong is not None:
            pos, col = wrong
            row = results[given].iloc[pos]
            cid = int(out[given][pos])
            raise InputError(
                f"{source}: line {int(lines[given][pos])}: candidate_id {cid} has {col}="
                f"{plain(candidates[col].iloc[cid])!r} but the row says {col}="
                f"{plain(row[col])!r}; correct "
                "the id or the value, or empty the candidate_id cell to find the candidate "
                "by its feature values"
            )
    if not given.all():
        rest = ~given
        out[rest] = _match_features(results[rest], candidates, feature_columns, source,
                                    lines[rest], has_id, new_rows)
    return out


def _match_features(results: pd.DataFrame, candidates: pd.DataFrame,
                    feature_columns: list[str], source: str, lines: np.ndarray,
                    has_id: bool, new_rows: bool = False) -> np.ndarray:
    n = len(candidates)
    missing = [c for c in feature_columns if c not in results.columns]
    if missing:
        if has_id:
            raise InputError(
                f"{source}: line {int(lines[0])} has no candidate_id, and the feature "
                f"column(s) {missing} needed to find its candidate are missing; fill in the "
                "candidate_id (as in the suggestions file)"
            )
        raise InputError(
            f"{source}: has no candidate_id column and lacks the feature column(s) {missing} "
            "needed to find the candidates; add candidate_id (as in the suggestions file) or "
            "those columns"
        )
    cand_keys = pd.DataFrame({c: comparable(candidates[c]) for c in feature_columns})
    cand_keys["_index"] = np.arange(n)
    res_keys = pd.DataFrame({c: comparable(results[c]).to_numpy() for c in feature_columns})
    res_keys["_row"] = np.arange(len(results))
    merged = res_keys.merge(cand_keys, on=feature_columns, how="left")
    counts = merged.groupby("_row")["_index"].count()
    none = counts[counts == 0]
    if len(none) and not new_rows:
        row = int(none.index[0])
        values = ", ".join(f"{c}={plain(results[c].iloc[row])!r}" for c in feature_columns[:4])
        raise InputError(
            f"{source}: line {int(lines[row])} ({values}) matches no candidate; check for "
            "typos or add a candidate_id column"
        )
    many = counts[counts > 1]
    if len(many):
        row = int(many.index[0])
        ids = merged.loc[merged["_row"] == row, "_index"].astype(int).tolist()
        raise InputError(
            f"{source}: line {int(lines[row])} matches {len(ids)} identical candidates "
            f"{ids[:5]}; add a candidate_id column to say which"
        )
    merged = merged.sort_values("_row")
    return merged["_index"].fillna(-1).astype(np.int64).to_numpy()
