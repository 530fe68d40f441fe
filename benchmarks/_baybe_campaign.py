"""Runs BayBE's default campaign on a lookup table, seed after seed; prints one JSON line
per cycle with the rows BayBE picked.

Run by benchmarks/decisions.py with the Python of a separate environment that has BayBE
installed (BayBE is never a dependency of designloop):

    python _baybe_campaign.py spec.json

spec.json: {"candidates": CSV of the feature columns (row i = candidate i),
            "values": the candidates' true values in row order, "goal": "maximize" | "minimize",
            "smiles": [SMILES columns], "encoding": "default" | "onehot",
            "seeds": [...], "budget": 30, "batch_size": 3, "n_initial": 3}

Numeric columns become NumericalDiscreteParameter, SMILES columns SubstanceParameter (BayBE's
default encoding) or, with "onehot", CategoricalParameter, other text columns
CategoricalParameter; columns with a single value are left out; the search space holds
exactly the table's rows. The recommender,
surrogate and acquisition are BayBE's defaults (random first batch, then a GP with qLogEI).
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import pandas as pd
from baybe import Campaign
from baybe.parameters import (
    CategoricalParameter,
    NumericalDiscreteParameter,
    SubstanceParameter,
)
from baybe.searchspace import SearchSpace
from baybe.targets import NumericalTarget
from baybe.utils.random import set_random_seed


def search_space(table: pd.DataFrame, smiles: list[str], encoding: str) -> SearchSpace:
    parameters = []
    for col in table.columns:
        values = table[col].unique()
        if pd.api.types.is_numeric_dtype(table[col]):
            parameters.append(NumericalDiscreteParameter(name=col, values=sorted(values)))
        elif col in smiles and encoding == "default":
            parameters.append(SubstanceParameter(name=col, data={str(v): str(v) for v in values}))
        else:
            parameters.append(CategoricalParameter(name=col, values=[str(v) for v in values]))
    return SearchSpace.from_dataframe(table, parameters=parameters)


def prepared(path: str) -> tuple[pd.DataFrame, dict]:
    """The candidate table as BayBE gets it (columns with one value left out: they tell
    nothing apart, and BayBE needs two values per parameter; text as text) and the row of
    each candidate by its values, to read BayBE's recommendations back."""
    table = pd.read_csv(path)
    table = table[[c for c in table.columns if table[c].nunique() > 1]]
    for col in table.columns:
        if not pd.api.types.is_numeric_dtype(table[col]):
            table[col] = table[col].astype(str)
    key = {tuple(row): i for i, row in enumerate(table.itertuples(index=False, name=None))}
    return table, key


def main() -> None:
    spec = json.loads(open(sys.argv[1]).read())
    table, key = prepared(spec["candidates"])
    values = np.asarray(spec["values"], dtype=float)
    start = time.perf_counter()
    space = search_space(table, spec["smiles"], spec["encoding"])
    setup = time.perf_counter() - start
    minimize = spec["goal"] == "minimize"
    for seed in spec["seeds"]:
        set_random_seed(seed)
        campaign = Campaign(space, NumericalTarget("y", minimize=minimize).to_objective())
        measured = 0
        cycle = 0
        while measured < spec["budget"]:
            cycle += 1
            k = min(spec["n_initial"] if cycle == 1 else spec["batch_size"],
                    spec["budget"] - measured)
            begun = time.perf_counter()
            picks = campaign.recommend(batch_size=k)
            seconds = time.perf_counter() - begun
            ids = [key[tuple(row)] for row in picks[table.columns].itertuples(index=False,
                                                                              name=None)]
            picks = picks.copy()
            picks["y"] = values[ids]
            campaign.add_measurements(picks)
            measured += k
            print(json.dumps({"seed": seed, "cycle": cycle, "ids": ids,
                              "suggest_seconds": seconds, "setup_seconds": setup}), flush=True)


if __name__ == "__main__":
    main()
