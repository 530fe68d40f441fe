"""Benchmark problems: a candidate table and an oracle that answers instead of a lab.

Test functions over seeded candidate pools (BoTorch's definitions, known optima),
classification data sets, and real lookup tables whose every candidate was measured.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from designloop.bench.datasets import load_dataset
from designloop.errors import InputError
from designloop.features.composition import element_fractions
from designloop.io import read_table
from designloop.names import canonical, spelled


@dataclass
class Problem:
    """Candidates plus the truth for each of them.

    Attributes:
        name: short name.
        candidates: feature columns only, one row per candidate.
        target: name of the measured column.
        task: "regression" or "classification".
        goal: "maximize", "minimize" or "explore".
        values: `(N,)` noise-free value (or class label) of every candidate.
        noise_std: standard deviation of the noise the oracle adds (regression).
        optimum: the known optimum of the function (test functions), else None.
        description: what it is and where it comes from.
        fail_below: experiments on candidates whose value is below this fail: the oracle
            answers "failed" instead of a value (regression; None: none fail).
        targets: several targets, name -> "maximize" | "minimize"; `values` is then
            `(N, m)`, one column per target, and `target` the first name.
    """

    name: str
    candidates: pd.DataFrame
    target: str
    task: str
    goal: str
    values: np.ndarray
    noise_std: float = 0.0
    optimum: float | None = None
    description: str = ""
    fail_below: float | None = None
    targets: dict | None = None

    def __post_init__(self):
        # the spellings Campaign accepts ("maximise", "max", ...), as designloop.names says
        self.goal = canonical(self.goal, ("explore", "maximize", "minimize"), "goal")
        self.task = canonical(self.task, ("regression", "classification"), "task")

    def oracle(self, ids, rng: np.random.Generator) -> list:
        """Measured values of candidates `ids` (with noise, if any); "failed" for those
        whose value is below `fail_below`."""
        ids = np.asarray(ids, dtype=np.int64)
        if self.task == "classification":
            return self.values[ids].tolist()
        if self.targets:  # several: name -> values
            out = self.values[ids].astype(float)
            if self.noise_std > 0:
                out = out + self.noise_std * rng.standard_normal(out.shape)
            return {name: out[:, j].tolist() for j, name in enumerate(self.targets)}
        out = self.values[ids].astype(float)
        if self.noise_std > 0:
            out = out + self.noise_std * rng.standard_normal(len(ids))
        fails = self.fails(ids)
        return ["failed" if f else v for f, v in zip(fails, out.tolist(), strict=True)]

    def fails(self, ids) -> np.ndarray:
        """Whether an experiment on each of candidates `ids` fails (see `fail_below`)."""
        ids = np.asarray(ids, dtype=np.int64)
        if self.fail_below is None or self.task != "regression":
            return np.zeros(len(ids), dtype=bool)
        return self.values[ids].astype(float) < self.fail_below

    @property
    def best_in_pool(self) -> float | None:
        if self.task != "regression" or self.goal == "explore" or self.targets:
            return None
        return float(self.values.max() if self.goal == "maximize" else self.values.min())

    def top_mask(self, fraction: float = 0.01) -> np.ndarray | None:
        """Candidates in the best `fraction` of the pool (optimisation problems of one
        target)."""
        if self.task != "regression" or self.goal == "explore" or self.targets:
            return None
        v = self.values.astype(float)
        if self.goal == "maximize":
            return v >= np.quantile(v, 1 - fraction)
        return v <= np.quantile(v, fraction)


def _test_function(cls_name: str, dim: int | None) -> Callable[..., Problem]:
    def make(n_candidates: int = 2000, seed: int = 0, noise_std: float = 0.0) -> Problem:
        from botorch.test_functions import synthetic
        from torch.quasirandom import SobolEngine

        cls = getattr(synthetic, cls_name)
        fn = cls(dim=dim) if dim is not None else cls()
        d = fn.dim
        unit = SobolEngine(d, scramble=True, seed=seed).draw(n_candidates, dtype=torch.float64)
        lo, hi = fn.bounds[0], fn.bounds[1]
        X = lo + (hi - lo) * unit
        with torch.no_grad():
            values = fn.evaluate_true(X).numpy()
        name = cls_name.lower() + (str(dim) if cls_name == "Hartmann" else "")
        return Problem(
            name=name, candidates=pd.DataFrame(X.numpy(), columns=[f"x{i}" for i in range(d)]),
            target="y", task="regression", goal="minimize", values=values, noise_std=noise_std,
            optimum=float(fn.optimal_value),
            description=f"{cls_name} ({d}-D) on {n_candidates} scrambled Sobol points, minimise",
        )

    return make


def _sklearn(loader: str) -> Callable[..., Problem]:
    def make(**_) -> Problem:
        from sklearn import datasets

        data = getattr(datasets, loader)()
        X = pd.DataFrame(data.data, columns=[f"f{i}" for i in range(data.data.shape[1])])
        labels = np.asarray([str(data.target_names[t]) for t in data.target], dtype=object)
        return Problem(name=loader.removeprefix("load_"), candidates=X, target="label",
                       task="classification", goal="explore", values=labels,
                       description=f"scikit-learn {loader}() (offline)")

    return make


def _synthetic(kind: str) -> Callable[..., Problem]:
    def make(n_candidates: int = 1000, seed: int = 0, noise_std: float = 0.15, **_) -> Problem:
        from sklearn import datasets

        maker = datasets.make_moons if kind == "moons" else datasets.make_circles
        extra = {} if kind == "moons" else {"factor": 0.5}
        X, y = maker(n_samples=n_candidates, noise=noise_std, random_state=seed, **extra)
        return Problem(name=kind, candidates=pd.DataFrame(X, columns=["x0", "x1"]),
                       target="label", task="classification", goal="explore",
                       values=np.asarray([str(v) for v in y], dtype=object),
                       description=f"two {kind}, {n_candidates} points, noise {noise_std}")

    return make


def _lookup(name: str, drop: tuple[str, ...] = ()) -> Callable[..., Problem]:
    def make(**_) -> Problem:
        table, meta = load_dataset(name)
        return problem_from_table(table, meta.target, meta.goal, name=name,
                                  description=meta.citation, drop=drop)

    return make


def _metallic_glass(**_) -> Problem:
    table, meta = load_dataset("metallic_glass")
    features = element_fractions(table["formula"])
    labels = np.where(table[meta.target].to_numpy() > 0.5, "glass", "no glass").astype(object)
    return Problem(name="metallic_glass", candidates=features, target="glass",
                   task="classification", goal="explore", values=labels,
                   description=meta.citation)


def problem_from_table(table: pd.DataFrame, target: str | None = None, goal: str = "maximize",
                       task: str = "regression", name: str = "lookup", description: str = "",
                       drop: tuple[str, ...] = (), where: str = "",
                       fail_below: float | None = None, targets: dict | None = None
                       ) -> Problem:
    """A lookup-table problem: every row is a candidate whose `target` was measured.
    Errors name the table as `where` (default: "lookup table"). With `fail_below`, an
    experiment on a row whose target is below it fails (e.g. a yield under 5%). With
    `targets` (name -> "max" | "min", instead of `target`), every row holds several
    measured targets (see `designloop.bench.several`)."""
    task = spelled(task)
    where = where or "lookup table"
    if targets is not None:
        return _several_targets(table, targets, name, description, drop, where)
    if target not in table.columns:
        raise InputError(f"{where} has no column '{target}'; its columns are "
                         f"{list(table.columns)}")
    if "candidate_id" in table.columns:
        raise InputError(f"{where}: the column name 'candidate_id' is reserved for "
                         "designloop's ids; rename or delete that column")
    known = table[target].notna()
    table = table[known].reset_index(drop=True)
    features = table.drop(columns=[target, *drop])
    if task == "regression":
        values = pd.to_numeric(table[target], errors="coerce")
        if values.isna().any():
            raise InputError(f"{where}: column '{target}' must hold numbers")
        values = values.to_numpy(float)
    else:
        values = table[target].astype(str).to_numpy(dtype=object)
    return Problem(name=name, candidates=features, target=target, task=task, goal=goal,
                   values=values, description=description or f"lookup table ({len(table)} rows)",
                   fail_below=fail_below)


def problem_from_csv(path, target: str | None = None, goal: str = "maximize",
                     task: str = "regression", targets: dict | None = None) -> Problem:
    """A user's CSV as a lookup table (`designloop benchmark --lookup file.csv --target y`;
    `targets`: several, name -> "max" | "min")."""
    return problem_from_table(read_table(path, "lookup"), target, goal, task,
                              name=str(path), description=f"lookup table {path}",
                              where=f"lookup file {path}", targets=targets)


PROBLEMS: dict[str, Callable[..., Problem]] = {
    "branin": _test_function("Branin", None),
    "hartmann3": _test_function("Hartmann", 3),
    "hartmann6": _test_function("Hartmann", 6),
    "ackley": _test_function("Ackley", 4),
    "levy": _test_function("Levy", 4),
    "rosenbrock": _test_function("Rosenbrock", 4),
    "breast_cancer": _sklearn("load_breast_cancer"),
    "wine": _sklearn("load_wine"),
    "digits": _sklearn("load_digits"),
    "moons": _synthetic("moons"),
    "circles": _synthetic("circles"),
    "metallic_glass": _metallic_glass,
    "suzuki": _lookup("suzuki"),
    "buchwald_hartwig": _lookup("buchwald_hartwig"),
    "fullerenes": _lookup("fullerenes"),
    "steels": _lookup("steels"),
    "suzuki_miyaura": _lookup("suzuki_miyaura"),
    "reizman_suzuki": _lookup("reizman_suzuki", drop=("ton",)),
    "esol": _lookup("esol", drop=("Compound ID", "ESOL predicted log solubility in mols per litre",
                                  "Minimum Degree", "Molecular Weight", "Number of H-Bond Donors",
                                  "Number of Rings", "Number of Rotatable Bonds",
                                  "Polar Surface Area")),
}


def make_problem(name: str, **params) -> Problem:
    """A problem by name, e.g. make_problem("hartmann6", n_candidates=10_000, seed=0)."""
    key = name.strip().lower().replace("-", "_")
    if key not in PROBLEMS:
        raise InputError(f"unknown problem {name!r}; choose one of: {', '.join(PROBLEMS)}")
    size = params.get("n_candidates")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int | np.integer)
                             or size < 1):
        raise InputError(f"n_candidates (--n-candidates) must be a whole number >= 1, got "
                         f"{size!r}")
    noise = params.get("noise_std")
    if noise is not None and not (isinstance(noise, int | float) and math.isfinite(noise)
                                  and noise >= 0):
        raise InputError(f"noise_std (--noise) must be a finite number >= 0, got {noise!r}")
    return PROBLEMS[key](**params)


def _several_targets(table: pd.DataFrame, targets: dict, name: str, description: str,
                     drop: tuple[str, ...], where: str) -> Problem:
    if not isinstance(targets, dict) or len(targets) < 2:
        raise InputError(f"{where}: targets= takes a dict of at least two columns")
    goals = {t: canonical(g, ("maximize", "minimize"), "goal") for t, g in targets.items()}
    missing = [t for t in goals if t not in table.columns]
    if missing:
        raise InputError(f"{where} has no column(s) {missing}; its columns are "
                         f"{list(table.columns)}")
    if "candidate_id" in table.columns:
        raise InputError(f"{where}: the column name 'candidate_id' is reserved for "
                         "designloop's ids; rename or delete that column")
    table = table.dropna(subset=list(goals)).reset_index(drop=True)
    values = table[list(goals)].apply(pd.to_numeric, errors="coerce")
    if values.isna().any().any():
        raise InputError(f"{where}: the target columns {list(goals)} must hold numbers")
    return Problem(name=name, candidates=table.drop(columns=[*goals, *drop]),
                   target=next(iter(goals)), task="regression", goal="maximize",
                   values=values.to_numpy(float), targets=goals,
                   description=description or f"lookup table ({len(table)} rows)")
