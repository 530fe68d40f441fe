"""Times BayBE's Campaign.recommend on the pool and observations given as CSV files.

Run by benchmarks/suggest_speed.py with the Python of a separate environment that has
BayBE installed (BayBE is never a dependency of designloop). Prints one JSON line per k.
"""

from __future__ import annotations

import json
import sys
import time

import pandas as pd
from baybe import Campaign
from baybe.searchspace import SearchSpace, SubspaceDiscrete
from baybe.targets import NumericalTarget


def main() -> None:
    pool_csv, observed_csv, ks = sys.argv[1], sys.argv[2], [int(k) for k in sys.argv[3:]]
    pool = pd.read_csv(pool_csv)
    observed = pd.read_csv(observed_csv)
    start = time.perf_counter()
    searchspace = SearchSpace(discrete=SubspaceDiscrete.from_dataframe(pool))
    setup_s = time.perf_counter() - start
    warm = Campaign(searchspace, NumericalTarget("y", minimize=True).to_objective())
    warm.add_measurements(observed)
    warm.recommend(batch_size=1)  # warm-up: first-call imports are not timed
    for k in ks:
        campaign = Campaign(searchspace, NumericalTarget("y", minimize=True).to_objective())
        campaign.add_measurements(observed)
        start = time.perf_counter()
        picks = campaign.recommend(batch_size=k)
        seconds = time.perf_counter() - start
        print(json.dumps({"k": k, "seconds": seconds, "setup_seconds": setup_s,
                          "picks": picks.index.tolist()}), flush=True)


if __name__ == "__main__":
    main()
