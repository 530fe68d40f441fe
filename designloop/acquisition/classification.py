"""Uncertainty scores for classifiers, computed from `probs (S, N, C)`.

Every function maps a ClassificationPrediction to float64 scores `(N,)`; higher = query first.
"""

from __future__ import annotations

import torch
from torch import Tensor

from designloop.acquisition._require import require_classification
from designloop.prediction import ClassificationPrediction


def shannon_entropy(p: Tensor) -> Tensor:
    """Entropy in nats over the last dimension, with 0 log 0 = 0. `(..., C) -> (...)`."""
    return (-torch.special.xlogy(p, p).sum(-1)).clamp_min(0.0)


def member_votes(probs: Tensor) -> Tensor:
    """Vote shares `(N, C)` of a committee `probs (S, N, C)`.

    Each member votes for its most probable class; a member tied between classes splits its
    vote equally among them, which keeps the result independent of class order.
    """
    top = probs.max(-1, keepdim=True).values
    is_top = (probs >= top - 1e-12).to(probs.dtype)
    return (is_top / is_top.sum(-1, keepdim=True)).mean(0)


def least_confidence(pred: ClassificationPrediction, **context) -> Tensor:
    """Least confidence: 1 - max_y p(y|x) of the mean predictive.

    Args:
        pred: ClassificationPrediction, `probs (S, N, C)`.

    Returns:
        `(N,)` scores in [0, 1 - 1/C].

    Reference: Lewis & Gale, "A sequential algorithm for training text classifiers", SIGIR 1994.
    """
    p = require_classification(pred, "least_confidence").mean_probs
    return 1.0 - p.max(-1).values


def raw_margin(pred: ClassificationPrediction) -> Tensor:
    """Margin p1 - p2 between the two most probable classes of the mean predictive, `(N,)`.

    Small margins are ambiguous candidates; `margin` turns this into a score.
    """
    p = require_classification(pred, "margin").mean_probs
    top2 = torch.topk(p, 2, dim=-1).values
    return top2[..., 0] - top2[..., 1]


def margin(pred: ClassificationPrediction, **context) -> Tensor:
    """Margin sampling: score = 1 - (p1 - p2), so the smallest margin is queried first.

    Args:
        pred: ClassificationPrediction, `probs (S, N, C)`.

    Returns:
        `(N,)` scores in [0, 1]; `raw_margin` gives p1 - p2 itself.

    Reference: Scheffer, Decomain & Wrobel, "Active hidden Markov models for information
    extraction", IDA 2001.
    """
    return 1.0 - raw_margin(pred)


def entropy(pred: ClassificationPrediction, **context) -> Tensor:
    """Predictive entropy H[p(y|x)] = -sum_y p log p of the mean predictive (nats).

    Args:
        pred: ClassificationPrediction, `probs (S, N, C)`.

    Returns:
        `(N,)` scores in [0, log C].

    Reference: Shannon 1948; Settles, "Active Learning Literature Survey", 2009.
    """
    return shannon_entropy(require_classification(pred, "entropy").mean_probs)


def bald_classification(pred: ClassificationPrediction, **context) -> Tensor:
    """BALD for classifiers: I[y; theta | x] = H[mean_s p_s] - mean_s H[p_s] (nats).

    High when the members are each confident but disagree (epistemic uncertainty), zero when
    they agree, whatever the noise.

    Args:
        pred: ClassificationPrediction, `probs (S, N, C)` with S >= 1 (S = 1 gives zeros).

    Returns:
        `(N,)` scores in [0, entropy].

    Reference: Houlsby, Huszar, Ghahramani & Lengyel, "Bayesian active learning for
    classification and preference learning", arXiv:1112.5745, 2011.
    """
    probs = require_classification(pred, "bald").probs
    total = shannon_entropy(probs.mean(0))
    expected = shannon_entropy(probs).mean(0)
    return (total - expected).clamp_min(0.0)


def vote_entropy(pred: ClassificationPrediction, **context) -> Tensor:
    """Query-by-committee vote entropy: -sum_y (V(y)/S) log (V(y)/S), V(y) = votes for y.

    Args:
        pred: ClassificationPrediction, `probs (S, N, C)`, S >= 2 committee members.

    Returns:
        `(N,)` scores in [0, log C] (at most log S when no member is tied).

    Reference: Dagan & Engelson, "Committee-based sampling for training probabilistic
    classifiers", ICML 1995.
    """
    probs = require_classification(pred, "vote_entropy").probs
    return shannon_entropy(member_votes(probs))


def kl_disagreement(pred: ClassificationPrediction, **context) -> Tensor:
    """Query-by-committee KL disagreement: (1/S) sum_s KL(p_s || p_mean) (nats).

    With equally weighted members this equals BALD term by term; it is kept under its
    committee name because the QBC literature and users know it so.

    Args:
        pred: ClassificationPrediction, `probs (S, N, C)`, S >= 2 committee members.

    Returns:
        `(N,)` scores >= 0.

    Reference: McCallum & Nigam, "Employing EM and pool-based active learning for text
    classification", ICML 1998.
    """
    probs = require_classification(pred, "kl_disagreement").probs
    consensus = probs.mean(0, keepdim=True)
    kl = torch.special.xlogy(probs, probs) - torch.special.xlogy(probs, consensus)
    return kl.sum(-1).mean(0).clamp_min(0.0)


def variation_ratio(pred: ClassificationPrediction, **context) -> Tensor:
    """Variation ratio: 1 - (votes for the modal class) / S, over committee members.

    Args:
        pred: ClassificationPrediction, `probs (S, N, C)`, S >= 2 members or MC passes.

    Returns:
        `(N,)` scores in [0, 1 - 1/C].

    Reference: Freeman, "Elementary Applied Statistics", 1965; Gal, "Uncertainty in Deep
    Learning", PhD thesis, 2016.
    """
    probs = require_classification(pred, "variation_ratio").probs
    return 1.0 - member_votes(probs).max(-1).values
