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

from designloop.campaign.campaign import Campaign
from designloop.campaign.objectives import hypervolume_of


def oriented_truth(problem) -> np.ndarray:
    """`(N, m)` the pool's true values, turned so that larger is better."""
    signs = np.array([1.0 if g == "maximize" else -1.0 for g in problem.targets.values()])
    return problem.values.astype(float) * signs


def run_several(problem, strategy, seed: int, budget: int, settings: dict) -> list[dict]:
    """One simulated campaign of several targets; one row per cycle (see the module)."""
    kwargs = strategy.campaign_kwargs()
    campaign = Campaign(problem.candidates, targets=dict(problem.targets), seed=seed,
                        diagnostics=False, **kwargs)
    rng = np.random.default_rng([seed, 7919])
    truth = oriented_truth(problem)
    ref = truth.min(0)
    whole = hypervolume_of(truth, ref)
    rows, measured, cycle = [], [], 0
    while len(measured) < budget:
        cycle += 1
        k = min(settings["n_initial"] if cycle == 1 else settings["batch_size"],
                budget - len(measured))
        start = time.perf_counter()
        ids = campaign.suggest(k)["candidate_id"].to_numpy()
        seconds = time.perf_counter() - start
        campaign.observe(pd.DataFrame({"candidate_id": ids, **problem.oracle(ids, rng)}))
        measured.extend(ids.tolist())
        reached = hypervolume_of(truth[np.unique(measured)], ref)
        rows.append({**settings, "strategy": strategy.name, "seed": seed, "cycle": cycle,
                     "n_observed": len(measured), "suggest_seconds": seconds,
                     "hypervolume": reached, "hv_regret": whole - reached,
                     "hv_fraction": reached / whole if whole > 0 else np.nan})
    return rows
