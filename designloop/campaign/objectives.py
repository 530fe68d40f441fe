"""Several targets in one campaign: how they are given, how a results table records them,
how they are combined into the one objective the model step optimises, and the Pareto
front of what was measured.

Two objectives (`objective=`):

- "desirability": each target is mapped to [0, 1] between its bounds (rising for a target to
  maximise, falling for one to minimise; clipped outside) and the mapped values are combined
  as a weighted geometric mean, `D = prod d_i^(w_i / sum w)` (Derringer & Suich, J. Qual.
  Technol. 1980; BayBE's desirability objective). A candidate at a target's worst bound
  scores 0 whatever the others. Use it when you can say what range of each target matters
  and how much: it optimises one compromise.
- "pareto": the trade-off itself. Each target gets its own GP, and candidates are picked by
  their expected improvement of the hypervolume that the measured front dominates, exact on
  the pool (`designloop.campaign.pareto`). `Campaign.pareto_front()` lists the
  non-dominated measured candidates and `status()` the hypervolume they dominate.

Without bounds, desirability scales a target by the range measured so far, and a
candidate enters its model once every target has a value for it (replicates are
averaged); a Pareto campaign fits each target's GP to all of that target's values. A
partial result is recorded either way.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from designloop.campaign.matching import filled
from designloop.errors import InputError
from designloop.names import canonical, spelled

OBJECTIVES = ("pareto", "desirability")
_CONSTRAINT = re.compile(r"^\s*(`[^`]+`|[^<>=\s]+)\s*(>=|<=|>|<|==)\s*(.+?)\s*$")
REF_MARGIN = 0.1  # the reference point lies this share of each target's range below its worst


def target_specs(targets, objective, columns, constraints=None) -> tuple[dict, str]:
    """The checked targets `{name: {"goal", "lower", "upper", "weight"}}` (outcome
    constraints: goal "constraint" with `at_least` and `at_most`, either None) and the
    objective ("" with one target to optimise).

    Args:
        targets: `{name: "max" | "min" | {"goal": ..., "lower": ..., "upper": ...,
            "weight": ...}}` (at least two, or one with constraints).
        objective: "pareto" (default) or "desirability", for several targets to optimise.
        columns: the candidate table's columns (a target may be among them, holding results
            already measured).
        constraints: outcome constraints such as "purity >= 0.95" (see
            `parse_constraint`).
    """
    constraints = _constraint_list(constraints)
    if not isinstance(targets, dict) or len(targets) < (1 if constraints else 2):
        raise InputError("targets= takes a dict of at least two targets, e.g. {'yield': "
                         "'max', 'cost': 'min'}; for one target use target=")
    several = len(targets) > 1
    if not several and objective is not None:
        raise InputError("objective= combines several targets to optimise; with one target "
                         "and constraints leave it out")
    objective = canonical(objective or "pareto", OBJECTIVES, "objective") if several else ""
    specs = {}
    for name, given in targets.items():
        if not isinstance(name, str) or not name.strip():
            raise InputError(f"target names are column names, got {name!r}")
        spec = dict(given) if isinstance(given, dict) else {"goal": given}
        unknown = sorted(set(spec) - {"goal", "lower", "upper", "weight"})
        if unknown:
            raise InputError(f"target {name!r}: unknown setting(s) {unknown}; give goal, "
                             "lower, upper and weight")
        goal = spelled(spec.get("goal"), "goal")
        if goal not in ("maximize", "minimize"):
            raise InputError(f"target {name!r}: the direction must be max or min (maximize, "
                             f"minimize), got {spec.get('goal')!r}")
        lower, upper = (_number(spec.get(k), name, k) for k in ("lower", "upper"))
        if (lower is None) != (upper is None) or (lower is not None and not lower < upper):
            raise InputError(f"target {name!r}: give both bounds, lower < upper, or neither "
                             f"(got lower={lower}, upper={upper})")
        weight = _number(spec.get("weight", 1.0), name, "weight")
        if weight is None or not weight > 0:
            raise InputError(f"target {name!r}: weight must be a number > 0, got {weight}")
        specs[name] = {"goal": goal, "lower": lower, "upper": upper, "weight": weight}
    for text in constraints:
        name, spec = parse_constraint(text)
        if name in specs and specs[name]["goal"] != "constraint":
            raise InputError(f"constraint {text!r}: {name!r} is a target to optimise; a "
                             "column is either optimised or constrained")
        if name in specs and "label" in {*spec, *specs[name]}:
            raise InputError(f"constraint {text!r}: {name!r} is constrained already")
        if name in specs:  # a range: "pH >= 6" and "pH <= 8"
            old = specs[name]
            for key in ("at_least", "at_most"):
                if spec[key] is not None and old[key] is not None:
                    raise InputError(f"constraint {text!r}: {name!r} already has a "
                                     f"{'lower' if key == 'at_least' else 'upper'} limit")
                old[key] = spec[key] if spec[key] is not None else old[key]
            if old["at_least"] is not None and old["at_most"] is not None \
                    and not old["at_least"] < old["at_most"]:
                raise InputError(f"constraints on {name!r}: the lower limit must be below "
                                 "the upper one")
            continue
        specs[name] = spec
    return specs, objective


def _constraint_list(constraints) -> list[str]:
    if constraints is None:
        return []
    if isinstance(constraints, str):
        constraints = [constraints]
    if not isinstance(constraints, list | tuple) or not all(isinstance(c, str)
                                                            for c in constraints):
        raise InputError(f"constraints= takes a list of texts such as ['purity >= 0.95'], "
                         f"got {constraints!r}")
    return list(constraints)


def limits_text(name: str, spec: dict) -> str:
    """A constraint as text: "purity >= 0.95", "6 <= pH <= 8", "glass == 'yes'"."""
    if spec.get("label") is not None:
        return f"{name} == {spec['label']!r}"
    low, high = spec["at_least"], spec["at_most"]
    if low is not None and high is not None:
        return f"{low:g} <= {name} <= {high:g}"
    return f"{name} >= {low:g}" if low is not None else f"{name} <= {high:g}"


def parse_constraint(text: str) -> tuple[str, dict]:
    """An outcome constraint `COLUMN >= NUMBER` or `COLUMN <= NUMBER` (`>`, `<` the same;
    a column name with spaces in backticks), which the measured result must clear, or
    `COLUMN == 'LABEL'`, a class (does it form a glass?) the result must be."""
    match = _CONSTRAINT.match(str(text))
    if not match:
        raise InputError(f"constraint {text!r}: write it as COLUMN >= NUMBER, COLUMN <= "
                         "NUMBER or COLUMN == 'CLASS', e.g. \"purity >= 0.95\"")
    name, op, number = match.group(1).strip("`").strip(), match.group(2), match.group(3)
    if op == "==":
        label = number.strip().strip("'\"").strip()
        try:  # written as results are stored: 1.0 and 1 are the class "1"
            value = float(label)
            label = str(int(value)) if value.is_integer() else label
        except ValueError:
            pass
        if not label or not name or name == "candidate_id":
            raise InputError(f"constraint {text!r}: give a column and a class, as in "
                             "\"glass == 'yes'\"")
        return name, {"goal": "constraint", "label": label, "at_least": None,
                      "at_most": None, "lower": None, "upper": None, "weight": 1.0}
    try:
        threshold = float(number)
    except ValueError:
        raise InputError(f"constraint {text!r}: {number!r} is not a number") from None
    if not math.isfinite(threshold) or not name:
        raise InputError(f"constraint {text!r}: give a column and a finite number")
    if name == "candidate_id":
        raise InputError(f"constraint {text!r}: candidate_id is designloop's id, not a "
                         "measured column")
    above = op.startswith(">")
    return name, {"goal": "constraint", "at_least": threshold if above else None,
                  "at_most": None if above else threshold, "lower": None, "upper": None,
                  "weight": 1.0}


def optimised(specs: dict) -> dict:
    """The targets to optimise (not the outcome constraints)."""
    return {n: s for n, s in specs.items() if s["goal"] != "constraint"}


def constrained(specs: dict) -> dict:
    """The outcome constraints."""
    return {n: s for n, s in specs.items() if s["goal"] == "constraint"}


def meets(specs: dict, means: pd.DataFrame) -> np.ndarray:
    """`(len(means),)` whether each candidate's measured means (columns: targets) meet
    every outcome constraint (a constraint not measured yet is not met)."""
    ok = np.ones(len(means), dtype=bool)
    for name, spec in constrained(specs).items():
        values = means[name].to_numpy(dtype=float) if name in means else np.full(len(means),
                                                                                np.nan)
        ok &= ~np.isnan(values)
        if spec.get("label") is not None:  # the share of results of the class asked for
            with np.errstate(invalid="ignore"):
                ok &= values >= 0.5
            continue
        with np.errstate(invalid="ignore"):
            if spec["at_least"] is not None:
                ok &= values >= spec["at_least"]
            if spec["at_most"] is not None:
                ok &= values <= spec["at_most"]
    return ok


def label_columns(specs: dict) -> list[str]:
    """The constrained columns that hold class labels ("glass == 'yes'")."""
    return [n for n, s in specs.items() if s.get("label") is not None]


def as_numbers(obs: pd.DataFrame, specs: dict) -> pd.DataFrame:
    """The observations with every value a number: a class label of a constrained column
    becomes 1 when it is the class asked for (in any case), else 0."""
    labels = {n: specs[n]["label"] for n in label_columns(specs)}
    if not labels or obs.empty:
        return obs.assign(value=obs["value"].astype(float))
    wanted = obs["target"].map({n: str(v).lower() for n, v in labels.items()})
    hit = (obs["value"].astype(str).str.strip().str.lower() == wanted).astype(float)
    return obs.assign(value=hit.where(wanted.notna(), obs["value"]).astype(float))


def feasible_means(specs: dict, obs: pd.DataFrame) -> pd.DataFrame:
    """Per measured candidate with a value for every target to optimise and meeting every
    outcome constraint: the mean of each target (constraints included)."""
    goals = list(optimised(specs))
    means = means_by_target(obs, specs).dropna(subset=goals)
    return means[meets(specs, means)] if constrained(specs) else means[goals]


def _number(value, name: str, key: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"target {name!r}: {key} must be a finite number, got {value!r}")
    return float(value)


def parse_target_option(text: str) -> tuple[str, dict]:
    """One `--target` option of several: `name:max`, `name:min:LOWER:UPPER` or
    `name:max:LOWER:UPPER:WEIGHT`."""
    parts = [p.strip() for p in str(text).rsplit(":", 4)] if ":" in str(text) else [text]
    name, rest = parts[0], parts[1:]
    if not name or len(rest) not in (1, 3, 4):
        raise InputError(f"--target {text!r}: with several targets give each as NAME:max or "
                         "NAME:min, optionally followed by :LOWER:UPPER[:WEIGHT]")
    spec: dict = {"goal": rest[0]}
    try:
        numbers = [float(v) for v in rest[1:]]
    except ValueError:
        raise InputError(f"--target {text!r}: bounds and weight must be numbers") from None
    for key, value in zip(("lower", "upper", "weight"), numbers, strict=False):
        spec[key] = value
    return name, spec


def oriented(specs: dict, means: pd.DataFrame) -> np.ndarray:
    """`(n, m)` the targets' values turned so that larger is better everywhere."""
    signs = np.array([1.0 if s["goal"] == "maximize" else -1.0 for s in specs.values()])
    return means[list(specs)].to_numpy(dtype=float) * signs


