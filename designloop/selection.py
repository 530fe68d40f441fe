"""Selection: turn acquisition scores into the indices of the candidates to run next."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch

from designloop.errors import InputError


def _as_generator(rng) -> np.random.Generator | None:
    if rng is None or isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def exclusion_mask(n: int, exclude: Iterable[int] | np.ndarray | torch.Tensor | None) -> np.ndarray:
    """Boolean mask `(n,)` that is True for excluded candidates.

    Args:
        n: number of candidates.
        exclude: indices, or a boolean mask of length n, or None.
    """
    mask = np.zeros(n, dtype=bool)
    if exclude is None:
        return mask
    ex = np.asarray(exclude.cpu() if isinstance(exclude, torch.Tensor) else list(exclude))
    if ex.dtype == bool:
        if ex.shape != (n,):
            raise InputError(f"exclude mask must have length {n}, got shape {ex.shape}")
        return ex.copy()
    if ex.size == 0:
        return mask
    ex = ex.astype(np.int64)
    if ex.min() < 0 or ex.max() >= n:
        outside = ex[(ex < 0) | (ex >= n)][:5].tolist()
        raise InputError(f"exclude holds indices outside 0..{n - 1}: {outside}")
    mask[ex] = True
    return mask


def top_k(
    scores,
    k: int,
    exclude: Iterable[int] | np.ndarray | torch.Tensor | None = None,
    rng: np.random.Generator | int | None = None,
) -> np.ndarray:
    """Indices of the k highest scores, best first.

    Args:
        scores: `(N,)` acquisition scores (torch tensor or array), higher = query first.
        k: how many to pick (>= 0).
        exclude: candidates that may not be picked (measured or pending), as indices or as a
            boolean mask `(N,)`.
        rng: `numpy.random.Generator` or seed that breaks ties between equal scores; with None
            ties go to the lower index.

    Returns:
        `(k,)` int64 array of candidate indices, in decreasing score.

    Raises:
        InputError: k is negative or larger than the number of candidates left, or a score is NaN.
    """
    s = scores.detach().cpu().numpy() if isinstance(scores, torch.Tensor) else np.asarray(scores)
    s = s.astype(np.float64, copy=False)
    if s.ndim != 1:
        raise InputError(f"scores must have shape (N,), got {s.shape}")
    n = s.shape[0]
    if isinstance(k, bool) or int(k) != k or k < 0:
        raise InputError(f"k must be a whole number >= 0, got {k!r}")
    k = int(k)
    excluded = exclusion_mask(n, exclude)
    available = np.flatnonzero(~excluded)
    if k > available.size:
        raise InputError(
            f"asked for {k} candidates but only {available.size} are left "
            f"({n} in all, {int(excluded.sum())} measured or pending); ask for at most "
            f"{available.size}"
        )
    vals = s[available]
    if np.isnan(vals).any():
        raise InputError(f"scores hold NaN at candidates {available[np.isnan(vals)][:5].tolist()}")
    gen = _as_generator(rng)
    order = gen.permutation(available.size) if gen is not None else np.arange(available.size)
    # stable sort of the (shuffled) candidates by decreasing score: ties keep the shuffled order
    best = order[np.argsort(-vals[order], kind="stable")[:k]]
    return available[best].astype(np.int64)
