"""Golden campaigns: fixed problems, seeds and results give exactly these suggestions.

They pin the behaviour of the default path (encoding choice, surrogate choice, fit,
acquisition, batch rule, store) so that moving code around cannot change a pick unnoticed.
A deliberate change of a default changes them too: regenerate the lists then, and say why
in the commit, with the benchmark that justified the change (docs/benchmarks.md).
"""

import dataclasses

import numpy as np
import pandas as pd
import pytest

import designloop as dl
from designloop.bench.problems import make_problem

GOLDEN = {
    # numeric table, maximise, batches of 3
    "suzuki": ([3, 3, 3, 3], [[239, 143, 62], [183, 243, 215], [185, 244, 241],
                              [246, 245, 95]]),
    # numeric table, learn the whole landscape (max-variance with diverse batches)
    "steels_explore": ([4, 3, 3], [[297, 220, 101, 151], [131, 174, 159], [251, 93, 309]]),
    # four SMILES columns of reaction components: Mordred descriptors
    "buchwald_hartwig": ([3, 3, 3], [[3866, 2290, 1001], [1269, 2155, 3637],
                                     [3141, 1597, 3620]]),
    # a library of 1,123 molecules: the encoding is chosen by leave-one-out likelihood once
    # six are measured (the third cycle)
    "esol": ([3, 3, 3], [[1101, 653, 285], [923, 520, 890], [679, 146, 983]]),
    # classification: surrogate chosen by cross-validation, margin with diverse batches
    "breast_cancer": ([6, 4, 4], [[338, 291, 74, 433, 563, 229], [213, 290, 505, 265],
                                  [288, 537, 214, 128]]),
    # a continuous function, one at a time
    "hartmann6": ([6, 1, 1, 1], [[682, 1544, 505, 813, 1156, 1951], [706], [1421], [897]]),
}


def problem(name):
    if name == "hartmann6":
        return make_problem("hartmann6", n_candidates=2000, seed=1)
    if name == "steels_explore":
        return dataclasses.replace(make_problem("steels"), goal="explore")
    return make_problem(name)


def run(p, sizes, store=":memory:", reopen=False):
    goal = p.goal if p.task == "regression" else "explore"
    campaign = dl.Campaign(p.candidates, target=p.target, task=p.task, goal=goal, seed=3,
                           store=store)
    rng = np.random.default_rng(0)
    picks = []
    for k in sizes:
        if reopen:
            campaign = dl.Campaign.open(store)
        ids = campaign.suggest(k)["candidate_id"].to_numpy()
        picks.append(ids.tolist())
        campaign.observe(pd.DataFrame({"candidate_id": ids, p.target: p.oracle(ids, rng)}))
    return picks


@pytest.mark.parametrize("name", [name for name in GOLDEN if name != "buchwald_hartwig"])
def test_golden_campaign_suggests_what_it_always_has(name):
    sizes, expected = GOLDEN[name]
    assert run(problem(name), sizes) == expected


def test_golden_campaign_reopened_from_its_file_every_cycle(tmp_path):
    """As the command line runs it: each cycle reopens the campaign file."""
    sizes, expected = GOLDEN["buchwald_hartwig"]
    picks = run(problem("buchwald_hartwig"), sizes, store=tmp_path / "bh.db", reopen=True)
    assert picks == expected
