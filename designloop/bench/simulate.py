"""Simulated campaigns: many strategies x seeds on a benchmark problem, in parallel through
any `concurrent.futures.Executor` (local processes by default, a Dask cluster's
`client.get_executor()` when one machine is not enough), as one long tidy DataFrame.

Each run is the real Campaign (the code path of the command line) with an in-memory store;
the problem's oracle answers instead of a lab. Same seeds, same results, whichever executor.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
import pandas as pd

from designloop.bench.problems import Problem
from designloop.bench.several import several_strategies
from designloop.bench.strategies import Strategy, parse_strategies
from designloop.campaign import modelling
from designloop.campaign.campaign import Campaign
from designloop.errors import InputError
from designloop.io import neutralise_table, unneutralise
from designloop.records import CycleRecord
from designloop.trust.metrics import classification_metrics, regression_metrics


def run_campaign(problem: Problem, strategy: Strategy, seed: int, budget: int,
                 batch_size: int = 1, n_initial: int | None = None,
                 metrics: bool | str | None = None) -> list[dict]:
    """One simulated campaign; returns one row per cycle.

    `metrics`: score the surrogate on the whole pool every cycle (True), after the last
    cycle only ("final"), or never (False); None scores every cycle for exploration and
    classification problems. A problem of several targets is scored by hypervolume
    instead (`designloop.bench.several`).
    """
    import torch

    torch.set_num_threads(1)  # runs are parallel already; no oversubscription
    if budget > len(problem.candidates):
        raise InputError(f"budget {budget} exceeds the {len(problem.candidates)} candidates")
    settings = run_settings(problem, budget, batch_size, n_initial)
    if problem.targets:  # several targets: scored by hypervolume
        from designloop.bench.several import run_several

        return run_several(problem, strategy, seed, budget, settings)
    n_initial = settings["n_initial"]
    metrics = problem.goal == "explore" if metrics is None else metrics
    if metrics not in (True, False, "final"):
        raise InputError(f"metrics must be True, False, 'final' or None, got {metrics!r}")
    goal = problem.goal if problem.task == "regression" else "explore"
    campaign = Campaign(problem.candidates, target=problem.target, task=problem.task, goal=goal,
                        seed=seed, diagnostics=False, **strategy.campaign_kwargs())
    rng = np.random.default_rng([seed, 7919])
    top = problem.top_mask(0.01)
    reference = problem.optimum if problem.optimum is not None else problem.best_in_pool
    rows, measured, values = [], [], []
    cycle = 0
    while len(measured) < budget:
        cycle += 1
        k = min(n_initial if cycle == 1 else batch_size, budget - len(measured))
        start = time.perf_counter()
        picks = campaign.suggest(k)
        suggest_s = time.perf_counter() - start
        ids = picks["candidate_id"].to_numpy()
        answer = problem.oracle(ids, rng)
        campaign.observe(pd.DataFrame({"candidate_id": ids, problem.target: answer}))
        measured.extend(ids.tolist())
        values.extend(answer)
        record = campaign.store.cycles().iloc[-1]["record"]
        row = {**settings, "strategy": strategy.name, "seed": seed,
               "cycle": cycle, "n_observed": len(measured), "suggest_seconds": suggest_s,
               "fit_seconds": record.fit_seconds or 0.0}
        if problem.fail_below is not None:
            row["failed_fraction"] = float(problem.fails(measured).mean())
        if problem.task == "regression" and goal != "explore":
            row.update(_found(problem, goal, measured, values, answer, top, reference))
        if metrics is True or (metrics == "final" and len(measured) >= budget):
            row.update(_model_quality(problem, campaign))
        rows.append(row)
    return rows


def _found(problem: Problem, goal: str, measured: list, values: list, answer: list,
           top: np.ndarray, reference) -> dict:
    """The optimisation metrics after a cycle: the best of its answers (`value`), the best
    measured so far, the simple regret and the top-1% rows found. A failed experiment finds
    nothing, whatever the candidate's true value; having found nothing at all is the regret
    of the pool's worst value."""
    found = np.asarray([v for v in values if not isinstance(v, str)], dtype=float)
    worked = [v for v in answer if not isinstance(v, str)]
    pick_best, best = (max, np.max) if goal == "maximize" else (min, np.min)
    out = {"value": float(pick_best(worked)) if worked else np.nan,
           "best_so_far": float(best(found)) if len(found) else np.nan}
    worked_ids = np.asarray(measured)[~problem.fails(measured)]
    if reference is not None:
        truth = problem.values[worked_ids] if len(worked_ids) else problem.values
        maximum = (goal == "maximize") == bool(len(worked_ids))  # the best, or the worst
        out["simple_regret"] = float(abs(reference - (truth.max() if maximum else truth.min())))
    out["top1_found"] = int(top[np.unique(worked_ids)].sum())
    out["top1_fraction"] = out["top1_found"] / int(top.sum())
    return out


