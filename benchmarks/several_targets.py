"""Several targets: how much of the trade-off between yield and turnover number a campaign
has found after 24 experiments. Regenerates docs/benchmarks-several-targets.md.

Reizman et al., React. Chem. Eng. 1, 658 (2016), case 1: 96 Suzuki couplings over 8
precatalysts, residence time, temperature and catalyst loading, each with its yield and
turnover number (rows with the same conditions merged by their mean, as in
benchmarks/decisions.py). Both are maximised. Batches of 3 to 24 experiments after 3
random ones, 20 seeds. Strategies:

- `default`: `Campaign(candidates, targets={"yld": "max", "ton": "max"})` (Pareto: one GP
  per target, expected hypervolume improvement exact on the pool, greedy batches);
- `desirability`: the same with `objective="desirability"` (no bounds: each target scaled by
  the range measured so far, equal weights);
- `random`: random picks without replacement (the same permutation per seed as the
  other benchmarks' random baseline);
- `baybe-pareto`: BayBE's campaign with a Pareto objective over the two targets (its
  defaults otherwise), in its own environment (benchmarks/.venv-baybe), when available.

Metric: the hypervolume the measured candidates' true values dominate, as a share of the
whole table's (reference point: the table's worst yield and turnover number), with 95%
t-intervals over seeds and the paired difference of each strategy from the default.

    python benchmarks/several_targets.py [--seeds 20] [--n-jobs 2] [--no-baybe]
        [--report-only] [--out docs/benchmarks-several-targets.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from _peers import baybe_python
from decisions import interval, parallel_runs

from designloop.bench.datasets import load_dataset
from designloop.bench.problems import problem_from_table
from designloop.bench.several import oriented_truth
from designloop.bench.simulate import run_campaign
from designloop.bench.strategies import Strategy
from designloop.campaign.objectives import hypervolume_of

HERE = Path(__file__).resolve().parent
TARGETS = {"yld": "maximize", "ton": "maximize"}
BUDGET, BATCH, N_INITIAL = 24, 3, 3
SAVED = HERE / "results" / "several_targets_reizman.csv"
STRATEGIES = {"default": Strategy("default"),
              "desirability": Strategy("desirability", options={"objective": "desirability"}),
              "random": None}  # random picks (see one_run)


def problem():
    table, _ = load_dataset("reizman_suzuki")  # both targets are in the bundled table
    features = [c for c in table.columns if c not in TARGETS]
    merged = table.groupby(features, sort=False, as_index=False)[list(TARGETS)].mean()
    return problem_from_table(merged, targets=TARGETS, name="reizman_two_objectives")


def one_run(name: str, seed: int) -> dict:
    torch.set_num_threads(1)  # runs are parallel already
    prob = problem()
    if name == "random":  # random picks without replacement, no model
        truth = oriented_truth(prob)
        ids = np.random.default_rng([seed, 7919]).permutation(len(truth))[:BUDGET]
        share = hypervolume_of(truth[ids], truth.min(0)) / hypervolume_of(truth, truth.min(0))
        return {"strategy": name, "seed": seed, "hv_fraction": share}
    rows = run_campaign(prob, STRATEGIES[name], seed, BUDGET, BATCH, N_INITIAL)
    return {"strategy": name, "seed": seed, "hv_fraction": rows[-1]["hv_fraction"]}


def baybe_runs(seeds: list[int]) -> list[dict]:
    """BayBE's Pareto campaign on the same table and seeds (its own process)."""
    prob = problem()
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "candidates.csv"
        prob.candidates.to_csv(csv, index=False)
        spec = {"candidates": str(csv), "values": prob.values.tolist(),
                "targets": list(TARGETS), "seeds": seeds, "budget": BUDGET,
                "batch_size": BATCH, "n_initial": N_INITIAL}
        (Path(tmp) / "spec.json").write_text(json.dumps(spec))
        env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        out = subprocess.run([baybe_python(), str(HERE / "_baybe_pareto.py"),
                              str(Path(tmp) / "spec.json")], capture_output=True, text=True,
                             env=env)
    if out.returncode != 0:
        raise RuntimeError(f"BayBE failed: {out.stderr[-2000:]}")
    truth = oriented_truth(prob)
    ref, whole = truth.min(0), hypervolume_of(truth, truth.min(0))
    rows = []
    for line in out.stdout.splitlines():
        if line.startswith("{"):
            rec = json.loads(line)
            reached = hypervolume_of(truth[np.unique(rec["ids"])], ref)
            rows.append({"strategy": "baybe-pareto", "seed": rec["seed"],
                         "hv_fraction": reached / whole})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--no-baybe", action="store_true")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--out", default="docs/benchmarks-several-targets.md")
    args = parser.parse_args()
    if args.report_only:
        results = pd.read_csv(SAVED)
    else:
        jobs = [(name, seed) for seed in range(args.seeds) for name in STRATEGIES]
        rows = parallel_runs(one_run, jobs, args.n_jobs)
        if not args.no_baybe:
            rows += baybe_runs(list(range(args.seeds)))
        results = pd.DataFrame(rows)
        results.to_csv(SAVED, index=False)
    Path(args.out).write_text(page(results))
    print(Path(args.out).read_text())


def page(results: pd.DataFrame) -> str:
    prob = problem()
    lines = [
        "# Benchmarks: several targets", "",
        "Generated by `python benchmarks/several_targets.py`; do not edit by hand. Reizman "
        f"et al. (2016), case 1: {len(prob.candidates)} Suzuki couplings (replicates "
        "merged), yield and turnover number both maximised. Batches of 3 to 24 experiments "
        "after 3 random ones. The share of the whole table's hypervolume that the measured "
        "couplings dominate (reference: the table's worst yield and turnover number), mean "
        "and 95% t-interval over seeds; paired: minus the default on the same seeds. "
        "`default` is `Campaign(candidates, targets={'yld': 'max', 'ton': 'max'})` (Pareto), "
        "`desirability` the same with `objective='desirability'`, `random` random picks, "
        "`baybe-pareto` BayBE's campaign with a Pareto objective.", "",
        f"Machine: {platform.machine()}, torch {torch.__version__}.", "",
        "| strategy | hypervolume share by 24 | minus default (paired) | seeds |",
        "|---|---|---|---|"]
    base = results[results.strategy == "default"].set_index("seed")["hv_fraction"]
    for name in [*STRATEGIES, "baybe-pareto"]:
        part = results[results.strategy == name].set_index("seed")["hv_fraction"]
        if part.empty:
            continue
        m, lo, hi = interval(part)
        d = interval((part - base).dropna()) if name != "default" else None
        paired = f"{d[0]:+.3f} [{d[1]:+.3f}, {d[2]:+.3f}]" if d else ""
        lines.append(f"| {name} | {m:.3f} [{lo:.3f}, {hi:.3f}] | {paired} | {len(part)} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
