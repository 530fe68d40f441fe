"""Runs BayBE's campaign with a Pareto objective over several maximised targets on a lookup
table, seed after seed; prints one JSON line per seed with every row BayBE picked.

Run by benchmarks/several_targets.py with the Python of the separate environment that has
BayBE installed (BayBE is never a dependency of designloop):

    python _baybe_pareto.py spec.json

spec.json: {"candidates": CSV of the feature columns (row i = candidate i),
            "values": per candidate the list of its targets' true values,
            "targets": [names], "seeds": [...], "budget": 24, "batch_size": 3,
            "n_initial": 3}

Numeric columns become NumericalDiscreteParameter and text columns CategoricalParameter,
as in _baybe_campaign.py; the recommender and surrogate are BayBE's defaults for a Pareto
objective (random first batch, then its multi-output GP and hypervolume improvement).
"""

from __future__ import annotations

import json
import sys

import numpy as np
from _baybe_campaign import prepared, search_space
from baybe import Campaign
from baybe.objectives import ParetoObjective
from baybe.targets import NumericalTarget
from baybe.utils.random import set_random_seed


def main() -> None:
    spec = json.loads(open(sys.argv[1]).read())
    table, key = prepared(spec["candidates"])
    values = np.asarray(spec["values"], dtype=float)
    space = search_space(table, [], "onehot")
    names = spec["targets"]
    for seed in spec["seeds"]:
        set_random_seed(seed)
        objective = ParetoObjective([NumericalTarget(n) for n in names])
        campaign = Campaign(space, objective)
        chosen: list[int] = []
        cycle = 0
        while len(chosen) < spec["budget"]:
            cycle += 1
            k = min(spec["n_initial"] if cycle == 1 else spec["batch_size"],
                    spec["budget"] - len(chosen))
            picks = campaign.recommend(batch_size=k)
            ids = [key[tuple(row)] for row in picks[table.columns].itertuples(index=False,
                                                                              name=None)]
            picks = picks.copy()
            for j, name in enumerate(names):
                picks[name] = values[ids, j]
            campaign.add_measurements(picks)
            chosen += ids
        print(json.dumps({"seed": seed, "ids": chosen}), flush=True)


if __name__ == "__main__":
    main()
