"""Times BayBE's default `Campaign.recommend(batch_size=3)` on a lookup table with some
results already measured, in a warm process; prints one JSON line.

Run by benchmarks/cycle_latency.py with the Python of a separate environment that has BayBE
installed (BayBE is never a dependency of designloop):

    python _baybe_latency.py spec.json

spec.json: {"candidates": CSV of the feature columns, "results": CSV of the same columns plus
            "y" (the measured rows), "smiles": [SMILES columns], "repeats": 3}

The search space is the one benchmarks/decisions.py gives BayBE (SMILES as its default
substance encoding); building it (the descriptors) is reported apart and not in the time of
a recommendation. A first recommendation warms the process up and is not timed.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

import pandas as pd
from _baybe_campaign import prepared, search_space
from baybe import Campaign
from baybe.targets import NumericalTarget


def main() -> None:
    spec = json.loads(open(sys.argv[1]).read())
    table, _ = prepared(spec["candidates"])
    results = pd.read_csv(spec["results"])
    for col in table.columns:
        if not pd.api.types.is_numeric_dtype(table[col]):
            results[col] = results[col].astype(str)
    start = time.perf_counter()
    space = search_space(table, spec["smiles"], "default")
    setup = time.perf_counter() - start
    times = []
    for attempt in range(spec["repeats"] + 1):
        campaign = Campaign(space, NumericalTarget("y").to_objective())
        campaign.add_measurements(results[[*table.columns, "y"]])
        begun = time.perf_counter()
        campaign.recommend(batch_size=3)
        if attempt:  # the first one warms the process up
            times.append(time.perf_counter() - begun)
    print(json.dumps({"recommend_seconds": statistics.median(times),
                      "setup_seconds": setup}), flush=True)


if __name__ == "__main__":
    main()
