"""Seconds to suggest the next experiments from large pools, against BoTorch and BayBE.

On the same data (Hartmann6 pool of N uniform random points, n = 50 observations,
d = 6, GP fit included in every time), one run times:
- designloop `Campaign.suggest(k)` for k = 1, 5, 96 (default settings: GP + log EI, greedy
  conditioning for batches);
- BoTorch `optimize_acqf_discrete` with qLogNoisyExpectedImprovement (k = 1, 5) and with
  the posterior standard deviation (k = 1);
- BayBE `Campaign.recommend` (k = 1, 5) in its own environment (created by this script
  with `python -m venv` + `pip install torch==2.13.0 baybe` unless --baybe-python is
  given; BayBE is never a dependency of designloop);
and, with --million, designloop's max-variance scoring over N = 1,000,000 with
n = 1,000 observations against the arithmetic bound n^2 N / (measured matmul rate).
Every measurement runs in a fresh process and reports that process's peak memory. The
batch quality column is the qLogNEI value of each k = 5 batch under one common model.

    python benchmarks/suggest_speed.py [--sizes 1000,10000,100000] [--million]
                                       [--baybe-python PATH | --no-baybe]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _peers import baybe_python

HERE = Path(__file__).resolve().parent
N_OBS, D = 50, 6
REPEATS = 3  # designloop's suggestions take well under a second: median of 3


def data(n_pool: int, n_obs: int = N_OBS, seed: int = 0):
    import pandas as pd
    import torch
    from botorch.test_functions import Hartmann

    gen = torch.Generator().manual_seed(seed)
    X = torch.rand(n_pool, D, generator=gen, dtype=torch.float64)
    y = Hartmann(dim=D).evaluate_true(X[:n_obs])
    pool = pd.DataFrame(X.numpy(), columns=[f"x{i}" for i in range(D)])
    return X, y, pool


def machine() -> str:
    """CPU model, cores and memory of this machine, in words."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 2**20:.0f} GiB memory"
    except (OSError, ValueError, IndexError):
        memory = ""
    return f"{cpu}, {mp.cpu_count()} cores{memory}"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_designloop(n_pool: int, ks, queue) -> None:
    import pandas as pd

    import designloop as dl

    _, y, pool = data(n_pool)
    campaign = dl.Campaign(pool, target="y", goal="minimize", seed=0)
    campaign.observe(pd.DataFrame({"candidate_id": range(N_OBS), "y": y.numpy()}))
    campaign.suggest(1)  # warm-up: first-call imports and allocations are not timed
    campaign.release()
    out = {}
    for k in ks:
        seconds = []
        for _ in range(REPEATS):  # the same picks each time; the median time is reported
            start = time.perf_counter()
            picks = campaign.suggest(k)
            seconds.append(time.perf_counter() - start)
            campaign.release()
        out[k] = (float(np.median(seconds)), picks["candidate_id"].tolist())
    queue.put((out, _peak_mb()))


def run_botorch(n_pool: int, ks, queue) -> None:
    import torch
    from botorch.acquisition import PosteriorStandardDeviation
    from botorch.acquisition.logei import qLogNoisyExpectedImprovement
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from botorch.optim import optimize_acqf_discrete
    from gpytorch.mlls import ExactMarginalLogLikelihood

    X, y, _ = data(n_pool)
    out = {}

    def fit():
        model = SingleTaskGP(X[:N_OBS], -y[:, None])  # BoTorch maximises
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
        return model

    fit()  # warm-up
    for k in ks:
        start = time.perf_counter()
        model = fit()
        acq = qLogNoisyExpectedImprovement(model, X_baseline=X[:N_OBS])
        chosen, _ = optimize_acqf_discrete(acq, q=k, choices=X[N_OBS:], max_batch_size=2048)
        seconds = time.perf_counter() - start
        ids = (torch.cdist(chosen, X).argmin(1)).tolist()
        out[f"qlognei-{k}"] = (seconds, ids)
    start = time.perf_counter()
    model = fit()
    chosen, _ = optimize_acqf_discrete(PosteriorStandardDeviation(model), q=1,
                                       choices=X[N_OBS:], max_batch_size=2048)
    out["variance-1"] = (time.perf_counter() - start, torch.cdist(chosen, X).argmin(1).tolist())
    queue.put((out, _peak_mb()))


