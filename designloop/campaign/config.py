"""A campaign's configuration: checked once when the campaign is created, stored as JSON
in its log, and read back unchanged when it is reopened.

Reading it back needs no numerical library: what each acquisition, surrogate and selection
can do comes from `designloop.registry`, which loads none.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from designloop import registry
from designloop.campaign.custom import CUSTOM, acquisition_name, surrogate_name
from designloop.campaign.matching import ID, plain
from designloop.campaign.objectives import (
    OBJECTIVES,
    check_constraint_columns,
    label_columns,
    optimised,
    target_specs,
)
from designloop.campaign.store import DAMAGED
from designloop.errors import InputError
from designloop.io import out_of_range
from designloop.names import GOAL_ALIASES, INITIAL_DESIGNS, canonical, spelled
from designloop.registry import AUTO_SURROGATE, GP_PRIORS, SELECTIONS, TASKS

GOALS = ("explore", "maximize", "minimize")
INCUMBENTS = ("posterior", "observed")


def default_initial_design(task: str, goal: str) -> str:
    """The initial design when none is given, chosen by benchmarks/decisions.py
    (docs/benchmarks.md): "random" to optimise (space-filling starts spend the first runs on
    the edges of the space and found the best candidates later), "kmeans" to explore or
    classify (representative candidates, one per cluster, label most classes at once).
    Both change with the seed."""
    return "kmeans" if task == "classification" or goal == "explore" else "random"




def default_surrogate(task: str) -> str:
    """"gp" for regression; for classification "auto": the classifier with the lowest
    cross-validated Brier score on the campaign's labels
    (`designloop.campaign.surrogate_choice`)."""
    return "gp" if task == "regression" else AUTO_SURROGATE


def default_acquisition(task: str, goal: str) -> str:
    """Margin sampling for classification: with the surrogate chosen by cross-validation it
    reached more accurate models than BALD on digits (0.975 against 0.900 at 50 labels, all 5
    seeds) and as accurate on breast cancer and metallic glass (docs/benchmarks.md)."""
    if task == "classification":
        return "margin"
    return "max_variance" if goal == "explore" else "log_expected_improvement"


@dataclass
class CampaignConfig:
    target: str
    task: str
    goal: str
    surrogate: str
    acquisition: str
    batch_size: int
    seed: int
    feature_columns: list[str]
    smiles_encoding: str = "auto"
    roles: dict = field(default_factory=dict)
    surrogate_params: dict = field(default_factory=dict)
    acquisition_params: dict = field(default_factory=dict)
    ignore: list[str] = field(default_factory=list)
    fingerprint: dict = field(default_factory=dict)
    selection: str = "auto"
    initial_design: str = "random"
    incumbent: str = "posterior"
    diagnostics: bool = True
    targets: dict = field(default_factory=dict)  # several targets: name -> goal, bounds, weight
    objective: str = ""  # several targets: "pareto" or "desirability"

    @property
    def custom_surrogate(self) -> bool:
        return self.surrogate.startswith(CUSTOM)

    @property
    def custom_acquisition(self) -> bool:
        return self.acquisition.startswith(CUSTOM)

    @classmethod
    def create(cls, candidates: pd.DataFrame, *, target, task, goal, surrogate, acquisition,
               batch_size, seed, roles, smiles_encoding, surrogate_params, acquisition_params,
               ignore, source, fingerprint=None, selection="auto",
               initial_design=None, incumbent="posterior",
               diagnostics=True, targets=None, objective=None,
               constraints=None) -> CampaignConfig:
        """The checked configuration of a new campaign over `candidates` (`source` names the
        table in errors); every name in its canonical spelling (`designloop.names`).

        Raises:
            InputError: one line naming the setting and the choices.
        """
        # one spelling everywhere (designloop.names): "maximise", "max-variance", "ei", ...
        task, goal = spelled(task), spelled(goal, "goal")
        specs, combined = {}, ""
        if constraints and targets is None:  # one target to optimise, outcome constraints
            if not isinstance(target, str) or goal not in ("maximize", "minimize"):
                raise InputError("outcome constraints go with a target to maximize or "
                                 "minimize (goal=), or with targets=")
            specs, _ = target_specs({target: goal}, objective, candidates.columns,
                                    constraints)
        elif targets is not None:  # several targets: one objective to maximise
            if target is not None or task != "regression":
                raise InputError("give target= (one target) or targets= (several regression "
                                 "targets), not both")
            if goal != "explore":
                raise InputError("with several targets each carries its own direction "
                                 "(targets={'yield': 'max', ...}); leave goal out")
            specs, combined = target_specs(targets, objective, candidates.columns,
                                           constraints)
            if combined == "pareto" and (acquisition is not None or selection != "auto"):
                raise InputError("a Pareto campaign picks by expected hypervolume "
                                 "improvement; leave acquisition and selection out (or use "
                                 "objective='desirability')")
            goals = optimised(specs)
            target = next(iter(goals))
            goal = goals[target]["goal"] if len(goals) == 1 else "maximize"
        elif objective is not None:
            raise InputError("objective= combines several targets: give them as targets=")
        elif not isinstance(target, str) or not target:
            raise InputError(f"target must be the name of the column the lab measures, got "
                             f"{target!r}")
        _check_task_and_goal(task, goal)
        check_constraint_columns(specs, candidates, source)
        features, ignore = _feature_columns(candidates, [target, *specs], ignore, source)
        surrogate, surrogate_params = _surrogate(surrogate, dict(surrogate_params or {}), task)
        acquisition = _acquisition(acquisition, task, goal)
        choices = _choices(smiles_encoding=spelled(smiles_encoding, "smiles_encoding"),
                           selection=spelled(selection), incumbent=spelled(incumbent),
                           initial_design=spelled(initial_design, "initial_design")
                           or default_initial_design(task, goal))
        if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1:
            raise InputError(f"batch_size must be a whole number >= 1, got {batch_size!r}")
        return cls(target=target, task=task, goal=goal, surrogate=surrogate,
                   acquisition=acquisition, batch_size=int(batch_size), seed=int(seed),
                   feature_columns=features, roles=dict(roles or {}),
                   surrogate_params=surrogate_params,
                   acquisition_params=dict(acquisition_params or {}), ignore=ignore,
                   fingerprint=dict(fingerprint or {}), diagnostics=bool(diagnostics),
                   targets=specs, objective=combined, **choices)

    def to_dict(self) -> dict:
        """The configuration as stored; a campaign of one target stores no `targets` and
        `objective`, so that earlier versions read its file."""
        out = asdict(self)
        if not self.targets:
            del out["targets"], out["objective"]
        return out

    @classmethod
    def from_dict(cls, data: dict, source: str = "the campaign log") -> CampaignConfig:
        """The stored configuration; a log written before the incumbent and the GP prior
        were settings keeps the behaviour it was created with (best observed value,
        dimension-scaled prior).

        Raises:
            InputError: naming `source` and the field, when a field is missing, unknown or
                of the wrong type (a damaged or hand-edited log).
        """
        data = dict(data)
        if "incumbent" not in data:
            data["incumbent"] = "observed"
            if data.get("surrogate") == "gp" and isinstance(data.get("surrogate_params", {}),
                                                            dict):
                data["surrogate_params"] = {"prior": "dim_scaled",
                                            **data.get("surrogate_params", {})}
        _check_stored(data, source)
        return cls(**data)


def _check_task_and_goal(task: str, goal: str) -> None:
    if task not in TASKS:
        raise InputError(f"task must be one of {TASKS}, got {task!r}")
    if goal not in GOALS:
        raise InputError(f"goal must be one of {GOALS} (or {', '.join(GOAL_ALIASES)}), "
                         f"got {goal!r}")
    if task == "classification" and goal != "explore":
        raise InputError("a classification campaign explores: use goal='explore'")


def _feature_columns(candidates, targets: list, ignore, source: str) -> tuple[list, list]:
    """The feature columns of the candidate table (all but the targets and the ignored)."""
    if not isinstance(candidates, pd.DataFrame):
        raise InputError("candidates must be a pandas DataFrame (one row per candidate)")
    if len(candidates) == 0:
        raise InputError(f"{source}: the candidate table has no rows")
    ignore = list(ignore or [])
    missing = [c for c in ignore if c not in candidates.columns]
    if missing:
        raise InputError(f"{source}: ignored column(s) {missing} do not exist")
    if ID in candidates.columns:
        raise InputError(
            f"{source}: the column name '{ID}' is reserved for designloop's ids; rename it "
            "(or list it to ignore under another name)"
        )
    return [c for c in candidates.columns if c not in targets and c not in ignore], ignore


def _surrogate(surrogate, params: dict, task: str) -> tuple[str, dict]:
    """The surrogate's registered name (or 'custom:<Class>') and its checked parameters."""
    if surrogate is not None and not isinstance(surrogate, str):
        surrogate, own = surrogate_name(surrogate, task)
        params = {**own, **params}
    else:
        known = [*registry.SURROGATES, AUTO_SURROGATE]
        surrogate = canonical(surrogate or default_surrogate(task), known, "surrogate")
    allowed = registry.surrogates_for(task) + (
        [AUTO_SURROGATE] if task == "classification" else [])
    if surrogate not in allowed and not surrogate.startswith(CUSTOM):
        raise InputError(
            f"surrogate '{surrogate}' does not do {task}; choose one of {sorted(allowed)}")
    if surrogate == AUTO_SURROGATE and params:
        raise InputError(
            "surrogate 'auto' chooses among the GP classifier, ensemble, forest and label "
            "spreading with their default settings; to set parameters, name the surrogate "
            "(e.g. surrogate='ensemble')")
    if surrogate == "gp" and params.get("prior", GP_PRIORS[0]) not in GP_PRIORS:
        raise InputError(f"GP prior must be one of {', '.join(GP_PRIORS)}, got "
                         f"{params['prior']!r}")
    spec = registry.SURROGATES.get(surrogate)
    if spec is not None and spec.takes_task:
        params.setdefault("task", task)
    if surrogate == "bootstrap":
        params.setdefault("base", "gp" if task == "regression" else "gp_classifier")
    return surrogate, params


