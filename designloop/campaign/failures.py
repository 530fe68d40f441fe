"""Reading results tables: the values they record (`target_values`) and the experiments
that failed.

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

from designloop.campaign.matching import filled, plain
from designloop.campaign.observation_log import FAILED
from designloop.errors import InputError
from designloop.io import MAX_MAGNITUDE, out_of_range

TRUE_WORDS = {"true", "yes"}  # besides the number 1
FALSE_WORDS = {"false", "no"}  # besides the number 0


def _words(series: pd.Series) -> pd.Series:
    return series.astype(str).str.strip().str.lower()


def outcomes(results: pd.DataFrame, targets: list[str], task: str, source: str,
             feasible: str | None = None, candidates: pd.DataFrame | None = None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which rows of `results` record an experiment, which of those failed, and which
    target cells hold a value.

    Args:
        results: the results table (its target columns are known to exist).
        targets: the target columns (one, or those of a campaign of several targets).
        task: "regression" or "classification" (only a regression target reads `failed`).
        source: file name for messages.
        feasible: the 0/1 column that marks failures, if any.
        candidates: the candidate table, whose columns may hold the word `failed` as a
            value of their own.

    Returns:
        `(len(results),)` booleans: the row records an experiment (a value or a failure);
        `(n_recorded,)` booleans: that experiment failed; `(n_recorded, len(targets))`
        booleans: the cell holds a value.
    """
    lines = np.arange(len(results)) + 2  # the line in the file, after the header
    _refuse_word_elsewhere(results, targets, feasible, candidates, source, lines, task)
    given = np.column_stack([filled(results[t]) for t in targets])
    said = (np.column_stack([(_words(results[t]) == FAILED).to_numpy() for t in targets])
            if task == "regression" else np.zeros_like(given))
    flag = _feasible_flags(results, feasible, source, lines)  # 1, 0 or -1 (empty)
    numbers = given & ~said
    failed = said.any(1) | (flag == 0)
    for j, target in enumerate(targets):
        clash = failed & numbers[:, j]
        if clash.any():
            if (flag[clash] == 0).any():
                raise _clash(source, lines[clash], feasible, f"'{target}' holds a value", task)
            raise InputError(
                f"{source}: line(s) {[int(v) for v in lines[clash][:5]]}: a failed experiment "
                f"gives no value, but '{target}' holds one; leave it empty")
    clash = (flag == 1) & said.any(1)
    if clash.any():
        raise _clash(source, lines[clash], feasible, f"a target reads {FAILED}", task, ok=True)
    recorded = numbers.any(1) | failed
    return recorded, failed[recorded], numbers[recorded]


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
    given = filled(column)
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


def _refuse_word_elsewhere(results: pd.DataFrame, targets: list[str], feasible: str | None,
                           candidates: pd.DataFrame | None, source: str,
                           lines: np.ndarray, task: str) -> None:
    """The word `failed` belongs in the target column; in a feature column (unless the
    candidates hold it as a value) or a spare column it is a mistake."""
    for column in results.columns:
        if column in (*targets, feasible) or results[column].dtype.kind in "biufc":
            continue
        hits = (_words(results[column]) == FAILED).to_numpy()
        if not hits.any():
            continue
        if (candidates is not None and column in candidates.columns
                and (_words(candidates[column]) == FAILED).any()):
            continue  # a candidate's own value, not an outcome
        how = (f"write {FAILED} in the target column '{targets[0]}'" if task == "regression"
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
    mask, failed, _ = outcomes(results, [target], task, source, feasible, candidates)
    lines = np.flatnonzero(mask) + 2  # the line in the file, after the header
    values = np.full(int(mask.sum()), FAILED, dtype=object)
    if (~failed).any():
        values[~failed] = target_values(results[target][mask][~failed], task, source, target,
                                        lines[~failed])
    return mask, values.tolist(), failed.tolist()


def recorded_targets(results: pd.DataFrame, targets: list[str], source: str,
                     feasible: str | None = None, candidates: pd.DataFrame | None = None,
                     labels: list[str] = ()) -> tuple[np.ndarray, list[int], list, list[bool],
                                                      list]:
    """As `recorded_values` for a campaign of several targets (numbers; class labels in the
    `labels` columns), whose rows may report some targets and leave others empty: the rows
    that record something, and per value to store its row (position among those rows),
    value, whether it is a failure (one per failed experiment) and its target (None for a
    failure)."""
    present = [t for t in targets if t in results.columns]
    mask, failed, numbers = outcomes(results, present, "regression", source, feasible,
                                     candidates)
    lines = np.flatnonzero(mask) + 2
    rows, values, flags, names = [], [], [], []
    columns = {t: target_values(results[t][mask][numbers[:, j]],
                                "classification" if t in labels else "regression", source, t,
                                lines[numbers[:, j]]) for j, t in enumerate(present)}
    taken = dict.fromkeys(present, 0)
    for i in range(int(mask.sum())):
        if failed[i]:
            rows.append(i), values.append(FAILED), flags.append(True), names.append(None)
            continue
        for j, t in enumerate(present):
            if numbers[i, j]:
                rows.append(i), values.append(columns[t][taken[t]]), flags.append(False)
                names.append(t)
                taken[t] += 1
    return mask, rows, values, flags, names


def target_values(series: pd.Series, task: str, source: str, target: str,
                  lines=None) -> list:
    """Measured values as stored: floats for regression, label text for classification.

    `lines` gives the line of each value in its file, for error messages (default: the
    index + 2). Regression values must be finite numbers no larger than 1e150 in size.
    """
    if task == "regression":
        truth = series.map(lambda v: isinstance(v, bool | np.bool_))  # TRUE/FALSE: labels
        numbers = pd.to_numeric(series.astype(object).mask(truth), errors="coerce")
        if lines is None:
            integer = pd.api.types.is_integer_dtype(series.index)
            lines = (np.asarray(series.index) if integer else np.arange(len(series))) + 2
        lines = np.asarray(lines)
        bad = numbers.isna().to_numpy()
        if bad.any():
            pos = np.flatnonzero(bad)[:5]
            shown = [plain(series.iloc[p]) for p in pos]
            raise InputError(
                f"{source}: column '{target}' must hold numbers for a regression target; "
                f"line(s) {[int(lines[p]) for p in pos]} hold {shown}. Fix them, or use --task "
                "classification for categories"
            )
        huge = out_of_range(numbers.to_numpy(dtype=float))
        if huge.any():
            pos = np.flatnonzero(huge)[:5]
            raise InputError(
                f"{source}: column '{target}', line(s) {[int(lines[p]) for p in pos]} hold "
                f"{', '.join(str(series.iloc[p]) for p in pos)}: results must be finite and at "
                f"most {MAX_MAGNITUDE:.0e} in size; fix them, or record the target in other "
                "units (or its logarithm)"
            )
        return [float(v) for v in numbers]
    return [label_text(v) for v in series]


def label_text(value) -> str:
    """Class label as text: 1, 1.0 and '1' are the same class."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()
