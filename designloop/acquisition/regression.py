"""Scores for real-valued targets, computed from a RegressionPrediction.

Exploration (max_variance, bald) and optimisation (ucb, expected_improvement,
log_expected_improvement, probability_of_improvement). Every function returns float64 `(N,)`;
higher = query first.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from designloop.acquisition._require import require_goal, require_regression
from designloop.errors import AcquisitionError
from designloop.prediction import RegressionPrediction

_MIN_RELATIVE_SD = 1e-15  # of |mean| or |best_f|: below it an sd is rounding (any units)
_MIN_NOISE = 1e-150
_GAUSS_HERMITE = np.polynomial.hermite.hermgauss(24)
_MAX_CHUNK_ELEMENTS = 2**24
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_NEG_INV_SQRT_2 = -(1 / math.sqrt(2))  # in Phi; the erfcx argument below uses -(2**-0.5), one
_NEG_INV_SQRT2_W = -(2**-0.5)  # ulp apart: as BoTorch writes them, for the same numbers
_LOG_SQRT_PI_DIV_2 = math.log(math.pi / 2) / 2
_LOG_SQRT_2PI = math.log(2 * math.pi) / 2


def ei_closed_form(u: Tensor) -> Tensor:
    """phi(u) + u Phi(u), with phi and Phi the standard normal density and distribution
    function: the expected improvement of a unit normal whose mean lies u above the
    incumbent. Underflows to 0 for u below about -38 in double precision.

    Args:
        u: standardised improvement, float32 or float64.

    Returns:
        A tensor like `u`, >= 0.
    """
    pdf = _INV_SQRT_2PI * (-0.5 * u.square()).exp()
    cdf = 0.5 * torch.erfc(_NEG_INV_SQRT_2 * u)
    # the two terms cancel far below the incumbent, leaving rounding dust of either sign
    return (pdf + u * cdf).clamp_min(0.0)


def log_ei_closed_form(u: Tensor) -> Tensor:
    """log(phi(u) + u Phi(u)), accurate for u in [-1e100, 1e100] in double precision
    ([-1e20, 1e20] in single), where `ei_closed_form` underflows.

    For u > -1 the logarithm of `ei_closed_form` is exact enough. Below, EI is rewritten as
    phi(u) (1 - exp(w)) with w = log(|u| Phi(u) / phi(u)) = log(erfcx(-u / sqrt 2) |u|) +
    log(pi / 2) / 2, and log(1 - exp(w)) is evaluated stably (Maechler 2012); below
    -1/sqrt(eps) (-1e6 in double, -1e3 in single precision) its leading term -2 log|u| is
    used. The same formulas, and so the same numbers, as BoTorch's LogExpectedImprovement.

    Args:
        u: standardised improvement, float32 or float64.

    Returns:
        A finite tensor like `u`.

    Reference: Ament, Daulton, Eriksson, Balandat & Bakshy, "Unexpected improvements to
    expected improvement for Bayesian optimization", NeurIPS 2023; Maechler, "Accurately
    computing log(1 - exp(-|a|))", 2012.
    """
    if u.dtype not in (torch.float32, torch.float64):
        raise TypeError(f"log_ei_closed_form needs float32 or float64, got {u.dtype}")
    bound = -1
    log_ei_upper = ei_closed_form(u.masked_fill(u < bound, bound)).log()
    neg_inv_sqrt_eps = -1e6 if u.dtype == torch.float64 else -1e3
    u_lower = u.masked_fill(u > bound, bound)
    u_eps = u_lower.masked_fill(u < neg_inv_sqrt_eps, neg_inv_sqrt_eps)
    w = torch.log(torch.special.erfcx(_NEG_INV_SQRT2_W * u_eps) * u_eps.abs()) \
        + _LOG_SQRT_PI_DIV_2
    log1mexp_w = torch.where(-math.log(2) < w, (-w.expm1()).log(), (-w.exp()).log1p())
    log_pdf = -0.5 * u.square() - _LOG_SQRT_2PI
    log_ei_lower = log_pdf + torch.where(u > neg_inv_sqrt_eps, log1mexp_w,
                                         -2 * u_lower.abs().log())
    return torch.where(u > bound, log_ei_upper, log_ei_lower)


def max_variance(pred: RegressionPrediction, **context) -> Tensor:
    """Maximum variance (uncertainty sampling): score = epistemic variance sigma_f^2(x).

    Args:
        pred: RegressionPrediction with `epistemic_var (N,)`.

    Returns:
        `(N,)` scores >= 0.

    Reference: MacKay, "Information-based objective functions for active data selection",
    Neural Computation 1992.
    """
    return require_regression(pred, "max_variance").epistemic_var.clone()


def _gaussian_information(epistemic: Tensor, noise: Tensor) -> Tensor:
    noise = noise.clamp_min(_MIN_NOISE)
    ratio = epistemic / noise
    return 0.5 * torch.where(
        torch.isfinite(ratio),
        torch.log1p(ratio),
        torch.log(epistemic + noise) - torch.log(noise),
    )


def _mixture_information(samples: Tensor, noise: Tensor) -> Tensor:
    """I[y; f] for y ~ (1/S) sum_s N(samples[s], noise): H[mixture] - H[N(0, noise)].

    The mixture entropy -E[log p(y)] is computed per component by 24-point Gauss-Hermite
    quadrature (exact when the members agree), in chunks of candidates.
    """
    s, n = samples.shape
    noise = noise.clamp_min(_MIN_NOISE).expand(n)
    nodes = torch.as_tensor(_GAUSS_HERMITE[0], dtype=samples.dtype)
    weights = torch.as_tensor(_GAUSS_HERMITE[1], dtype=samples.dtype) / math.sqrt(math.pi)
    chunk = max(1, _MAX_CHUNK_ELEMENTS // (s * s * nodes.numel()))
    out = torch.empty(n, dtype=samples.dtype)
    for start in range(0, n, chunk):
        mu = samples[:, start : start + chunk]  # (S, B)
        var = noise[start : start + chunk]  # (B,)
        sd = var.sqrt()
        # quadrature points y[s, q, b] around each component s
        y = mu[:, None, :] + math.sqrt(2.0) * sd * nodes[None, :, None]
        # log of the mixture density at every point: (S, Q, B), logsumexp over components
        z = (y[:, :, None, :] - mu[None, None, :, :]) / sd  # (S, Q, S', B)
        log_comp = -0.5 * z.pow(2) - 0.5 * torch.log(2 * math.pi * var)
        log_mix = torch.logsumexp(log_comp, dim=2) - math.log(s)
        mixture_entropy = -(weights[None, :, None] * log_mix).sum(1).mean(0)
        out[start : start + chunk] = mixture_entropy - 0.5 * torch.log(2 * math.pi * math.e * var)
    return out.clamp_min(0.0)


def bald_regression(pred: RegressionPrediction, **context) -> Tensor:
    """BALD for regression: the mutual information I[y; f | x] between an observation and
    the model (nats).

    Without samples the predictive is Gaussian and I = 0.5 log(1 + sigma_f^2 / sigma_n^2),
    which ranks like max-variance under homoscedastic noise but accounts for noise that
    varies with x. With member samples `(S, N)` (deep ensembles, MC dropout, forests) the
    predictive is the mixture (1/S) sum_s N(mu_s, sigma_n^2) and
    I = H[mixture] - H[N(0, sigma_n^2)], the mixture entropy evaluated by Gauss-Hermite
    quadrature. It is zero when the members agree and at most the Gaussian value with the
    members' variance.

    Args:
        pred: RegressionPrediction with `epistemic_var (N,)`, `noise_var`, optional
            `samples (S, N)`.

    Returns:
        `(N,)` scores >= 0.

    Reference: Houlsby et al., arXiv:1112.5745, 2011; MacKay 1992.
    """
    pred = require_regression(pred, "bald")
    if pred.samples is not None and pred.samples.shape[0] >= 2:
        return _mixture_information(pred.samples, pred.noise_var)
    return _gaussian_information(pred.epistemic_var, pred.noise_var)


def ucb(pred: RegressionPrediction, *, beta: float = 2.0, goal: str = "maximize", **context):
    """Upper confidence bound: s * mean + beta * sd, with s = +1 to maximise, -1 to minimise.

    Args:
        pred: RegressionPrediction, `mean (N,)`, `epistemic_var (N,)`.
        beta: multiple of the epistemic standard deviation added (>= 0).
        goal: "maximize" or "minimize".

    Returns:
        `(N,)` scores in the units of the target.

    Reference: Srinivas, Krause, Kakade & Seeger, "Gaussian process optimization in the bandit
    setting", ICML 2010.
    """
    pred = require_regression(pred, "ucb")
    sign = require_goal(goal, "ucb")
    if not beta >= 0:
        raise AcquisitionError(f"ucb needs beta >= 0, got {beta}")
    return sign * pred.mean + beta * pred.sd


def _standardized_improvement(pred, best_f, goal: str, name: str) -> tuple[Tensor, Tensor]:
    pred = require_regression(pred, name)
    sign = require_goal(goal, name)
    if best_f is None:
        raise AcquisitionError(
            f"acquisition '{name}' needs best_f, the best value observed so far "
            "(Campaign passes it; pass best_f=... when calling it yourself)"
        )
    best = torch.as_tensor(best_f, dtype=torch.float64)
    floor = (_MIN_RELATIVE_SD * torch.maximum(pred.mean.abs(), best.abs())).clamp_min(1e-300)
    sd = torch.maximum(pred.sd, floor)
    return sign * (pred.mean - best) / sd, sd


def expected_improvement(pred, *, best_f=None, goal: str = "maximize", **context) -> Tensor:
    """Expected improvement E[max(s (f - best_f), 0)] = sd * (phi(u) + u Phi(u)),
    u = s (mean - best_f) / sd, s = +1 to maximise and -1 to minimise.

    Args:
        pred: RegressionPrediction, `mean (N,)`, `epistemic_var (N,)`.
        best_f: best value observed so far (scalar).
        goal: "maximize" or "minimize".

    Returns:
        `(N,)` scores >= 0. Underflows to 0 far from the incumbent: prefer
        `log_expected_improvement` there.

    Reference: Jones, Schonlau & Welch, "Efficient global optimization of expensive black-box
    functions", J. Global Optim. 1998.
    """
    u, sd = _standardized_improvement(pred, best_f, goal, "expected_improvement")
    return sd * ei_closed_form(u)


def log_expected_improvement(pred, *, best_f=None, goal: str = "maximize", **context) -> Tensor:
    """Logarithm of expected improvement, computed stably for very negative u (no -inf
    where EI underflows), so candidates far in the tails are still ranked.

    Args:
        pred: RegressionPrediction, `mean (N,)`, `epistemic_var (N,)`.
        best_f: best value observed so far (scalar).
        goal: "maximize" or "minimize".

    Returns:
        `(N,)` finite scores; ranks like expected_improvement.

    Reference: Ament, Daulton, Eriksson, Balandat & Bakshy, "Unexpected improvements to
    expected improvement for Bayesian optimization", NeurIPS 2023.
    """
    u, sd = _standardized_improvement(pred, best_f, goal, "log_expected_improvement")
    return log_ei_closed_form(u) + sd.log()


def probability_of_improvement(pred, *, best_f=None, goal: str = "maximize", **context):
    """Probability of improvement P(s (f - best_f) > 0) = Phi(u), u = s (mean - best_f) / sd.

    Args:
        pred: RegressionPrediction, `mean (N,)`, `epistemic_var (N,)`.
        best_f: best value observed so far (scalar).
        goal: "maximize" or "minimize".

    Returns:
        `(N,)` scores in [0, 1].

    Reference: Kushner, "A new method of locating the maximum point of an arbitrary multipeak
    curve in the presence of noise", J. Basic Eng. 1964.
    """
    u, _ = _standardized_improvement(pred, best_f, goal, "probability_of_improvement")
    return torch.special.ndtr(u)
