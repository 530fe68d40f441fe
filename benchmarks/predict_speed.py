"""Seconds to predict a whole pool against the seconds of one suggestion from it.

On a Hartmann6 pool of N uniform random points with n measured (100,000 and 200 by
default), in one process, --repeats lab cycles: the last five picks' results come in,
`Campaign.suggest(5)` fits and picks, and `Campaign.predict()` then gives every candidate
its mean, sd, conformal 90% interval, chance of beating the best and extrapolation flag (on
the data the suggestion was fitted to, its model is reused, not fitted again). Medians. The
target: predict within 2x one suggest.

    python benchmarks/predict_speed.py [--pool 100000] [--observed 200] [--repeats 3]
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import pandas as pd
import torch
from botorch.test_functions import Hartmann

import designloop as dl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pool", type=int, default=100_000)
    parser.add_argument("--observed", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    gen = torch.Generator().manual_seed(0)
    X = torch.rand(args.pool, 6, generator=gen, dtype=torch.float64)
    y = Hartmann(dim=6).evaluate_true(X).numpy()
    pool = pd.DataFrame(X.numpy(), columns=[f"x{i}" for i in range(6)])
    campaign = dl.Campaign(pool, target="y", goal="minimize", seed=0)
    campaign.observe(pd.DataFrame({"candidate_id": range(args.observed),
                                   "y": y[: args.observed]}))
    picks = campaign.suggest(5)["candidate_id"].to_numpy()
    suggest, predict = [], []
    for _ in range(args.repeats):  # a lab cycle: the last picks' results, then new picks
        campaign.observe(pd.DataFrame({"candidate_id": picks, "y": y[picks]}))
        start = time.perf_counter()
        picks = campaign.suggest(5)["candidate_id"].to_numpy()
        suggest.append(time.perf_counter() - start)
        start = time.perf_counter()  # what the model now says about every candidate
        table = campaign.predict()
        predict.append(time.perf_counter() - start)
    s, p = float(np.median(suggest)), float(np.median(predict))
    print(f"# {platform.machine()}, torch {torch.__version__}; Hartmann6, N = {args.pool:,}, "
          f"n = {args.observed}; medians of {args.repeats}")
    print(f"suggest(5): {s:.2f} s; predict (every candidate, {len(table):,} rows, "
          f"{table.shape[1]} columns): {p:.2f} s; predict / suggest = {p / s:.2f} "
          f"(target at most 2)")


if __name__ == "__main__":
    main()
