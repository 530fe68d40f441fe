"""Simulated campaigns of several targets (`Problem.targets`): the real Campaign with
`targets=`, its objective from the strategy (default "pareto"), scored every cycle by the
hypervolume the measured candidates' true values dominate.

The reference point is the pool's worst value of each target, so that the hypervolume of
every strategy and cycle is measured against the same point, and `hv_fraction` is the
share of the whole pool's hypervolume reached (1 when the pool's Pareto front is found).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from designloop.bench.strategies import Strategy, parse_strategies
from designloop.campaign.campaign import Campaign
from designloop.campaign.objectives import hypervolume_of
from designloop.errors import InputError


def oriented_truth(problem) -> np.ndarray:
    """`(N, m)` the pool's true values, turned so that larger is better."""
    signs = np.array([1.0 if g == "maximize" else -1.0 for g in problem.targets.values()])
    return problem.values.astype(float) * signs


OBJECTIVE_STRATEGIES = ("pareto", "desirability")


def several_strategies(texts) -> list:
    """Strategies for a problem of several targets, from names or Strategy objects:
    `default` (the campaign's own choice), `pareto` or `desirability` (that objective) and
    `random` picks. The objective decides the acquisition, so InputError for a strategy
    that sets an acquisition, surrogate or batch rule."""
    if isinstance(texts, str):
        texts = [t for t in texts.split(",") if t.strip()]
    strategies = parse_strategies([
        Strategy(t.strip().lower(), options={"objective": t.strip().lower()})
        if isinstance(t, str) and t.strip().lower() in OBJECTIVE_STRATEGIES else t
        for t in texts])
    for s in strategies:
        if s.acquisition == "random" and s.surrogate is None and s.selection == "auto":
            continue
        if s.acquisition is not None or s.surrogate is not None or s.selection != "auto":
            raise InputError(f"strategy {s.name!r}: with several targets the objective chooses "
                             "the picks; compare default, pareto, desirability and random")
    return strategies


def run_several(problem, strategy, seed: int, budget: int, settings: dict) -> list[dict]:
    """One simulated campaign of several targets; one row per cycle (see the module).
    The `random` strategy picks uniformly among the unmeasured candidates, without a model
    (the campaign refuses an acquisition for several targets)."""
    random_picks = strategy.acquisition == "random"
    campaign = None if random_picks else Campaign(
        problem.candidates, targets=dict(problem.targets), seed=seed, diagnostics=False,
        **strategy.campaign_kwargs())
    rng = np.random.default_rng([seed, 7919])
    order = np.random.default_rng([seed, 104729]).permutation(len(problem.candidates))
    truth = oriented_truth(problem)
    ref = truth.min(0)
    whole = hypervolume_of(truth, ref)
    rows, measured, cycle = [], [], 0
    while len(measured) < budget:
        cycle += 1
        k = min(settings["n_initial"] if cycle == 1 else settings["batch_size"],
                budget - len(measured))
        start = time.perf_counter()
        ids = order[len(measured):len(measured) + k] if random_picks else \
            campaign.suggest(k)["candidate_id"].to_numpy()
        seconds = time.perf_counter() - start
        if not random_picks:
            campaign.observe(pd.DataFrame({"candidate_id": ids, **problem.oracle(ids, rng)}))
        measured.extend(ids.tolist())
        reached = hypervolume_of(truth[np.unique(measured)], ref)
        rows.append({**settings, "strategy": strategy.name, "seed": seed, "cycle": cycle,
                     "n_observed": len(measured), "suggest_seconds": seconds,
                     "hypervolume": reached, "hv_regret": whole - reached,
                     "hv_fraction": reached / whole if whole > 0 else np.nan})
    return rows