def _acquisition(acquisition, task: str, goal: str) -> str:
    """The acquisition's registered name (or 'custom:<name>'), checked against the task and
    the goal."""
    given = acquisition  # as the user spelled it, for messages ("ei")
    if acquisition is not None and not isinstance(acquisition, str):
        acquisition = acquisition_name(acquisition)  # a registered function gets its checks
        if acquisition.startswith(CUSTOM):
            return acquisition
    else:
        acquisition = canonical(acquisition or default_acquisition(task, goal),
                                registry.MEANINGS, "acquisition")
    named = (f"'{given}' ({acquisition})" if isinstance(given, str)
             and given.strip() != acquisition else f"'{acquisition}'")
    spec = registry.ACQUISITIONS[acquisition]
    if task not in spec.tasks:
        raise InputError(f"acquisition {named} is for {spec.tasks[0]} targets; for {task} use "
                         f"e.g. '{default_acquisition(task, goal)}'")
    if spec.optimises and goal == "explore":
        raise InputError(f"acquisition {named} optimises; set goal to maximize or minimize, or "
                         "explore with max_variance or bald")
    return acquisition


def _choices(**given) -> dict:
    """The settings that are one of a few names, checked (the same table checks a stored
    configuration)."""
    for name, value in given.items():
        if value not in _STORED_CHOICES[name]:
            raise InputError(f"{name.replace('_', ' ')} must be one of "
                             f"{', '.join(_STORED_CHOICES[name])}, got {value!r}")
    return given