def run_million(queue) -> None:
    import torch

    import designloop as dl
    from designloop.batch.greedy import greedy_conditional

    n_obs, n_pool = 1000, 1_000_000
    X, y, _ = data(n_pool, n_obs=n_obs)
    a = torch.rand(2000, 2000, dtype=torch.float64)
    a @ a

    def matmul_rate() -> float:
        start = time.perf_counter()
        for _ in range(5):
            a @ a
        return 5 * 2 * 2000**3 / (time.perf_counter() - start)

    rate = matmul_rate()
    start = time.perf_counter()
    gp = dl.GPRegressor().fit(X[:n_obs], y)
    fit_s = time.perf_counter() - start
    max_variance = dl.ACQUISITIONS["max_variance"]
    full, screened = [], {1: [], 5: []}
    for _ in range(REPEATS):
        start = time.perf_counter()  # every candidate's variance, then the best one
        pick = dl.top_k(max_variance(gp.predict(X)), 1)
        full.append(time.perf_counter() - start)
        for k in screened:
            gp.cache_.pop("screen", None)  # each suggestion builds its screening factors
            start = time.perf_counter()
            picks, _ = greedy_conditional(gp, X, k, max_variance)
            screened[k].append(time.perf_counter() - start)
            if k == 1 and picks.tolist() != pick.tolist():
                raise AssertionError(f"screening picked {picks} instead of {pick}")
    rate = max(rate, matmul_rate())  # the faster rate: the stricter bound
    queue.put(({"fit": fit_s, "score": float(np.median(full)), "rate": rate,
                "screen": {k: float(np.median(v)) for k, v in screened.items()},
                "bound": n_obs**2 * n_pool / rate}, _peak_mb()))


