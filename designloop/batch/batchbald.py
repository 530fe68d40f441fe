"""BatchBALD: greedy joint mutual information between a batch of labels and the model.

Reference: Kirsch, van Amersfoort & Gal, "BatchBALD: efficient and diverse batch acquisition
for deep Bayesian active learning", NeurIPS 2019.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from designloop.acquisition.classification import shannon_entropy
from designloop.batch.selection import check_k, exclusion_mask, top_k
from designloop.errors import AcquisitionError
from designloop.prediction import ClassificationPrediction

_CHUNK_ELEMENTS = 2**24


def _joint_entropy(prev: Tensor, probs: Tensor, weights: Tensor | None) -> Tensor:
    """Entropy of (y_batch, y_x) for every candidate x.

    Args:
        prev: `(S, M)` probability of each of M label configurations of the batch so far under
            each member (exact enumeration, or M sampled configurations).
        probs: `(S, B, C)` candidate probabilities per member.
        weights: None for exact enumeration; else `(M,)` 1 / P(config) for the sampled
            estimate -E[log P(y)] = -(1/M) sum_m sum_c P(c | m) log P(m, c).

    Returns:
        `(B,)` joint entropies in nats.
    """
    s = prev.shape[0]
    joint = torch.einsum("sm,sbc->bmc", prev, probs) / s  # (B, M, C)
    if weights is None:
        return shannon_entropy(joint.reshape(joint.shape[0], -1))
    conditional = joint * weights[None, :, None]  # P(c | m)
    return -(torch.special.xlogy(conditional, joint).sum(-1)).mean(-1)


def batch_bald(
    pred: ClassificationPrediction,
    k: int,
    exclude=None,
    rng: np.random.Generator | int | None = None,
    max_configurations: int = 4096,
    n_samples: int = 1024,
) -> tuple[np.ndarray, Tensor]:
    """Greedy BatchBALD over a committee's `probs (S, N, C)`.

    Each step adds the candidate x maximising
    I(y_1..y_b, y_x; theta) = H(y_1..y_b, y_x) - sum_i E_s H(y_i | s) - E_s H(y_x | s).
    The joint label distribution of the batch is enumerated exactly while it has at most
    `max_configurations` configurations, and estimated from `n_samples` sampled
    configurations after that.

    Args:
        pred: ClassificationPrediction with S >= 2 members.
        k: batch size.
        exclude: candidates not to pick (indices or mask).
        rng: generator or seed (ties and configuration sampling).
        max_configurations, n_samples: see above.

    Returns:
        `(k,)` picks in order and `(k,)` the joint mutual information after each pick.
    """
    if not isinstance(pred, ClassificationPrediction) or pred.n_members < 2:
        raise AcquisitionError(
            "batch_bald needs a ClassificationPrediction with S >= 2 members (ensemble, "
            "mc_dropout, forest, label_spreading or gp_classifier)")
    probs = pred.probs
    s, n, c = probs.shape
    blocked = exclusion_mask(n, exclude)
    k = check_k(k, blocked)
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(
        0 if rng is None else rng)
    tgen = torch.Generator().manual_seed(int(gen.integers(2**31)))
    member_entropy = shannon_entropy(probs).mean(0)  # (N,)
    prev = torch.ones(s, 1, dtype=torch.float64)
    weights: Tensor | None = None
    conditional_sum = 0.0
    picks: list[int] = []
    info: list[float] = []
    for _ in range(k):
        chunk = max(1, _CHUNK_ELEMENTS // max(1, s * prev.shape[1] * c))
        scores = torch.empty(n, dtype=torch.float64)
        for start in range(0, n, chunk):
            part = probs[:, start : start + chunk]
            scores[start : start + chunk] = _joint_entropy(prev, part, weights)
        scores = scores - member_entropy - conditional_sum
        p = int(top_k(scores, 1, exclude=blocked, rng=gen)[0])
        picks.append(p)
        info.append(float(scores[p]))
        blocked[p] = True
        conditional_sum += float(member_entropy[p])
        # extend the configurations of the batch with the label of the pick
        if weights is None and prev.shape[1] * c <= max_configurations:
            prev = (prev[:, :, None] * probs[:, p, None, :]).reshape(s, -1)
        else:
            if weights is None:  # switch to sampled configurations
                prev, weights = _sample_configurations(prev, n_samples, tgen)
            label_probs = (prev[:, :, None] * probs[:, p, None, :]).sum(0)  # (M, C)
            labels = torch.multinomial(label_probs / label_probs.sum(1, keepdim=True), 1,
                                       generator=tgen)[:, 0]
            prev = prev * probs[:, p, labels]
            weights = s / prev.sum(0)
    return np.asarray(picks, dtype=np.int64), torch.tensor(info, dtype=torch.float64)


def _sample_configurations(prev: Tensor, n_samples: int, gen: torch.Generator):
    """Draw configurations from the exact joint (mixture over members)."""
    s = prev.shape[0]
    marginal = prev.mean(0)
    idx = torch.multinomial(marginal / marginal.sum(), n_samples, replacement=True, generator=gen)
    sampled = prev[:, idx]
    return sampled, s / sampled.sum(0)
