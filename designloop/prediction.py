"""Predictions: the one currency between surrogates and acquisition functions.

A surrogate's `predict(X)` returns a `RegressionPrediction` or a `ClassificationPrediction`;
every acquisition function reads one of them and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from designloop.errors import InputError

_PROB_TOL = 1e-4


def _as_float64(value, name: str) -> Tensor:
    try:
        t = torch.as_tensor(value)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise InputError(f"{name} must be a tensor or array of numbers: {exc}") from None
    if not (t.is_floating_point() or t.dtype in (torch.int32, torch.int64, torch.bool)):
        raise InputError(f"{name} must hold real numbers, got dtype {t.dtype}")
    return t.to(torch.float64)


def _check_finite(t: Tensor, name: str) -> None:
    if t.numel() and not torch.isfinite(t).all():
        bad = (~torch.isfinite(t)).nonzero()[0].tolist()
        raise InputError(f"{name} holds NaN or infinite values (first at index {bad})")


@dataclass(frozen=True)
class RegressionPrediction:
    """Predictive distribution of a real-valued target over N candidates.

    Args:
        mean: `(N,)` predictive mean.
        epistemic_var: `(N,)` variance of the latent function (what more data removes).
        noise_var: scalar or `(N,)` observation-noise (aleatoric) variance.
        samples: optional `(S, N)` draws of the latent function: ensemble members' means,
            MC-dropout passes or posterior draws.

    All tensors are stored as float64. Variances must be >= 0.
    """

    mean: Tensor
    epistemic_var: Tensor
    noise_var: Tensor
    samples: Tensor | None = None

    def __post_init__(self) -> None:
        mean = _as_float64(self.mean, "mean")
        var = _as_float64(self.epistemic_var, "epistemic_var")
        noise = _as_float64(self.noise_var, "noise_var")
        if mean.dim() != 1:
            raise InputError(f"mean must have shape (N,), got {tuple(mean.shape)}")
        if var.shape != mean.shape:
            raise InputError(
                f"epistemic_var must have the shape of mean {tuple(mean.shape)}, "
                f"got {tuple(var.shape)}"
            )
        if noise.dim() > 1 or (noise.dim() == 1 and noise.shape != mean.shape):
            raise InputError(
                f"noise_var must be a scalar or have shape {tuple(mean.shape)}, "
                f"got {tuple(noise.shape)}"
            )
        for t, name in ((mean, "mean"), (var, "epistemic_var"), (noise, "noise_var")):
            _check_finite(t, name)
        if var.numel() and var.min() < 0:
            raise InputError(f"epistemic_var must be >= 0, found {var.min().item():.3g}")
        if noise.numel() and noise.min() < 0:
            raise InputError(f"noise_var must be >= 0, found {noise.min().item():.3g}")
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "epistemic_var", var)
        object.__setattr__(self, "noise_var", noise)
        if self.samples is not None:
            samples = _as_float64(self.samples, "samples")
            if samples.dim() != 2 or samples.shape[1] != mean.shape[0] or samples.shape[0] < 1:
                raise InputError(
                    f"samples must have shape (S, N) with N = {mean.shape[0]}, "
                    f"got {tuple(samples.shape)}"
                )
            _check_finite(samples, "samples")
            object.__setattr__(self, "samples", samples)

    @property
    def n(self) -> int:
        """Number of candidates N."""
        return self.mean.shape[0]

    @property
    def sd(self) -> Tensor:
        """`(N,)` epistemic standard deviation."""
        return self.epistemic_var.sqrt()

    @property
    def total_var(self) -> Tensor:
        """`(N,)` predictive variance of a new observation: epistemic + noise."""
        return self.epistemic_var + self.noise_var


@dataclass(frozen=True)
class ClassificationPrediction:
    """Class probabilities over N candidates from S committee members or posterior draws.

    Args:
        probs: `(S, N, C)` probabilities; `probs[s, i]` is member s's distribution over the C
            classes for candidate i. S = 1 for a single deterministic classifier. Each row
            must lie in [0, 1] and sum to 1 (within 1e-4; it is renormalised exactly).
    """

    probs: Tensor

    def __post_init__(self) -> None:
        probs = _as_float64(self.probs, "probs")
        if probs.dim() == 2:
            raise InputError(
                f"probs must have shape (S, N, C); got {tuple(probs.shape)}. For a single "
                "model pass probs[None] (S = 1)."
            )
        if probs.dim() != 3 or probs.shape[0] < 1 or probs.shape[2] < 2:
            raise InputError(
                f"probs must have shape (S, N, C) with S >= 1 and C >= 2, got {tuple(probs.shape)}"
            )
        _check_finite(probs, "probs")
        if probs.numel():
            lo, hi = probs.min().item(), probs.max().item()
            if lo < -_PROB_TOL or hi > 1 + _PROB_TOL:
                raise InputError(f"probs must lie in [0, 1], found values in [{lo:.3g}, {hi:.3g}]")
            sums = probs.sum(-1)
            worst = (sums - 1).abs().max().item()
            if worst > _PROB_TOL:
                s, i = divmod(int((sums - 1).abs().argmax()), probs.shape[1])
                raise InputError(
                    f"probs must sum to 1 over classes; member {s}, candidate {i} sums to "
                    f"{sums[s, i].item():.6g}. Apply a softmax to logits first."
                )
            probs = probs.clamp(0.0, 1.0)
            probs = probs / probs.sum(-1, keepdim=True)
        object.__setattr__(self, "probs", probs)

    @property
    def n(self) -> int:
        """Number of candidates N."""
        return self.probs.shape[1]

    @property
    def n_members(self) -> int:
        """Number of committee members / posterior draws S."""
        return self.probs.shape[0]

    @property
    def n_classes(self) -> int:
        """Number of classes C."""
        return self.probs.shape[2]

    @property
    def mean_probs(self) -> Tensor:
        """`(N, C)` consensus (mean over members) predictive distribution."""
        return self.probs.mean(0)


Prediction = RegressionPrediction | ClassificationPrediction