def run_settings(problem: Problem, budget: int, batch_size: int = 1,
                 n_initial: int | None = None) -> dict:
    """What a simulated run depends on besides strategy and seed, as stored in every row of
    its results: problem (name), budget, batch_size, n_initial (the size used),
    pool_size (candidates), noise (the oracle's noise sd), targets (several: "name:goal"
    joined by ";", else "none") and fail_below ("none" when nothing fails)."""
    n_initial = n_initial or max(batch_size, 2 if problem.task == "regression" else 4)
    targets = ";".join(f"{name}:{goal}" for name, goal in (problem.targets or {}).items())
    targets = targets or "none"
    return {"problem": problem.name, "budget": int(budget), "batch_size": int(batch_size),
            "n_initial": int(n_initial), "pool_size": len(problem.candidates),
            "noise": float(problem.noise_std), "targets": targets,
            "fail_below": "none" if problem.fail_below is None else float(problem.fail_below)}


# settings compared as text, and the value a results file written before they were stored
# holds for them (so that such a file still resumes)
TEXT_SETTINGS = {"problem": None, "targets": "none", "fail_below": "none"}
# the metric only a run with that setting reports
SETTING_METRIC = {"targets": "hv_fraction", "fail_below": "failed_fraction"}


def _resumable(output: Path, settings: dict) -> pd.DataFrame:
    """The rows already in a results CSV, after checking they come from the same problem and
    settings (InputError otherwise: results of different benchmarks are never mixed)."""
    if output.stat().st_size == 0:
        return pd.DataFrame()
    advice = (f"write these results to another file (-o another.csv), or delete {output} to "
              "start again")
    try:
        done = pd.read_csv(output)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{output} cannot be read as a results table "
                         f"({' '.join(str(exc).split())}); {advice}") from None
    if done.empty:
        return done
    for column in ("strategy", *TEXT_SETTINGS):  # written with spreadsheet formulas neutralised
        if column in done.columns:
            done[column] = done[column].map(unneutralise)
    for key, before in TEXT_SETTINGS.items():
        if before is None:
            continue
        if key not in done.columns:
            done[key] = np.nan
        # rows written before the setting was stored hold it only as their metric's absence
        evidence = done[SETTING_METRIC[key]].notna() if SETTING_METRIC[key] in done.columns \
            else pd.Series(False, index=done.index)
        done[key] = done[key].astype(object).where(done[key].notna() | evidence, before)
    missing = [c for c in [*settings, "strategy", "seed", "n_observed"] if c not in done.columns]
    if missing:
        raise InputError(f"{output} holds results without the settings they were run with "
                         f"(no column(s) {missing}); {advice}")
    differ = []
    for key, wanted in settings.items():
        found = done[key].drop_duplicates().tolist()
        same = [_same_text(v, wanted) if key in TEXT_SETTINGS else _equal(v, wanted)
                for v in found]
        if not all(same):
            shown = ", ".join(str(v) for v, ok in zip(found, same, strict=True) if not ok)
            differ.append(f"{key} {shown} (this run: {wanted})")
    if differ:
        raise InputError(f"{output} holds results of another benchmark ({'; '.join(differ)}); "
                         f"{advice}")
    return done


def _same_text(found, wanted) -> bool:
    """A text setting as read back from a CSV (an empty cell reads as NaN, a number as a
    float) against this run's."""
    if isinstance(found, float) and np.isnan(found):
        found = ""
    return str(found) == str(wanted) or _equal(found, wanted)


def _equal(found, wanted) -> bool:
    try:
        return float(found) == float(wanted)
    except (TypeError, ValueError):
        return False


def _model_quality(problem, campaign) -> dict:
    """Fit the campaign's surrogate to everything measured (as its next cycle would) and
    score it on the whole pool."""
    obs = campaign.store.observations()
    if obs.empty:  # every experiment failed: nothing to score
        return {}
    if modelling.no_model_reason(problem.task, obs):  # one class so far: predict it
        majority = str(obs["value"].iloc[0])
        return {"accuracy": float(np.mean(problem.values.astype(str) == majority))}
    record = CycleRecord(k=0, seed=campaign.config.seed)
    fitted = modelling.fit(campaign.model_setup(), obs, record, diagnostics=False)
    pred = fitted.model.predict(fitted.X)
    if problem.task == "regression":
        return regression_metrics(pred, problem.values)
    return classification_metrics(pred, problem.values.astype(str).tolist(), fitted.classes)


