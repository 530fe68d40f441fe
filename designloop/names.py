"""The names of designloop's settings, readable without the numerical libraries (the
campaign configuration checks a stored file against them without importing PyTorch)."""

from __future__ import annotations

SELECTIONS = ("auto", "top_k", "greedy", "kriging_believer", "qlognei", "qucb", "batch_bald",
              "diverse", "density")
INITIAL_DESIGNS = ("random", "maximin", "kmeans")
