"""Acquisition functions: pure maps from a Prediction to scores `(N,)`, higher = query first.

`ACQUISITIONS` maps the names of `designloop.registry` (where each acquisition's spec, the
one table of names, meanings and capabilities, lives) to the functions; `get_acquisition`
looks a name up and accepts the kebab-case spelling the command line uses.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from designloop.acquisition.classification import (
    bald_classification,
    entropy,
    kl_disagreement,
    least_confidence,
    margin,
    raw_margin,
    shannon_entropy,
    variation_ratio,
    vote_entropy,
)
from designloop.acquisition.gradient import expected_gradient_length
from designloop.acquisition.regression import (
    bald_regression,
    expected_improvement,
    log_expected_improvement,
    max_variance,
    probability_of_improvement,
    ucb,
)
from designloop.errors import AcquisitionError
from designloop.prediction import ClassificationPrediction, RegressionPrediction
from designloop.registry import MEANINGS
from designloop.registry import canonical_acquisition as canonical
from designloop.registry import describe as describe


def bald(pred, **context) -> Tensor:
    """BALD (mutual information between the next observation and the model), for either task.

    Dispatches on the prediction: classification `H[mean p] - mean_s H[p_s]`
    (`bald_classification`); regression `0.5 log(1 + sigma_f^2/sigma_n^2)` or, with member
    samples, the Gaussian-mixture mutual information (`bald_regression`).

    Args:
        pred: ClassificationPrediction `probs (S, N, C)` or RegressionPrediction.

    Returns:
        `(N,)` scores >= 0 in nats.

    Reference: Houlsby et al., arXiv:1112.5745, 2011.
    """
    if isinstance(pred, ClassificationPrediction):
        return bald_classification(pred, **context)
    if isinstance(pred, RegressionPrediction):
        return bald_regression(pred, **context)
    raise AcquisitionError(
        f"bald needs a ClassificationPrediction or RegressionPrediction, got {type(pred).__name__}"
    )


def random(pred, *, rng: np.random.Generator | int | None = None, **context) -> Tensor:
    """Random: uniform scores in [0, 1) from a seeded generator, the baseline to beat.

    Args:
        pred: any Prediction (only its number of candidates N is used).
        rng: a `numpy.random.Generator` or an integer seed (required: same seed, same scores).

    Returns:
        `(N,)` scores.
    """
    if rng is None:
        raise AcquisitionError("acquisition 'random' needs rng=<numpy Generator or int seed>")
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    return torch.from_numpy(gen.random(pred.n))


# every registered name is the name of its function in this module
ACQUISITIONS: dict[str, Callable[..., Tensor]] = {name: globals()[name] for name in MEANINGS}


def get_acquisition(name: str) -> Callable[..., Tensor]:
    """The acquisition function called `name` (snake_case or kebab-case)."""
    return ACQUISITIONS[canonical(name)]


def score(name: str, pred, **context) -> Tensor:
    """Score `pred` with the acquisition `name`; always a float64 tensor `(N,)`."""
    out = get_acquisition(name)(pred, **context)
    return torch.as_tensor(out, dtype=torch.float64)


__all__ = [
    "ACQUISITIONS",
    "bald",
    "bald_classification",
    "bald_regression",
    "describe",
    "entropy",
    "expected_gradient_length",
    "expected_improvement",
    "get_acquisition",
    "kl_disagreement",
    "least_confidence",
    "log_expected_improvement",
    "margin",
    "max_variance",
    "probability_of_improvement",
    "random",
    "raw_margin",
    "score",
    "shannon_entropy",
    "ucb",
    "variation_ratio",
    "vote_entropy",
]
