"""Selection: turn acquisition scores into the indices of the candidates to run next."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch

from designloop.errors import InputError


def as_generator(rng) -> np.random.Generator | None:
    """`rng` as a numpy Generator: a Generator or None as it is, anything else as a seed."""
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
    if isinstance(exclude, torch.Tensor):
        ex = exclude.cpu().numpy()
    elif isinstance(exclude, np.ndarray):
        ex = exclude
    else:
        ex = np.asarray(list(exclude))
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


def check_k(k, excluded: np.ndarray) -> int:
    """`k` as an int, after checking it is a whole number no larger than what is left.

    Args:
        k: how many candidates are asked for.
        excluded: `(N,)` boolean mask of candidates that may not be picked.
    """
    if isinstance(k, bool) or int(k) != k or k < 0:
        raise InputError(f"k must be a whole number >= 0, got {k!r}")
    available = int((~excluded).sum())
    if k > available:
        raise InputError(
            f"asked for {int(k)} candidates but only {available} are left "
            f"({excluded.size} in all, {int(excluded.sum())} measured or pending); ask for at "
            f"most {available}"
        )
    return int(k)


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
    excluded = exclusion_mask(s.shape[0], exclude)
    k = check_k(k, excluded)
    available = np.flatnonzero(~excluded)
    vals = s[available]
    if np.isnan(vals).any():
        raise InputError(f"scores hold NaN at candidates {available[np.isnan(vals)][:5].tolist()}")
    gen = as_generator(rng)
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    # the k-th largest value splits the candidates into sure picks and tied ones
    kth = np.partition(vals, vals.size - k)[vals.size - k]
    above = np.flatnonzero(vals > kth)
    ties = np.flatnonzero(vals == kth)
    need = k - above.size
    if gen is not None:
        above, ties = gen.permutation(above), gen.permutation(ties)[:need]
    else:
        ties = ties[:need]
    chosen = np.concatenate([above, ties])
    # decreasing score; among equal scores the (seeded) order in which they were chosen
    order = np.lexsort((np.arange(chosen.size), -vals[chosen]))
    return available[chosen[order]].astype(np.int64)


def maximin(
    X: torch.Tensor,
    k: int,
    exclude: Iterable[int] | np.ndarray | torch.Tensor | None = None,
    rng: np.random.Generator | int | None = None,
    anchors: Iterable[int] | None = None,
) -> np.ndarray:
    """Farthest-point (maximin) design: each pick is the candidate farthest from every
    earlier pick and every anchor.

    With no anchors the first pick is drawn at random from the seeded generator. Use it for
    an initial design (nothing measured) or to spread picks away from measured candidates
    (anchors = measured indices).

    Args:
        X: `(N, d)` encoded candidate features.
        k: how many to pick.
        exclude: candidates that may not be picked (indices or boolean mask).
        rng: generator or seed for the first pick and ties.
        anchors: indices of points the picks should keep away from (e.g. measured ones).

    Returns:
        `(k,)` int64 indices in the order picked.

    Reference: Johnson, Moore & Ylvisaker, "Minimax and maximin distance designs", J.
    Statistical Planning and Inference 1990; Gonzalez, "Clustering to minimize the maximum
    intercluster distance", Theoretical Computer Science 1985.
    """
    X = torch.as_tensor(X, dtype=torch.float64)
    n = X.shape[0]
    excluded = exclusion_mask(n, exclude)
    k = check_k(k, excluded)
    gen = as_generator(rng) or np.random.default_rng(0)
    anchor_idx = [int(a) for a in (anchors or [])]
    min_dist = torch.full((n,), float("inf"), dtype=torch.float64)
    for a in anchor_idx:
        min_dist = torch.minimum(min_dist, (X - X[a]).pow(2).sum(1))
    picks: list[int] = []
    blocked = torch.from_numpy(excluded.copy())
    for _ in range(k):
        if not picks and not anchor_idx:
            choice = int(gen.choice(np.flatnonzero(~blocked.numpy())))
        else:
            score = torch.where(blocked, torch.tensor(-1.0, dtype=torch.float64), min_dist)
            best = score.max()
            ties = np.flatnonzero((score == best).numpy())
            choice = int(gen.choice(ties))
        picks.append(choice)
        blocked[choice] = True
        min_dist = torch.minimum(min_dist, (X - X[choice]).pow(2).sum(1))
    return np.asarray(picks, dtype=np.int64)
