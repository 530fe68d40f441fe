"""Reading failed experiments from a results table.

An experiment fails when it gives nothing to measure (no product, a clogged reactor). A
results row records that in one of two ways:

- its target cell reads `failed` (any case; regression targets, whose cells are otherwise
  numbers, so the word is never mistaken for one), or
- a 0/1 column named by `feasible=` holds 0 (1: the experiment worked and its target cell
  holds the value; empty: the target cell alone decides).

Rows that say both "failed" and something else (a value with feasible 0, `failed` with
feasible 1) are refused, as is the word in a column that is not the target.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from designloop.campaign.observation_log import FAILED
from designloop.errors import InputError

TRUE_WORDS = {"true", "yes"}  # besides the number 1
FALSE_WORDS = {"false", "no"}  # besides the number 0


def _words(series: pd.Series) -> pd.Series:
    return series.astype(str).str.strip().str.lower()


def _filled(series: pd.Series) -> np.ndarray:
    return (series.notna() & series.astype(str).str.strip().ne("")).to_numpy()


def outcomes(results: pd.DataFrame, target: str, task: str, source: str,
             feasible: str | None = None, candidates: pd.DataFrame | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
    """Which rows of `results` record an experiment, and which of those failed.

    Args:
        results: the results table (its target column is known to exist).
        target: the target column.
        task: "regression" or "classification" (only a regression target reads `failed`).
        source: file name for messages.
        feasible: the 0/1 column that marks failures, if any.
        candidates: the candidate table, whose columns may hold the word `failed` as a
            value of their own.

    Returns:
        `(len(results),)` booleans: the row records an experiment (a value or a failure),
        and `(n_recorded,)` booleans: that experiment failed.
    """
    lines = np.arange(len(results)) + 2  # the line in the file, after the header
    _refuse_word_elsewhere(results, target, feasible, candidates, source, lines, task)
    value_given = _filled(results[target])
    said_failed = (_words(results[target]) == FAILED).to_numpy() if task == "regression" \
        else np.zeros(len(results), dtype=bool)
    flag = _feasible_flags(results, feasible, source, lines)  # 1, 0 or -1 (empty)
    numbers = value_given & ~said_failed
    clash = (flag == 0) & numbers
    if clash.any():
        raise _clash(source, lines[clash], feasible, f"'{target}' holds a value", task)
    clash = (flag == 1) & said_failed
    if clash.any():
        raise _clash(source, lines[clash], feasible, f"'{target}' reads {FAILED}", task,
                     ok=True)
    failed = said_failed | (flag == 0)
    recorded = numbers | failed
    return recorded, failed[recorded]


def _clash(source: str, lines, feasible: str, what: str, task: str,
           ok: bool = False) -> InputError:
    shown = [int(v) for v in lines[:5]]
    empty = "an empty target cell" + (" or 'failed'" if task == "regression" else "")
    return InputError(
        f"{source}: line(s) {shown}: column '{feasible}' says the experiment "
        f"{'worked (1)' if ok else 'failed (0)'} but {what}; make them agree (a failed "
        f"experiment has {empty})")


def _feasible_flags(results: pd.DataFrame, feasible: str | None, source: str,
                    lines: np.ndarray) -> np.ndarray:
    flags = np.full(len(results), -1, dtype=np.int64)
    if feasible is None:
        return flags
    if feasible not in results.columns:
        raise InputError(f"{source}: has no column '{feasible}' (named to mark failed "
                         f"experiments); its columns are {list(results.columns)}")
    column = results[feasible]
    plain = column.map(lambda v: int(v) if isinstance(v, bool | np.bool_) else v)
    numbers = pd.to_numeric(plain, errors="coerce").to_numpy(dtype=float)
    words = _words(plain)
    given = _filled(column)
    flags[given & ((numbers == 1) | words.isin(TRUE_WORDS).to_numpy())] = 1
    flags[given & ((numbers == 0) | words.isin(FALSE_WORDS).to_numpy())] = 0
    bad = given & (flags == -1)
    if bad.any():
        pos = np.flatnonzero(bad)[:5]
        shown = [v.item() if isinstance(v, np.generic) else v for v in column.iloc[pos]]
        raise InputError(
            f"{source}: column '{feasible}' marks failed experiments with 0 (or false, no) "
            f"and successful ones with 1 (or true, yes); line(s) "
            f"{[int(lines[p]) for p in pos]} hold {shown}")
    return flags


def _refuse_word_elsewhere(results: pd.DataFrame, target: str, feasible: str | None,
                           candidates: pd.DataFrame | None, source: str,
                           lines: np.ndarray, task: str) -> None:
    """The word `failed` belongs in the target column; in a feature column (unless the
    candidates hold it as a value) or a spare column it is a mistake."""
    for column in results.columns:
        if column in (target, feasible) or results[column].dtype.kind in "biufc":
            continue
        hits = (_words(results[column]) == FAILED).to_numpy()
        if not hits.any():
            continue
        if (candidates is not None and column in candidates.columns
                and (_words(candidates[column]) == FAILED).any()):
            continue  # a candidate's own value, not an outcome
        how = (f"write {FAILED} in the target column '{target}'" if task == "regression"
               else "leave its target cell empty and mark it 0 in a column named with "
                    "--feasible (feasible= in Python)")
        raise InputError(
            f"{source}: column '{column}', line(s) {[int(v) for v in lines[hits][:5]]} read "
            f"'{FAILED}', but '{column}' is not the target; to record a failed experiment, "
            f"{how}")


def recorded_values(results: pd.DataFrame, target: str, task: str, source: str,
                    feasible: str | None = None, candidates: pd.DataFrame | None = None
                    ) -> tuple[np.ndarray, list, list[bool]]:
    """The experiments a results table records: `(len(results),)` booleans marking the
    rows that record one, their values as stored (FAILED for a failure) and whether each
    failed. Raises InputError naming the file, column and lines of anything unreadable."""
    from designloop.campaign.config import target_values

    mask, failed = outcomes(results, target, task, source, feasible, candidates)
    lines = np.flatnonzero(mask) + 2  # the line in the file, after the header
    values = np.full(int(mask.sum()), FAILED, dtype=object)
    if (~failed).any():
        values[~failed] = target_values(results[target][mask][~failed], task, source, target,
                                        lines[~failed])
    return mask, values.tolist(), failed.tolist()
