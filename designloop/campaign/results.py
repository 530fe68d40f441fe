"""Recording and reading results: refusing rows that repeat a measurement, finding the
measurements a `forget` retracts, splitting failures from values, and checking how many
suggestions can be made."""

from __future__ import annotations

import numpy as np
import pandas as pd

from designloop.campaign.matching import ID
from designloop.campaign.matching import candidate_ids as candidate_ids_checked
from designloop.errors import InputError


def refuse_repeats(recorded: pd.DataFrame, ids, values, lines, source: str, task: str) -> None:
    """InputError naming the rows of `source` (candidate `ids`, `values`, file `lines`) that
    repeat a `recorded` observation, or an earlier row, exactly (regression values equal to
    12 significant digits; two failures of one candidate are repeats too)."""
    def same(a, b) -> bool:
        if task == "classification" or isinstance(a, str) or isinstance(b, str):
            return str(a) == str(b)  # labels, or a failed experiment (FAILED)
        return abs(float(a) - float(b)) <= 1e-12 * max(abs(float(a)), abs(float(b)))

    seen: dict[int, list[tuple[object, str]]] = {}
    for row in recorded.itertuples(index=False):
        seen.setdefault(int(row.candidate_id), []).append(
            (row.value, f"recorded from {row.source} at {row.created_at}"))
    repeats = []
    for cid, value, line in zip(ids.tolist(), values, lines.tolist(), strict=True):
        earlier = next((where for v, where in seen.get(cid, []) if same(v, value)), None)
        if earlier is not None:
            repeats.append((line, cid, value, earlier))
        seen.setdefault(cid, []).append((value, f"on line {line}"))
    if repeats:
        line, cid, value, where = repeats[0]
        shown = ", ".join(str(r[0]) for r in repeats[:10])
        more = f" and {len(repeats) - 10} more" if len(repeats) > 10 else ""
        raise InputError(
            f"{source}: line(s) {shown}{more} repeat measurements exactly (line {line}: "
            f"candidate {cid} = {value!r}, already {where}); nothing was recorded. Was "
            "this file observed before, or a row copied twice? If these are true "
            "replicates that came out identical, observe with --replicates "
            "(allow_replicates=True in Python)"
        )


def retraction_ids(store, n_candidates: int, candidate_ids, observation_ids) -> list[int]:
    """The observation ids that `Campaign.forget` retracts: every measurement in force of
    `candidate_ids`, or the single measurements `observation_ids` (exactly one of the two
    given).

    Raises:
        InputError: neither or both given, an id that is not a candidate or observation, or
            one with nothing in force to retract.
    """
    if (candidate_ids is None) == (observation_ids is None):
        raise InputError("forget needs candidate ids or observation ids (one of the two)")
    wanted = list(candidate_ids if candidate_ids is not None else observation_ids)
    if not wanted:
        raise InputError("forget needs at least one id")
    active = store.observations(failed=True)  # a failure recorded by mistake too
    if candidate_ids is not None:
        ids = candidate_ids_checked(wanted, n_candidates, "forget")
        unmeasured = [int(c) for c in ids if c not in set(active[ID].astype(int))]
        if unmeasured:
            raise InputError(
                f"forget: candidate(s) {unmeasured} have no measurement to retract; "
                f"the measured candidates are {brief(sorted(set(active[ID].astype(int))))}")
        chosen = active.loc[active[ID].isin(ids), "id"].astype(int).tolist()
    else:
        every = store.observations(retracted=True, failed=True)
        known = dict(zip(every["id"].astype(int), every["retracted_at"], strict=True))
        chosen = []
        for i in wanted:
            number = pd.to_numeric(pd.Series([i]), errors="coerce").iloc[0]
            if pd.isna(number) or number != round(number) or int(number) not in known:
                raise InputError(
                    f"forget: {i!r} is not an observation id; the ids in force are "
                    f"{brief(active['id'].astype(int).tolist())} (the id column of "
                    "observations)")
            if not pd.isna(known[int(number)]):
                raise InputError(f"forget: observation {int(number)} was already retracted "
                                 f"at {known[int(number)]}")
            chosen.append(int(number))
        chosen = sorted(set(chosen))
    return chosen


def brief(ids: list[int], limit: int = 20) -> str:
    """A list of ids for a message, cut after `limit`."""
    more = f" ... ({len(ids)} in all)" if len(ids) > limit else ""
    return (str(ids[:limit]) + more) if ids else "none"


def split_observations(store) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Every experiment in force (with the column `failed`), those that gave a value (for
    the model), and the candidate of each failed one."""
    every = store.observations(failed=True)
    obs = every[~every["failed"]].drop(columns="failed")
    return every, obs, every.loc[every["failed"], ID].to_numpy(dtype=np.int64)


def check_count(k, n_candidates: int, n_excluded: int, expression: str | None) -> None:
    """InputError unless `k` suggestions can be made with `n_excluded` of the candidates
    measured, pending or ruled out by the filter `expression`."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise InputError(f"the number of suggestions must be a whole number >= 1, got {k!r}")
    left = n_candidates - n_excluded
    if k > left:
        allowed = f" and allowed by the filter {expression!r}" if expression else ""
        raise InputError(
            f"asked for {k} suggestions but only {left} candidates are left unmeasured, "
            f"not pending{allowed} ({n_candidates} in all); ask for at most {left}, or "
            "release pending ones")
