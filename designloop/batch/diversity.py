"""Diversity: batches and initial designs that cover the candidate space.

k-center greedy (core-set), k-means++ seeding, information density, the hybrid "top-M by
uncertainty, then k diverse among them", and initial designs when nothing is measured.
All work on the encoded features `X (N, d)` and exclude measured and pending candidates.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from designloop.batch.selection import as_generator, check_k, exclusion_mask, maximin, top_k
from designloop.errors import InputError
from designloop.names import INITIAL_DESIGNS


def k_center_greedy(X: Tensor, k: int, exclude=None, rng=None, anchors=None) -> np.ndarray:
    """Core-set selection: each pick is the candidate farthest from the measured points
    (`anchors`) and earlier picks; a 2-approximation of the minimax covering radius.

    Reference: Sener & Savarese, "Active learning for convolutional neural networks: a
    core-set approach", ICLR 2018; Gonzalez 1985.
    """
    return maximin(X, k, exclude=exclude, rng=rng, anchors=anchors)


def covering_radius(X: Tensor, centres) -> float:
    """Largest distance from any point of X to its nearest centre."""
    X = torch.as_tensor(X, dtype=torch.float64)
    return float(torch.cdist(X, X[list(centres)]).min(1).values.max())


def kmeans_pp(X: Tensor, k: int, exclude=None, rng=None, anchors=None) -> np.ndarray:
    """k-means++ seeding: each pick drawn with probability proportional to its squared
    distance to the nearest earlier pick (or anchor).

    Reference: Arthur & Vassilvitskii, "k-means++: the advantages of careful seeding",
    SODA 2007.
    """
    X = torch.as_tensor(X, dtype=torch.float64)
    n = X.shape[0]
    blocked = exclusion_mask(n, exclude)
    k = check_k(k, blocked)
    gen = as_generator(rng) or np.random.default_rng(0)
    d2 = torch.full((n,), float("inf"), dtype=torch.float64)
    for a in anchors or []:
        d2 = torch.minimum(d2, (X - X[int(a)]).pow(2).sum(1))
    picks: list[int] = []
    for _ in range(k):
        weights = np.where(blocked, 0.0, d2.numpy())
        if not np.isfinite(weights).all() or weights.sum() <= 0:
            choice = int(gen.choice(np.flatnonzero(~blocked)))
        else:
            choice = int(gen.choice(n, p=weights / weights.sum()))
        picks.append(choice)
        blocked[choice] = True
        d2 = torch.minimum(d2, (X - X[choice]).pow(2).sum(1))
    return np.asarray(picks, dtype=np.int64)


def information_density(scores: Tensor, X: Tensor, beta: float = 1.0, n_reference: int = 2000,
                        rng=None) -> Tensor:
    """Density-weighted uncertainty: score(x) * (mean similarity of x to the pool)^beta.

    Similarity is exp(-||x - x'||^2 / median squared distance); the mean runs over up to
    `n_reference` pool points drawn with the seeded generator (all when N is smaller).
    Favours uncertain candidates that are representative rather than outliers.

    Reference: Settles & Craven, "An analysis of active learning strategies for sequence
    labeling tasks", EMNLP 2008.
    """
    X = torch.as_tensor(X, dtype=torch.float64)
    scores = torch.as_tensor(scores, dtype=torch.float64)
    n = X.shape[0]
    gen = as_generator(rng) or np.random.default_rng(0)
    ref = X if n <= n_reference else X[torch.from_numpy(gen.choice(n, n_reference, False))]
    density = torch.empty(n, dtype=torch.float64)
    scale = None
    for start in range(0, n, 4096):
        d2 = torch.cdist(X[start : start + 4096], ref).pow(2)
        if scale is None:
            scale = d2.median().clamp_min(1e-12)
        density[start : start + 4096] = torch.exp(-d2 / scale).mean(1)
    return scores * density.pow(beta)


def top_m_then_diverse(scores: Tensor, X: Tensor, k: int, m: int | None = None, exclude=None,
                       rng=None, anchors=None) -> np.ndarray:
    """Hybrid: keep the `m` highest-scoring candidates (default 10 k), then pick k of them
    by k-center greedy away from the measured points (`anchors`) and each other.

    Reference: the "ranked batch" family, e.g. Cardoso et al., "Ranked batch-mode active
    learning", Information Sciences 2017.
    """
    X = torch.as_tensor(X, dtype=torch.float64)
    blocked = exclusion_mask(X.shape[0], exclude)
    left = int((~blocked).sum())
    m = min(left, m if m is not None else 10 * int(k))
    if m < k:
        raise InputError(f"top_m_then_diverse needs m >= k, got m={m}, k={k}")
    shortlist = top_k(scores, m, exclude=blocked, rng=rng)
    local_anchors = None
    pool = X[shortlist]
    if anchors is not None and len(list(anchors)):
        anchors = list(anchors)
        pool = torch.cat([pool, X[anchors]])
        local_anchors = list(range(m, m + len(anchors)))
        mask = np.zeros(pool.shape[0], dtype=bool)
        mask[m:] = True
        chosen = maximin(pool, k, exclude=mask, rng=rng, anchors=local_anchors)
    else:
        chosen = maximin(pool, k, rng=rng)
    return shortlist[chosen]


def initial_design(X: Tensor, k: int, method: str = "maximin", exclude=None,
                   rng=None) -> np.ndarray:
    """Candidates to measure first, when nothing is measured.

    Args:
        X: `(N, d)` encoded candidates.
        k: how many.
        method: "random", "maximin" (farthest point) or "kmeans" (the candidates nearest the
            centres of k clusters, Lloyd's algorithm from a k-means++ start).
        exclude: candidates not to pick.
        rng: generator or seed.
    """
    X = torch.as_tensor(X, dtype=torch.float64)
    blocked = exclusion_mask(X.shape[0], exclude)
    gen = as_generator(rng) or np.random.default_rng(0)
    if method == "random":
        k = check_k(k, blocked)
        return gen.choice(np.flatnonzero(~blocked), k, replace=False).astype(np.int64)
    if method == "maximin":
        return maximin(X, k, exclude=blocked, rng=gen)
    if method == "kmeans":
        return _kmeans_centres(X, k, blocked, gen)
    raise InputError(f"initial design must be one of {INITIAL_DESIGNS}, got {method!r}")


def _kmeans_centres(X: Tensor, k: int, blocked: np.ndarray, gen, n_iter: int = 50):
    available = np.flatnonzero(~blocked)
    pts = X[available]
    seeds = kmeans_pp(pts, k, rng=gen)
    centres = pts[seeds].clone()
    for _ in range(n_iter):
        assign = torch.cdist(pts, centres).argmin(1)
        new = torch.stack([pts[assign == j].mean(0) if (assign == j).any() else centres[j]
                           for j in range(int(k))])
        if torch.allclose(new, centres):
            break
        centres = new
    # the distinct candidate nearest each centre
    dist = torch.cdist(centres, pts)
    chosen: list[int] = []
    for j in range(int(k)):
        order = torch.argsort(dist[j]).tolist()
        chosen.append(next(i for i in order if i not in chosen))
    return available[np.asarray(chosen)].astype(np.int64)