def simulate(problem: Problem, strategies, seeds=5, budget: int = 30, batch_size: int = 1,
             n_initial: int | None = None, executor: Executor | None = None, n_jobs: int = 1,
             metrics: bool | str | None = None, output: str | Path | None = None,
             progress: bool = True) -> pd.DataFrame:
    """Run every strategy with every seed and return one long tidy DataFrame.

    Args:
        problem: a Problem (see `designloop.bench.problems.make_problem`).
        strategies: names like "random,bald,ei" or Strategy objects; for several targets
            default, pareto, desirability and random (see `several_strategies`).
        seeds: a number of seeds (0..seeds-1) or a list of seeds.
        budget: measurements per campaign (initial design included).
        batch_size: experiments per cycle after the initial design.
        n_initial: size of the initial design (default: batch_size, at least 2 for
            regression and 4 for classification).
        executor: any concurrent.futures.Executor (e.g. a Dask client's get_executor());
            default: local processes when n_jobs > 1, else in this process.
        n_jobs: local processes when no executor is given.
        metrics: score the surrogate on the whole pool each cycle (True), after the last
            cycle only ("final") or never (False); default: every cycle for exploration and
            classification problems.
        output: a CSV (resumable: runs already in it are skipped, each finished run is
            appended) or a .parquet file (written at the end). A CSV holding results of
            another problem or other settings (see `run_settings`) is refused with an
            InputError, never mixed.
        progress: show a progress bar.

    Returns:
        One row per (strategy, seed, cycle): problem, budget, batch_size, n_initial,
        pool_size, noise (the settings, see `run_settings`), strategy, seed, cycle, n_observed,
        value, best_so_far, simple_regret, top1_found/top1_fraction (optimisation), model
        quality (rmse, nll, coverage90 or accuracy, ece, nll, brier), fit_seconds and
        suggest_seconds; failed_fraction when experiments can fail (`Problem.fail_below`);
        for several targets hypervolume, hv_regret and hv_fraction instead of the
        optimisation and model metrics.
    """
    strategies = several_strategies(strategies) if problem.targets else \
        parse_strategies(strategies)
    _check_counts(seeds=seeds if isinstance(seeds, int) else len(list(seeds)), budget=budget,
                  batch_size=batch_size, n_initial=n_initial, n_jobs=n_jobs)
    seed_list = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    output = Path(output) if output is not None else None
    done = pd.DataFrame()
    if output is not None and output.suffix == ".csv" and output.exists():
        if budget > len(problem.candidates):
            raise InputError(f"budget {budget} exceeds the {len(problem.candidates)} candidates")
        done = _resumable(output, run_settings(problem, budget, batch_size, n_initial))
    finished = set()
    if len(done):
        last = done.groupby(["strategy", "seed"])["n_observed"].max()
        finished = {key for key, n in last.items() if n >= budget}
        done = done[[(s, d) in finished for s, d in zip(done.strategy, done.seed, strict=True)]]
    jobs = [(s, seed) for s in strategies for seed in seed_list if (s.name, seed) not in finished]
    own = executor is None and n_jobs > 1
    pool = ProcessPoolExecutor(n_jobs) if own else executor
    results: list[dict] = [] if done.empty else done.to_dict("records")
    try:
        if pool is None:
            iterator = ((job, lambda job=job: run_campaign(problem, job[0], job[1], budget,
                                                          batch_size, n_initial, metrics))
                        for job in jobs)
            _collect(((job, fn()) for job, fn in iterator), len(jobs), results, output, progress)
        else:
            futures = {pool.submit(run_campaign, problem, s, seed, budget, batch_size, n_initial,
                                   metrics): (s, seed) for s, seed in jobs}
            _collect(((futures[f], f.result()) for f in as_completed(futures)), len(jobs),
                     results, output, progress)
    finally:
        if own:
            pool.shutdown()
    frame = pd.DataFrame(results)
    if len(frame):
        order = {s.name: i for i, s in enumerate(strategies)}
        frame = frame.sort_values(["strategy", "seed", "cycle"],
                                  key=lambda c: c.map(order) if c.name == "strategy" else c)
        frame = frame.reset_index(drop=True)
    if output is not None and output.suffix == ".parquet":
        frame.to_parquet(output, index=False)
    return frame


def _check_counts(**counts) -> None:
    """InputError naming the first setting that is not a whole number >= 1 (None is left
    to its default)."""
    for name, value in counts.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            option = "--" + name.replace("_", "-")
            raise InputError(f"{name} ({option}) must be a whole number >= 1, got {value!r}")


def _collect(pairs, total: int, results: list, output: Path | None, progress: bool) -> None:
    from rich.progress import Progress

    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("campaigns", total=total)
        for _job, rows in pairs:
            results.extend(rows)
            if output is not None and output.suffix == ".csv":
                _append(output, neutralise_table(pd.DataFrame(rows)))
            bar.advance(task)


def _append(output: Path, frame: pd.DataFrame) -> None:
    """Add one run's rows to a results CSV, in the file's column order; when the run
    reports a column the file lacks (a metric only some runs report), the file is written
    again with every column, to a temporary file that then replaces it (a crash never
    leaves half a file)."""
    if not (output.exists() and output.stat().st_size):
        frame.to_csv(output, index=False)
        return
    header = pd.read_csv(output, nrows=0).columns.tolist()
    if set(frame.columns) <= set(header):
        frame.reindex(columns=header).to_csv(output, mode="a", index=False, header=False)
        return
    whole = pd.concat([pd.read_csv(output, dtype=str, keep_default_na=False),
                       frame.astype(object)], ignore_index=True)
    partial = output.with_name(output.name + ".partial")
    whole.to_csv(partial, index=False)
    os.replace(partial, output)