def in_process(target, *args):
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def run_baybe(python: str, n_pool: int, ks):
    _, y, pool = data(n_pool)
    with tempfile.TemporaryDirectory() as tmp:
        pool_csv, obs_csv = Path(tmp) / "pool.csv", Path(tmp) / "obs.csv"
        pool.to_csv(pool_csv, index=False)
        observed = pool.iloc[:N_OBS].copy()
        observed["y"] = y.numpy()
        observed.to_csv(obs_csv, index=False)
        cmd = ["/usr/bin/time", "-f", "%M", python, str(HERE / "_baybe_worker.py"),
               str(pool_csv), str(obs_csv), *map(str, ks)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    peak = float(proc.stderr.strip().splitlines()[-1]) / 1024
    return {r["k"]: (r["seconds"], r["picks"]) for r in rows}, peak


def batch_quality(n_pool: int, batches: dict) -> dict:
    """Per batch: its qLogNEI under one reference model, BoTorch's default SingleTaskGP
    (higher is better; the model BoTorch's own batch is chosen with), and the lowest true
    Hartmann6 value in it (lower is better)."""
    import torch
    from botorch.acquisition.logei import qLogNoisyExpectedImprovement
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from botorch.sampling import SobolQMCNormalSampler
    from botorch.test_functions import Hartmann
    from gpytorch.mlls import ExactMarginalLogLikelihood

    X, y, _ = data(n_pool)
    torch.manual_seed(0)
    model = SingleTaskGP(X[:N_OBS], -y[:, None])
    fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
    acq = qLogNoisyExpectedImprovement(model, X_baseline=X[:N_OBS],
                                       sampler=SobolQMCNormalSampler(torch.Size([4096]), seed=0))
    truth = Hartmann(dim=D).evaluate_true
    with torch.no_grad():
        return {name: (float(acq(X[ids][None])), float(truth(X[ids]).min()))
                for name, ids in batches.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--million", action="store_true")
    parser.add_argument("--baybe-python", default=None)
    parser.add_argument("--no-baybe", action="store_true")
    parser.add_argument("--out", default=None, help="also write the table to this Markdown file")
    args = parser.parse_args()
    import torch

    lines: list[str] = []

    def emit(text: str) -> None:
        """Print a line of the table and keep it for --out."""
        lines.append(text)
        print(text, flush=True)

    emit(f"# {machine()}, torch {torch.__version__}, float64")
    emit(f"# Hartmann6 pool, n = {N_OBS} observations, d = {D}; seconds include the GP fit; "
         "x designloop = seconds / designloop's seconds for the same k")
    python = None if args.no_baybe else baybe_python(args.baybe_python)
    emit("# k = 5 batches: qLogNEI under BoTorch's default GP (the model BoTorch's batch is "
         "chosen with; higher is better) and the lowest true Hartmann6 value in the batch "
         "(optimum -3.32)")
    emit(f"# designloop: median of {REPEATS} runs; BoTorch and BayBE: one run each after a "
         "warm-up")
    emit(f"{'N':>8s} {'method':28s} {'seconds':>9s} {'peak MB':>8s} {'x designloop':>13s} "
         f"{'qLogNEI':>8s} {'best y':>7s}")
    seconds_of: dict[tuple[int, str], float] = {}
    quality_of: dict[int, dict] = {}
    for n_pool in [int(s) for s in args.sizes.split(",")]:
        dl_out, dl_peak = in_process(run_designloop, n_pool, (1, 5, 96))
        bt_out, bt_peak = in_process(run_botorch, n_pool, (1, 5))
        rows = [(f"designloop suggest k={k}", *dl_out[k], dl_peak) for k in (1, 5, 96)]
        rows += [(f"botorch qLogNEI k={k}", *bt_out[f"qlognei-{k}"], bt_peak) for k in (1, 5)]
        rows.append(("botorch posterior sd k=1", *bt_out["variance-1"], bt_peak))
        if python:
            by_out, by_peak = run_baybe(python, n_pool, (1, 5))
            rows += [(f"baybe recommend k={k}", *by_out[k], by_peak) for k in (1, 5)]
        quality = quality_of[n_pool] = batch_quality(
            n_pool, {r[0]: r[2] for r in rows if "k=5" in r[0]})
        reference = {1: dl_out[1][0], 5: dl_out[5][0], 96: dl_out[96][0]}
        for name, seconds, _ids, peak in rows:
            k = int(name.rsplit("=", 1)[1])
            ratio = seconds / reference[k]
            q = f"{quality[name][0]:8.3f} {quality[name][1]:7.3f}" if name in quality else ""
            emit(f"{n_pool:8d} {name:28s} {seconds:9.2f} {peak:8.0f} {ratio:13.1f} {q}")
            seconds_of[n_pool, name] = seconds
    summary = summary_lines(seconds_of, quality_of)
    million = None
    if args.million:
        out, peak = in_process(run_million)
        emit(f"\n# max-variance over N = 1,000,000 with n = 1,000: GP fit {out['fit']:.1f} s "
             "(not in the times below); bound n^2 N / rate = "
             f"{out['bound']:.2f} s at the measured matmul rate {out['rate'] / 1e9:.0f} GFLOP/s")
        emit(f"{'method':58s} {'seconds':>8s} {'x bound':>8s}")
        emit(f"{'every candidate predicted, then the best (GPRegressor.predict)':58s} "
             f"{out['score']:8.2f} {out['score'] / out['bound']:8.2f}")
        for k, seconds in out["screen"].items():
            label = f"screened greedy, k = {k}" + (" (the same pick as above)" if k == 1 else "")
            emit(f"{label:58s} "
                 f"{seconds:8.2f} {seconds / out['bound']:8.2f}")
        emit(f"# peak memory {peak:.0f} MB")
        million = (out["score"] / out["bound"], out["screen"][1] / out["bound"], peak)
    summary += million_lines(million)
    for line in summary:
        print(line)
    if args.out:
        body = "\n".join(lines)
        Path(args.out).write_text(
            "# Performance\n\nGenerated by `python benchmarks/suggest_speed.py "
            f"{' '.join(sys.argv[1:])}`; do not edit by hand.\n\n```\n{body}\n```\n\n"
            "## Against the targets\n\n" + "\n".join(f"- {line}" for line in summary) + "\n")


def summary_lines(seconds_of: dict, quality_of: dict) -> list[str]:
    """The speed targets, checked on the largest pool measured (`quality_of[N]`: the k = 5
    batches' quality)."""
    if not seconds_of:
        return []
    n = max(size for size, _ in seconds_of)
    quality = quality_of[n]
    dl1, dl5 = seconds_of[n, "designloop suggest k=1"], seconds_of[n, "designloop suggest k=5"]
    dl96 = seconds_of[n, "designloop suggest k=96"]
    out = []
    baybe = seconds_of.get((n, "baybe recommend k=5"))
    if baybe is not None:
        out.append(f"N = {n:,}, k = 5: BayBE takes {baybe / dl5:.0f}x designloop's time "
                   f"(target at least 100x): {'met' if baybe / dl5 >= 100 else 'not met'}.")
    botorch = seconds_of[n, "botorch qLogNEI k=5"]
    out.append(f"N = {n:,}, k = 5: BoTorch's qLogNEI batch takes {botorch / dl5:.0f}x "
               f"designloop's time (target at least 30x): "
               f"{'met' if botorch / dl5 >= 30 else 'not met'}.")
    ours, theirs = quality["designloop suggest k=5"], quality["botorch qLogNEI k=5"]
    line = (f"N = {n:,}, k = 5 batch quality: qLogNEI {ours[0]:.3f} for designloop against "
            f"{theirs[0]:.3f} for BoTorch under BoTorch's own model; best true value in the "
            f"batch {ours[1]:.3f} against {theirs[1]:.3f} (lower is better)")
    if "baybe recommend k=5" in quality:
        line += (f"; BayBE {quality['baybe recommend k=5'][0]:.3f} and "
                 f"{quality['baybe recommend k=5'][1]:.3f}")
    out.append(line + ".")
    out.append(f"N = {n:,}: a batch of 96 costs {dl96 / dl1:.2f}x a single suggestion (target "
               f"at most 3x): {'met' if dl96 / dl1 <= 3 else 'not met'}.")
    return out


def million_lines(million) -> list[str]:
    if million is None:
        return []
    full, screened, peak = million
    return [f"N = 1,000,000, n = 1,000, max-variance with every candidate's variance computed: "
            f"{full:.2f}x the arithmetic bound (target at most 1.5x): "
            f"{'met' if full <= 1.5 else 'not met'}. The same pick by screening (exact; "
            f"variances computed only where they can win): {screened:.2f}x the bound. Peak "
            f"memory {peak:.0f} MB (target under 2 GB): {'met' if peak < 2048 else 'not met'}."]


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