def target_means(obs: pd.DataFrame, specs: dict) -> pd.DataFrame:
    """Per candidate with a value for every target, the mean of each (columns = targets)."""
    return means_by_target(obs, specs).dropna()


def means_by_target(obs: pd.DataFrame, specs: dict) -> pd.DataFrame:
    """Per measured candidate, the mean of each of the `specs`' targets (columns; empty
    where not measured; a class constraint as the share of its results of that class)."""
    obs = obs[obs["target"].isin(list(specs))] if "target" in obs else obs
    if obs.empty:
        return pd.DataFrame(columns=list(specs), dtype=float)
    table = as_numbers(obs, specs).pivot_table(index="candidate_id", columns="target",
                                               values="value", aggfunc="mean")
    return table.reindex(columns=list(specs))


def for_model(config, obs: pd.DataFrame) -> tuple[pd.DataFrame, dict | None]:
    """What the model step is given: the measurements (one target), the measurements with
    their target (Pareto: a model per target, once a candidate has a value for every
    target), or the desirability of each complete candidate; and what the cycle log says
    about it. Until a candidate is complete, nothing (the initial design goes on)."""
    if not config.targets:
        return obs, None
    goals = optimised(config.targets)
    if len(goals) == 1:  # one target to optimise, outcome constraints beside it
        return obs[obs["target"] == next(iter(goals))].drop(columns="target"), None
    if config.objective == "pareto":  # a GP per target, once a candidate has every value
        return (obs if len(target_means(obs, goals)) else obs.iloc[:0]), None
    return scalarised(goals, obs)


