"""Seconds a scientist waits for one lab cycle, through the command line and from Python.

On the bundled Buchwald-Hartwig (3,955 reactions, 4 SMILES columns) and Suzuki-Miyaura
(5,760 reactions, 6 SMILES columns) tables, with --results measured reactions (24 and 200
by default, the first of them chosen at random with seed 0), one run times:
- `python -c "import torch, botorch"`, the floor any PyTorch tool pays per process;
- `designloop init`, `designloop observe` and `designloop suggest -n 3` as whole processes
  (a fresh campaign file each time; `suggest` twice: the first after `observe`, and the
  next cycle's once the first suggestions' results are observed, which reads the cached
  features and starts its GP fit from the logged hyper-parameters);
- `Campaign.suggest(3)` in a warm Python process, each call a lab cycle after the last
  picks' results (median of 3);
- BayBE's default `Campaign.recommend(batch_size=3)` on the same results, in a warm process
  of its own environment (benchmarks/.venv-baybe, as decisions.py runs it), unless
  --no-baybe.
With --busy the same runs again while a CPU-bound process holds one core.

    python benchmarks/cycle_latency.py [--tables buchwald_hartwig,suzuki_miyaura]
                                       [--results 24,200] [--busy] [--repeats 3]
                                       [--no-baybe] [--out docs/latency.md]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from designloop.bench.datasets import load_dataset

HERE = Path(__file__).resolve().parent

CLI = [sys.executable, "-m", "designloop.cli"]


def _spin() -> None:  # a CPU-bound neighbour
    while True:
        pass


def seconds(args: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{args} failed: {proc.stderr[-2000:]}")
    return time.perf_counter() - start


def files(table_name: str, n_results: int, folder: Path) -> tuple[Path, Path, str]:
    table, meta = load_dataset(table_name)
    candidates = table.drop(columns=[meta.target])
    candidates.to_csv(folder / "candidates.csv", index=False)
    picks = np.random.default_rng(0).choice(len(table), n_results, replace=False)
    results = table.iloc[np.sort(picks)]
    results.to_csv(folder / "results.csv", index=False)
    return folder / "candidates.csv", folder / "results.csv", meta.target


def cli_times(table_name: str, n_results: int, repeats: int) -> dict[str, float]:
    """init, observe, the first suggest, and the next cycle's suggest (after the first
    suggestions' results are observed: it reads the cached features and starts its fit from
    the logged hyper-parameters), each a whole process."""
    table, meta = load_dataset(table_name)
    times: dict[str, list[float]] = {"init": [], "observe": [], "suggest": [],
                                     "suggest next": []}
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            candidates, results, target = files(table_name, n_results, folder)
            db, picks = str(folder / "lab.db"), folder / "next.csv"
            times["init"].append(seconds([*CLI, "init", db, "-c", str(candidates), "-t", target,
                                          "--goal", "maximize"]))
            times["observe"].append(seconds([*CLI, "observe", db, str(results)]))
            times["suggest"].append(seconds([*CLI, "suggest", db, "-n", "3", "-o", str(picks)]))
            ids = pd.read_csv(picks)["candidate_id"].to_numpy()
            pd.DataFrame({"candidate_id": ids, target: table[meta.target].to_numpy()[ids]}
                         ).to_csv(folder / "measured.csv", index=False)
            seconds([*CLI, "observe", db, str(folder / "measured.csv")])
            times["suggest next"].append(seconds([*CLI, "suggest", db, "-n", "3"]))
    return {key: float(np.median(v)) for key, v in times.items()}


def python_time(table_name: str, n_results: int, repeats: int) -> float:
    code = f"""
import time, numpy as np, pandas as pd, designloop as dl
from designloop.bench.datasets import load_dataset
table, meta = load_dataset({table_name!r})
picks = np.sort(np.random.default_rng(0).choice(len(table), {n_results}, replace=False))
known = pd.Series(np.nan, index=table.index)
known.iloc[picks] = table[meta.target].iloc[picks]
c = dl.Campaign(table.assign(**{{meta.target: known}}), target=meta.target, goal="maximize")
truth = table[meta.target].to_numpy()
ids = c.suggest(3)["candidate_id"].to_numpy()
times = []
for _ in range({repeats}):  # each a lab cycle: the last picks' results, then new picks
    c.observe(pd.DataFrame({{"candidate_id": ids, meta.target: truth[ids]}}))
    t = time.perf_counter(); ids = c.suggest(3)["candidate_id"].to_numpy()
    times.append(time.perf_counter() - t)
print(float(np.median(times)))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    return float(proc.stdout.strip().splitlines()[-1])