_STORED_CHOICES = {"task": TASKS, "goal": GOALS, "incumbent": INCUMBENTS,
                   "selection": tuple(SELECTIONS), "initial_design": tuple(INITIAL_DESIGNS),
                   "smiles_encoding": ("auto", "likelihood", "onehot", "morgan", "descriptors",
                                       "mordred"),
                   "objective": ("", *OBJECTIVES)}


def _check_stored(data: dict, source: str) -> None:
    """Check a stored configuration field by field (see CampaignConfig.from_dict)."""
    fix = DAMAGED
    where = f"{source}: the configuration (table meta, key 'config')"
    fields = {f.name: f for f in dataclasses.fields(CampaignConfig)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise InputError(f"{where} has unknown field(s) {unknown}; {fix}")
    missing = [name for name, f in fields.items() if name not in data
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise InputError(f"{where} lacks the field(s) {missing}; {fix}")
    kinds = {"int": int, "bool": bool, "str": str, "dict": dict, "list[str]": list}
    for name, value in data.items():
        kind = fields[name].type
        ok = isinstance(value, kinds[kind]) and (
            kind != "int" or not isinstance(value, bool)) and (
            kind != "list[str]" or all(isinstance(v, str | int) for v in value))
        if not ok:
            wanted = {"int": "a whole number", "bool": "true or false", "str": "text",
                      "dict": "a JSON object", "list[str]": "a list of column names"}[kind]
            raise InputError(f"{where}: field '{name}' is {value!r}, not {wanted}; {fix}")
        if name in _STORED_CHOICES and value not in _STORED_CHOICES[name]:
            raise InputError(f"{where}: field '{name}' is {value!r}, not one of "
                             f"{', '.join(_STORED_CHOICES[name])}; {fix}")
    names = {"surrogate": {*registry.SURROGATES, AUTO_SURROGATE},
             "acquisition": set(registry.MEANINGS)}
    for name, known in names.items():
        if data[name] not in known and not data[name].startswith(CUSTOM):
            raise InputError(f"{where}: field '{name}' is {data[name]!r}, which this designloop "
                             f"does not know; {fix}")
    if data["batch_size"] < 1:
        raise InputError(f"{where}: field 'batch_size' is {data['batch_size']}, not >= 1; {fix}")


def check_log(cfg: CampaignConfig, candidates: pd.DataFrame, store) -> None:
    """Read the whole log once and check that it fits the configuration and the
    candidate table, so that a damaged or hand-edited file is refused with one
    InputError when it is opened (not a traceback later in status, history or report)."""
    path = store.path
    lost = [c for c in cfg.feature_columns if str(c) not in candidates.columns]
    if lost:
        raise InputError(f"{path}: the candidate table (table meta, key 'candidates') lacks "
                         f"the feature column(s) {lost}; {DAMAGED}")
    for col, role in (cfg.roles or {}).items():
        if role != "numeric" or col not in candidates.columns:
            continue
        cells = candidates[col]
        numbers = pd.to_numeric(cells, errors="coerce")
        bad = (cells.notna() & numbers.isna()).to_numpy() | out_of_range(numbers)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            value = cells.iloc[row]
            raise InputError(f"{path}: the candidate table (table meta, key 'candidates'), "
                             f"column '{col}', candidate {row} holds {plain(value)!r} "
                             f"where a number belongs; {DAMAGED}")
    n = len(candidates)
    obs = store.observations(failed=True)
    sugg = store.suggestions()
    store.cycles()  # checks every cycle's info
    for table, ids in (("observations", obs["candidate_id"]),
                       ("suggestions", sugg["candidate_id"])):
        bad = [int(i) for i in ids if not 0 <= i < n]
        if bad:
            raise InputError(f"{path}: table {table} refers to candidate_id(s) {bad[:5]}, "
                             f"but the candidates are numbered 0 to {n - 1}; {DAMAGED}")
    if cfg.task == "regression":
        labelled = set(label_columns(cfg.targets))  # constraints on a class
        named = obs["target"] if "target" in obs else pd.Series(None, index=obs.index)
        text = obs[[isinstance(v, str) and not failed and t not in labelled
                    for v, failed, t in zip(obs["value"], obs["failed"], named, strict=True)]]
        if len(text):
            raise InputError(
                f"{path}: table observations, row id {int(text['id'].iloc[0])}, column "
                f"'value' holds {text['value'].iloc[0]!r} where a regression target needs "
                f"a number; {DAMAGED}")
