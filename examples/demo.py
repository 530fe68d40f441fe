"""designloop's main job, end to end on real data: a reaction-optimisation campaign driven
through the command line.

The Buchwald-Hartwig table of Ahneman et al. (Science 2018) holds the measured yield of all
3955 combinations of ligand, additive, base and aryl halide (SMILES). In a temporary folder
the demo creates a campaign from the candidate columns only, then for 15 cycles asks
`designloop suggest` for 4 experiments, looks their yields up in the measured table (the
"lab"), and records them with `designloop observe`. At the end it compares the best yield
found with what random picks achieve under the same budget of 60 experiments.
"""

from __future__ import annotations

import contextlib
import io
import shlex
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from designloop.bench.datasets import load_dataset
from designloop.campaign.store import Store
from designloop.cli import main as cli

CYCLES, BATCH, SEED = 15, 4, 0


def designloop(*args: str, show: bool = True) -> None:
    """Run the designloop command line in this process, as a user would in a shell."""
    if show:
        print(f"\n$ designloop {shlex.join(args)}")
    sys.argv = ["designloop", *args]
    with contextlib.redirect_stdout(sys.stdout if show else io.StringIO()):
        try:
            cli()
        except SystemExit as exc:
            if exc.code:
                raise


def history_best(db: Path) -> float:
    """Best value logged so far, read straight from the campaign file."""
    store = Store(db)
    best = store.observations()["value"].astype(float).max()
    store.close()
    return best


def main() -> None:
    table, meta = load_dataset("buchwald_hartwig")
    target = meta.target
    print(f"Data: {meta.citation}.")
    top = table[target] >= table[target].quantile(0.99)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        table.drop(columns=[target]).to_csv(tmp / "candidates.csv", index=False)
        db, nxt = tmp / "lab.db", tmp / "next.csv"
        designloop("init", str(db), "--candidates", str(tmp / "candidates.csv"), "--target",
                   target, "--goal", "maximize", "--batch-size", str(BATCH), "--seed", str(SEED))
        start = time.perf_counter()
        for cycle in range(1, CYCLES + 1):
            show = cycle <= 2
            designloop("suggest", str(db), "-o", str(nxt), show=show)
            picks = pd.read_csv(nxt)
            picks[target] = table.loc[picks["candidate_id"], target].to_numpy()  # the "lab"
            picks.to_csv(nxt, index=False)
            designloop("observe", str(db), str(nxt), show=show)
            if not show:
                so_far = history_best(db)
                print(f"cycle {cycle:2d}: measured {picks[target].round(3).tolist()}, "
                      f"best so far {so_far:.3f}")
        elapsed = time.perf_counter() - start
        designloop("history", str(db), "-o", str(tmp / "history.csv"))
        history = pd.read_csv(tmp / "history.csv")
    measured = history.drop_duplicates("candidate_id")
    budget = len(measured)
    best = measured["measured_mean"].max()
    found_top = int(top[measured["candidate_id"]].sum())
    gen = np.random.default_rng(SEED)
    draws = np.array([gen.choice(len(table), budget, replace=False) for _ in range(2000)])
    random_best = table[target].to_numpy()[draws].max(1)
    random_top = top.to_numpy()[draws].sum(1)
    rank = int((table[target] > best).sum()) + 1
    print("\n=== Result after", budget, f"experiments ({CYCLES} cycles of {BATCH}, "
          f"{elapsed:.0f} s) out of {len(table)} candidates ===")
    print(f"designloop: best yield {best:.3f} (rank {rank} of {len(table)}), "
          f"{found_top} of the {int(top.sum())} top-1% reactions found")
    print(f"random picks (2000 repeats of {budget}): best yield {random_best.mean():.3f} "
          f"+- {random_best.std():.3f}, {random_top.mean():.2f} top-1% reactions found")
    beaten = (random_best < best).mean()
    print(f"designloop's best beats {100 * beaten:.1f}% of random campaigns of the same size; "
          f"encodings chosen: {', '.join(sorted(set(history['encoding'].dropna())))}")


if __name__ == "__main__":
    main()