def scalarised(specs: dict, obs: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The desirability of each complete candidate, as observations `(candidate_id,
    value)` to maximise, and what the cycle log says about it."""
    means = target_means(obs, specs)
    Y = oriented(specs, means)
    lows, highs = _bounds(specs, Y)
    scaled = np.clip((Y - lows) / (highs - lows), 0.0, 1.0)
    info: dict = {"objective": "desirability", "complete": len(means),
                  "bounds": {n: [float(a), float(b)] for n, a, b in
                             zip(specs, *_unoriented(specs, lows, highs), strict=True)}}
    w = np.array([s["weight"] for s in specs.values()])
    with np.errstate(divide="ignore"):
        value = np.exp((np.log(scaled) * w).sum(1) / w.sum())
    frame = pd.DataFrame({"candidate_id": means.index.to_numpy(dtype=np.int64),
                          "value": value.astype(float)})
    return frame, info


def _bounds(specs: dict, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per target (oriented: larger is better) the values mapped to 0 and 1: the bounds
    given, else the range measured."""
    lows, highs = [], []
    for j, spec in enumerate(specs.values()):
        if spec["lower"] is not None:
            lo, hi = ((spec["lower"], spec["upper"]) if spec["goal"] == "maximize"
                      else (-spec["upper"], -spec["lower"]))
        else:  # the measured range, widened below so that the worst measured is not 0
            column = Y[:, j] if len(Y) else np.zeros(1)
            lo, hi = float(column.min()), float(column.max())
            lo -= _margin(column)
        lows.append(lo)
        highs.append(hi)
    return np.array(lows), np.array(highs)


def _margin(column: np.ndarray) -> float:
    """REF_MARGIN of a target's measured range; of its size when all its values are equal
    (1 when they are all 0), so that the margin is in the target's own units."""
    span = float(column.max() - column.min())
    return REF_MARGIN * (span or float(np.abs(column).max()) or 1.0)


def _unoriented(specs: dict, lows, highs):
    """Bounds in the targets' own units (lower, upper)."""
    signs = np.array([1.0 if s["goal"] == "maximize" else -1.0 for s in specs.values()])
    a, b = lows * signs, highs * signs
    return np.minimum(a, b), np.maximum(a, b)


def pareto_mask(Y: np.ndarray) -> np.ndarray:
    """`(n,)` whether each row of `Y` (larger is better in every column) is non-dominated."""
    n = len(Y)
    keep = np.ones(n, dtype=bool)
    for i in range(n):
        dominated = (Y >= Y[i]).all(1) & (Y > Y[i]).any(1)
        keep[i] = not dominated.any()
    return keep


def hypervolume(specs: dict, obs: pd.DataFrame) -> float | None:
    """The volume (in the targets' own units) that the measured candidates meeting every
    constraint dominate above the reference point (`reference_point`, from every complete
    candidate). None with fewer than two complete candidates."""
    goals = optimised(specs)
    Y = oriented(goals, target_means(obs, goals))
    if len(Y) < 2:
        return None
    return hypervolume_of(oriented(goals, feasible_means(specs, obs)),
                          reference_point(goals, Y))


def hypervolume_of(Y: np.ndarray, ref: np.ndarray) -> float:
    """The volume that the rows of `Y` (larger is better in every column) dominate above
    the reference point `ref` (BoTorch's exact hypervolume of their Pareto front)."""
    import torch
    from botorch.utils.multi_objective.hypervolume import Hypervolume

    Y = np.asarray(Y, dtype=float)
    if len(Y) == 0:
        return 0.0
    front = torch.as_tensor(Y[pareto_mask(Y)], dtype=torch.float64)
    return float(Hypervolume(torch.as_tensor(ref, dtype=torch.float64)).compute(front))


def reference_point(specs: dict, Y: np.ndarray) -> np.ndarray:
    """Per target (larger is better): its lower bound (upper, to minimise) when given, else
    its worst measured value less REF_MARGIN of the measured range (`Y`: at least one
    complete candidate)."""
    ref = []
    for j, spec in enumerate(specs.values()):
        if spec["lower"] is not None:
            ref.append(spec["lower"] if spec["goal"] == "maximize" else -spec["upper"])
        else:
            ref.append(float(Y[:, j].min()) - _margin(Y[:, j]))
    return np.asarray(ref)


def measured_ids(config, every: pd.DataFrame) -> list[int]:
    """The candidates not to suggest again: those with a result (with several targets or
    constraints, a value of a target to optimise) or a failure. A candidate with only a
    constraint's value (from an earlier screen, say) may still be suggested."""
    if config.targets:
        goals = list(optimised(config.targets))
        every = every[every["failed"] | every["target"].isin(goals)]
    return sorted(set(every["candidate_id"].astype(int)))


def check_constraint_columns(specs: dict, candidates: pd.DataFrame, source: str) -> None:
    """A constrained column is a measured result; one filled in on every candidate is an
    input, which a filter (where=) limits instead."""
    for name, spec in specs.items():
        if spec["goal"] != "constraint" or name not in candidates.columns:
            continue
        if filled(candidates[name]).all():
            raise InputError(
                f"{source}: the constrained column '{name}' is filled in on every candidate, "
                f"so it is an input, not a result; to rule candidates out by it use a filter "
                f"(where=\"...\", designloop where)")
