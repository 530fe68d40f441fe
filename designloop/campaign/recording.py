"""From a results table to measurements in the log: which rows record an experiment, the
candidate of each, its value or values (one per target of a campaign of several) or its
failure, all checked before anything is written."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from designloop.campaign.failures import recorded_targets, recorded_values
from designloop.campaign.matching import match_rows
from designloop.campaign.objectives import label_columns
from designloop.campaign.results import refuse_repeats
from designloop.errors import InputError
from designloop.io import unneutralise


@dataclass
class Recorded:
    """The measurements a results table holds, one entry per value (or failure)."""

    ids: np.ndarray  # candidate of each
    values: list  # as stored (FAILED for a failure)
    failed: list[bool]
    targets: list | None  # several targets: the target of each value (None: a failure)
    lines: np.ndarray  # the line in the file of each


def read_results(cfg, results: pd.DataFrame, candidates: pd.DataFrame, source: str,
                 feasible: str | None = None, ids: np.ndarray | None = None) -> Recorded:
    """The measurements in `results`, matched to `candidates` (by `candidate_id` or the
    feature columns) unless `ids` gives each row's candidate (the candidate table itself).

    Raises:
        InputError: a missing target column, a cell that is neither a value nor a failure,
            a row that matches no candidate: one line naming the file, column and lines.
    """
    if not isinstance(results, pd.DataFrame):
        raise InputError("observe() takes a DataFrame of results")
    results = results.rename(columns=unneutralise)  # headers of a file written by export
    names = list(cfg.targets) or [cfg.target]
    if not any(t in results.columns for t in names):
        if feasible is None or feasible not in results.columns:
            what = (f"'{cfg.target}' (the target)" if not cfg.targets
                    else f"any of the targets {names}")
            raise InputError(f"{source}: has no column {what}; its columns are "
                             f"{list(results.columns)}")
        results = results.assign(**{names[0]: None})  # failures only: no values
    if cfg.targets:
        mask, rows, values, failed, targets = recorded_targets(
            results, names, source, feasible, candidates, label_columns(cfg.targets))
    else:
        mask, values, failed = recorded_values(results, cfg.target, cfg.task, source,
                                               feasible, candidates)
        rows, targets = list(range(len(values))), None
    lines = np.flatnonzero(mask) + 2  # the line in the file, after the header
    if ids is None:
        matched = (match_rows(results[mask], candidates, cfg.feature_columns, source, lines)
                   if mask.any() else np.zeros(0, dtype=np.int64))
    else:
        matched = np.asarray(ids)[mask]
    rows = np.asarray(rows, dtype=np.int64)
    return Recorded(matched[rows], values, failed, targets, lines[rows])


def record(store, cfg, recorded: Recorded, source: str, allow_replicates: bool) -> int:
    """Write the measurements (after refusing exact repeats unless `allow_replicates`);
    returns how many experiments (results rows) were recorded."""
    if not recorded.values:
        return 0
    if not allow_replicates:
        every = store.observations(failed=True)
        if recorded.targets is None:
            refuse_repeats(every, recorded.ids, recorded.values, recorded.lines, source,
                           cfg.task)
        else:  # per target, and the failures (which have none) among themselves
            names = np.array([t if t is not None else "" for t in recorded.targets],
                             dtype=object)
            labels = set(label_columns(cfg.targets))  # a class comes out the same again
            for name in sorted(set(names) - labels):
                mine = names == name
                earlier = (every[every["failed"]] if name == ""
                           else every[every["target"] == name])
                refuse_repeats(earlier, recorded.ids[mine],
                               [v for v, m in zip(recorded.values, mine, strict=True) if m],
                               recorded.lines[mine], source, cfg.task)
    store.add_observations(recorded.ids.tolist(), recorded.values, source, recorded.failed,
                           recorded.targets)
    return len(set(recorded.lines.tolist()))