def baybe_time(table_name: str, n_results: int, repeats: int) -> float:
    """BayBE's warm `recommend(batch_size=3)` on the same results (see _baybe_latency.py)."""
    from _peers import baybe_python

    from designloop.features.encoding import Encoder

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        candidates, results, target = files(table_name, n_results, folder)
        table = pd.read_csv(candidates)
        smiles = Encoder().fit(table, list(table.columns)).smiles_columns
        measured = pd.read_csv(results).rename(columns={target: "y"})
        for frame, path in ((table, candidates), (measured, results)):
            for col in smiles:  # BayBE needs a molecule in every cell, as in decisions.py
                frame[col] = frame[col].astype(str).replace({"none": "[H][H]"})
            frame.to_csv(path, index=False)
        spec = folder / "spec.json"
        spec.write_text(json.dumps({"candidates": str(candidates), "results": str(results),
                                    "smiles": smiles, "repeats": repeats}))
        proc = subprocess.run([baybe_python(), str(HERE / "_baybe_latency.py"), str(spec)],
                              capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"BayBE on {table_name} failed: {proc.stderr[-2000:]}")
    return float(json.loads(proc.stdout.strip().splitlines()[-1])["recommend_seconds"])


def run(tables: list[str], counts: list[int], repeats: int, label: str, lines: list[str],
        baybe: bool = True) -> None:
    floor = float(np.median([seconds([sys.executable, "-c", "import torch, botorch"])
                             for _ in range(repeats)]))
    emit(lines, f"# {label}: python -c 'import torch, botorch' takes {floor:.2f} s")
    emit(lines, f"{'table':18s} {'results':>7s} {'init':>6s} {'observe':>7s} {'suggest':>7s} "
                f"{'next':>6s} {'python':>6s} {'next - import':>13s} {'BayBE':>6s}")
    for name in tables:
        for n in counts:
            cli = cli_times(name, n, repeats)
            warm = python_time(name, n, repeats)
            peer = f"{baybe_time(name, n, repeats):6.2f}" if baybe else f"{'-':>6s}"
            emit(lines, f"{name:18s} {n:7d} {cli['init']:6.2f} {cli['observe']:7.2f} "
                        f"{cli['suggest']:7.2f} {cli['suggest next']:6.2f} {warm:6.2f} "
                        f"{cli['suggest next'] - floor:13.2f} {peer}")


def emit(lines: list[str], line: str) -> None:
    print(line, flush=True)
    lines.append(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tables", default="buchwald_hartwig,suzuki_miyaura")
    parser.add_argument("--results", default="24,200")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--busy", action="store_true",
                        help="also time with a CPU-bound process holding one core")
    parser.add_argument("--no-baybe", action="store_true",
                        help="leave out BayBE's recommend (its environment is made on first use)")
    parser.add_argument("--out", default=None, help="also write the table to this Markdown file")
    args = parser.parse_args()
    tables = [t for t in args.tables.split(",") if t]
    counts = [int(n) for n in args.results.split(",") if n]
    lines: list[str] = []
    emit(lines, f"# {platform.machine()}, {mp.cpu_count()} cores; seconds are medians of "
                f"{args.repeats} whole processes (CLI) or calls (python, a warm process); "
                "'next' is the suggest of the next cycle, once the first suggestions' results "
                "are observed: it reads the cached features and starts its GP fit where the "
                "last one ended; 'python' times such cycles in a warm process")
    run(tables, counts, args.repeats, "idle", lines, not args.no_baybe)
    if args.busy:
        neighbour = mp.Process(target=_spin, daemon=True)
        neighbour.start()
        try:
            run(tables, counts, args.repeats, "one core busy", lines, not args.no_baybe)
        finally:
            neighbour.terminate()
    if args.out:
        command = " ".join(["python benchmarks/cycle_latency.py", *sys.argv[1:]])
        Path(args.out).write_text(
            "# Lab-cycle latency\n\nGenerated by `" + command + "`; do not edit by hand. "
            "The seconds a scientist waits for one cycle: `designloop init`, `observe` and "
            "`suggest -n 3` as whole processes (a new process each, as in a terminal), and "
            "`Campaign.suggest(3)` in a warm Python process, each after the last three "
            "suggestions' results came in; beside them BayBE's default "
            "`recommend(batch_size=3)` on the same results in a warm process of its own "
            "environment. The targets: init and observe "
            "within 1 s, suggest within 1 s of `import torch, botorch`, a warm suggest within "
            "0.5 s at 24 results and 1.5 s at 200.\n\n```\n" + "\n".join(lines) + "\n```\n")


if __name__ == "__main__":
    pd.set_option("display.width", 200)
    main()
