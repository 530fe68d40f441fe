"""Helpers shared by the examples: where figures go, and random-search baselines."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def output_dir() -> Path:
    """Folder for the examples' figures: $DESIGNLOOP_EXAMPLE_OUTPUT or the current folder."""
    path = Path(os.environ.get("DESIGNLOOP_EXAMPLE_OUTPUT", "."))
    path.mkdir(parents=True, exist_ok=True)
    return path


def random_best_so_far(values: np.ndarray, budget: int, repeats: int = 2000,
                       seed: int = 0) -> np.ndarray:
    """`(repeats, budget)` best-so-far curves of random picks without replacement."""
    gen = np.random.default_rng(seed)
    picks = np.stack([gen.choice(len(values), budget, replace=False) for _ in range(repeats)])
    return np.maximum.accumulate(values[picks], axis=1)


def _smoke() -> bool:
    return bool(os.environ.get("DESIGNLOOP_SMOKE_TEST"))


def seeds(n: int) -> int:
    """Seeds per strategy for a study: `n`, or 2 when $DESIGNLOOP_SMOKE_TEST is set (the test
    suite checks that each example runs to its conclusion without paying for the full
    study, as BoTorch's tutorials do with their SMOKE_TEST switch)."""
    return 2 if _smoke() else n


def budget(n: int) -> int:
    """Experiments per campaign in a study: `n`, or half of it under $DESIGNLOOP_SMOKE_TEST."""
    return n // 2 if _smoke() else n
