"""Fit and predict time of every surrogate, with peak memory.

For n = 100, 1,000, 5,000 observations of a smooth 8-D function, prints the seconds to fit,
the seconds to predict a 100,000-row pool, and the peak resident memory of the process
that did it (each measurement runs in a fresh process, so peaks do not mix).

    python benchmarks/surrogates.py [--sizes 100,1000,5000] [--pool 100000] [--only gp,forest]
                                    [--timeout 900]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import platform
import resource
import time

import numpy as np
import torch

D = 8
CONFIGS = {
    "gp (matern)": ("gp", {}),
    "gp_classifier": ("gp_classifier", {}),
    "ensemble (regression)": ("ensemble", {"task": "regression"}),
    "ensemble (classification)": ("ensemble", {"task": "classification"}),
    "mc_dropout (regression)": ("mc_dropout", {"task": "regression"}),
    "forest (regression)": ("forest", {"task": "regression"}),
    "forest (classification)": ("forest", {"task": "classification"}),
}


def _problem(n: int, pool: int):
    gen = np.random.default_rng(0)
    X = gen.uniform(size=(n, D))
    weights = np.linspace(1.0, 0.2, D)
    f = np.sin(3 * X @ weights) + 0.5 * (X[:, 0] - X[:, 1]) ** 2
    y = f + 0.05 * gen.normal(size=n)
    return torch.from_numpy(X), torch.from_numpy(y), torch.from_numpy(gen.uniform(size=(pool, D)))


def _measure(label: str, n: int, pool: int, queue) -> None:
    import designloop as dl

    torch.set_num_threads(torch.get_num_threads())
    name, params = CONFIGS[label]
    X, y, P = _problem(n, pool)
    model = dl.SURROGATES[name](**params)
    if model.task == "classification":
        y = (y > y.median()).long()
    start = time.perf_counter()
    model.fit(X, y)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    model.predict(P)
    predict_s = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put((fit_s, predict_s, peak_mb))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--pool", type=int, default=100_000)
    parser.add_argument("--only", default="", help="comma-separated surrogate labels to run")
    parser.add_argument("--timeout", type=float, default=900.0,
                        help="seconds one measurement may take before it is reported as such")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    labels = [lab for lab in CONFIGS if not args.only or lab.split(" ")[0] in args.only.split(",")]
    print(f"# {platform.processor() or platform.machine()}, {mp.cpu_count()} cores, "
          f"torch {torch.__version__}, d = {D}, pool = {args.pool:,}")
    print(f"{'surrogate':28s} {'n':>6s} {'fit s':>9s} {'predict s':>10s} {'peak MB':>9s}")
    ctx = mp.get_context("spawn")
    for label in labels:
        for n in sizes:
            queue = ctx.Queue()
            proc = ctx.Process(target=_measure, args=(label, n, args.pool, queue))
            proc.start()
            proc.join(args.timeout)
            if proc.is_alive():
                proc.terminate()
                proc.join()
                print(f"{label:28s} {n:6d}   did not finish in {args.timeout:.0f} s", flush=True)
                continue
            if proc.exitcode != 0:
                print(f"{label:28s} {n:6d}   failed (exit {proc.exitcode})")
                continue
            fit_s, predict_s, peak = queue.get()
            print(f"{label:28s} {n:6d} {fit_s:9.2f} {predict_s:10.2f} {peak:9.0f}", flush=True)


if __name__ == "__main__":
    main()
