"""Matching result rows to candidates: by `candidate_id`, or by the values of the feature
columns. Every failure names the row and says how to fix it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from designloop.errors import InputError
from designloop.io import unneutralise

ID = "candidate_id"


def _key(series: pd.Series) -> pd.Series:
    """Comparable text for a column: numbers rounded to 9 significant digits, text stripped
    and without the quote that keeps it from running as a spreadsheet formula."""
    numeric = pd.to_numeric(series, errors="coerce")
    if numeric.notna().all():
        return numeric.map(lambda v: f"{float(v):.9g}")
    return series.astype(str).str.strip().map(unneutralise)


def match_rows(results: pd.DataFrame, candidates: pd.DataFrame, feature_columns: list[str],
               source: str) -> np.ndarray:
    """Candidate index for every row of `results`.

    Args:
        results: the rows to match (with a `candidate_id` column, or all feature columns).
        candidates: the campaign's candidate table (row i = candidate i).
        feature_columns: the columns that identify a candidate.
        source: file or object name for error messages.

    Raises:
        InputError: a row matches no candidate, or several identical candidates.
    """
    n = len(candidates)
    if ID in results.columns and results[ID].notna().all():
        ids = pd.to_numeric(results[ID], errors="coerce")
        bad = ids.isna() | (ids != ids.round()) | (ids < 0) | (ids >= n)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                f"{source}: line {row + 2}: candidate_id {results[ID].iloc[row]} is not a "
                f"candidate (ids run from 0 to {n - 1}); copy the id from the suggestions"
            )
        return ids.astype(np.int64).to_numpy()
    missing = [c for c in feature_columns if c not in results.columns]
    if missing:
        raise InputError(
            f"{source}: has no candidate_id column and lacks the feature column(s) {missing} "
            "needed to find the candidates; add candidate_id (as in the suggestions file) or "
            "those columns"
        )
    cand_keys = pd.DataFrame({c: _key(candidates[c]) for c in feature_columns})
    cand_keys["_index"] = np.arange(n)
    res_keys = pd.DataFrame({c: _key(results[c]) for c in feature_columns})
    res_keys["_row"] = np.arange(len(results))
    merged = res_keys.merge(cand_keys, on=feature_columns, how="left")
    counts = merged.groupby("_row")["_index"].count()
    none = counts[counts == 0]
    if len(none):
        row = int(none.index[0])
        values = ", ".join(f"{c}={results[c].iloc[row]!r}" for c in feature_columns[:4])
        raise InputError(
            f"{source}: line {row + 2} ({values}) matches no candidate; check for typos or "
            "add a candidate_id column"
        )
    many = counts[counts > 1]
    if len(many):
        row = int(many.index[0])
        ids = merged.loc[merged["_row"] == row, "_index"].astype(int).tolist()
        raise InputError(
            f"{source}: line {row + 2} matches {len(ids)} identical candidates {ids[:5]}; add "
            "a candidate_id column to say which"
        )
    return merged.sort_values("_row")["_index"].astype(np.int64).to_numpy()
