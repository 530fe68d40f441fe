"""Conformal prediction: distribution-free intervals and prediction sets around any
surrogate, valid in finite samples when the data are exchangeable.

Regression: split conformal (normalised by the surrogate's sd) and jackknife+ (closed form
for exact GPs, K-fold CV+ for every other surrogate). Classification: prediction sets by
LAC (least ambiguous set-valued classifier) and APS (adaptive prediction sets).

References: Vovk, Gammerman & Shafer, "Algorithmic Learning in a Random World", 2005;
Lei et al., "Distribution-free predictive inference for regression", JASA 2018; Barber,
Candès, Ramdas & Tibshirani, "Predictive inference with the jackknife+", Ann. Statist. 2021;
Sadinle, Lei & Wasserman, JASA 2019 (LAC); Romano, Sesia & Candès, NeurIPS 2020 (APS).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from designloop.errors import InputError
from designloop.prediction import ClassificationPrediction, RegressionPrediction


def _check_level(level: float) -> float:
    if not 0 < level < 1:
        raise InputError(f"level must be between 0 and 1 (e.g. 0.9), got {level}")
    return float(level)


def ranks(n: int, level: float) -> tuple[int, int]:
    """The order statistics a conformal interval over n calibration scores uses:
    floor((1 - level)(n + 1)) and ceil(level (n + 1)), computed without the rounding error
    of floating point (0.1 * 10 is 0.9999999999999998, which would floor to 0)."""
    level = _check_level(level)
    return (math.floor(round((1 - level) * (n + 1), 9)),
            math.ceil(round(level * (n + 1), 9)))


def min_results(level: float) -> int:
    """The fewest calibration points (results) for which a conformal interval at `level`
    is finite: 9 at level 0.9, 19 at 0.95."""
    n = 1
    while not (ranks(n, level)[0] >= 1 and ranks(n, level)[1] <= n):
        n += 1
    return n


def conformal_quantile(scores, level: float) -> float:
    """The ceil((n + 1) level) / n empirical quantile of calibration scores (inf when n is
    too small for the level)."""
    level = _check_level(level)
    s = np.sort(np.asarray(scores, dtype=float))
    n = s.size
    rank = ranks(n, level)[1]
    return float("inf") if rank > n else float(s[rank - 1])


def split_conformal_quantile(y_cal, mean_cal, var_cal=None, level: float = 0.9) -> float:
    """The half-width of a split-conformal interval, in units of the predictive sd.

    The scores of the calibration points are |y - mean| / sd when their predictive
    variances `var_cal` are given (floored at 1e-300), else |y - mean|; the result q is
    their conformal quantile, and the interval at a new point is mean +- q * sd (or
    mean +- q), see `split_conformal_interval`.

    Args:
        y_cal: `(n,)` observed values of points the model was not fitted to.
        mean_cal: `(n,)` the predictive means there (held-out or out-of-fold).
        var_cal: `(n,)` the predictive variances of a new observation there, or None for
            unnormalised scores.
        level: nominal coverage, e.g. 0.9.

    Returns:
        q (inf while n is too small for the level, see `min_results`).
    """
    scores = np.abs(np.asarray(y_cal, dtype=float) - np.asarray(mean_cal, dtype=float))
    if var_cal is not None:
        scores = scores / np.sqrt(np.maximum(np.asarray(var_cal, dtype=float), 1e-300))
    return conformal_quantile(scores, level)


def split_conformal_interval(pred: RegressionPrediction, q: float,
                             normalised: bool = True) -> tuple[Tensor, Tensor]:
    """`(lo, hi)`, each `(N,)`: mean +- q * sd of a new observation (mean +- q when not
    `normalised`), with q from `split_conformal_quantile`."""
    scale = pred.total_var.sqrt() if normalised else torch.ones_like(pred.mean)
    return pred.mean - q * scale, pred.mean + q * scale


def split_conformal(cal_pred: RegressionPrediction, y_cal, test_pred: RegressionPrediction,
                    level: float = 0.9, normalised: bool = True) -> tuple[Tensor, Tensor]:
    """Split-conformal interval for test points from a held-out calibration set.

    Scores are |y - mean| / sd (sd of a new observation) when `normalised`, else |y - mean|;
    the interval is mean +- q * sd (or mean +- q).

    Args:
        cal_pred: prediction on the calibration points (not used for fitting).
        y_cal: `(n,)` their observed values.
        test_pred: prediction on the test points.
        level: nominal coverage, e.g. 0.9.

    Returns:
        `(lo, hi)`, each `(N,)`.
    """
    var_cal = cal_pred.total_var if normalised else None
    q = split_conformal_quantile(y_cal, cal_pred.mean, var_cal, level)
    return split_conformal_interval(test_pred, q, normalised)


def jackknife_plus(loo_test_means: Tensor, loo_residuals: Tensor,
                   level: float = 0.9) -> tuple[Tensor, Tensor]:
    """Jackknife+ (or CV+) interval from leave-one-out (or leave-fold-out) models.

    Args:
        loo_test_means: `(n, N)`: prediction at each test point of the model fitted without
            observation i (CV+: without i's fold).
        loo_residuals: `(n,)`: |y_i - that model's prediction at x_i|.
        level: nominal coverage; the guarantee is at least 2 level - 1, typically ~level.

    Returns:
        `(lo, hi)`, each `(N,)`.
    """
    level = _check_level(level)
    n = loo_residuals.shape[0]
    lower = loo_test_means - loo_residuals[:, None]
    upper = loo_test_means + loo_residuals[:, None]
    k_lo, k_hi = ranks(n, level)
    if k_hi > n or k_lo < 1:
        inf = torch.full((loo_test_means.shape[1],), float("inf"), dtype=torch.float64)
        return -inf, inf
    # the k_hi-th smallest upper end is the (n - k_hi + 1)-th largest; partial sorts of the
    # few extreme values, not a full sort of each column
    m = n - k_hi + 1
    hi = torch.topk(upper, m, dim=0).values[m - 1]
    lo = torch.topk(lower, k_lo, dim=0, largest=False).values[k_lo - 1]
    return lo, hi


JACKKNIFE_BLOCK = 2**21  # entries of each (n, chunk) matrix of leave-one-out means


def gp_jackknife_plus(gp, X_test, level: float = 0.9) -> tuple[Tensor, Tensor]:
    """Jackknife+ for a fitted exact GP without refitting: with K the noisy training
    covariance and alpha = K^-1 (y - m), the mean without point i is
    mu_-i(x) = mu(x) - [K^-1 k(X, x)]_i alpha_i / [K^-1]_ii, and the LOO residual is
    |alpha_i| / [K^-1]_ii (hyper-parameters kept fixed).

    Args:
        gp: a fitted GPRegressor.
        X_test: `(N, d)` points to give intervals for.
        level: nominal coverage.
    """
    f = gp.factors()
    K_inv = f["L_inv"].T @ f["L_inv"]
    diag = K_inv.diagonal()
    alpha = f["alpha"]
    scale = f["y_std"]
    weights = (scale * alpha / diag)[:, None]
    residuals = scale * alpha.abs() / diag
    X_test = torch.as_tensor(X_test, dtype=torch.float64)
    N = X_test.shape[0]
    lo = torch.empty(N, dtype=torch.float64)
    hi = torch.empty(N, dtype=torch.float64)
    # in chunks of candidates, so that the (n, chunk) matrices stay small
    step = max(1, JACKKNIFE_BLOCK // max(1, len(alpha)))
    for piece in (slice(i, i + step) for i in range(0, N, step)):
        with torch.no_grad():
            Ks = gp.prior_covariance(f["Xn"], gp.transform_inputs(X_test[piece]))  # (n, chunk)
            mu = (f["mean0"] + Ks.T @ alpha) * scale + f["y_mean"]  # the posterior mean
            lo[piece], hi[piece] = jackknife_plus(mu[None, :] - (K_inv @ Ks) * weights,
                                                  residuals, level)
    return lo, hi


def cv_plus(surrogate, X, y, X_test, level: float = 0.9, n_folds: int = 10,
            seed: int = 0) -> tuple[Tensor, Tensor]:
    """CV+ for any regression surrogate: K-fold refits (Barber et al. 2021, section 3).

    Args:
        surrogate: an unfitted regression surrogate with clone().
        X, y: `(n, d)`, `(n,)` observations.
        X_test: `(N, d)` points to give intervals for.
        level, n_folds, seed: nominal coverage, folds, fold assignment seed.
    """
    X = torch.as_tensor(X, dtype=torch.float64)
    y = torch.as_tensor(np.asarray(y, dtype=float))
    X_test = torch.as_tensor(X_test, dtype=torch.float64)
    n = X.shape[0]
    n_folds = min(n_folds, n)
    if n_folds < 2:
        raise InputError("CV+ needs at least 2 observations")
    folds = np.random.default_rng(seed).permutation(n) % n_folds
    loo_means = torch.empty(n, X_test.shape[0], dtype=torch.float64)
    residuals = torch.empty(n, dtype=torch.float64)
    for k in range(n_folds):
        held = torch.from_numpy(folds == k)
        model = surrogate.clone().fit(X[~held], y[~held])
        residuals[held] = (y[held] - model.predict(X[held]).mean).abs()
        loo_means[held] = model.predict(X_test).mean[None, :].expand(int(held.sum()), -1)
    return jackknife_plus(loo_means, residuals, level)


def lac_threshold(probs_cal, y_cal, level: float = 0.9) -> float:
    """LAC's threshold: the conformal quantile of the calibration scores 1 - p_y (the
    probability a held-out point's true class did not get); a class is in a point's set
    when 1 - p <= threshold (`lac_sets`).

    Args:
        probs_cal: `(n, C)` class probabilities of points the model was not fitted to.
        y_cal: `(n,)` their integer labels.
        level: nominal coverage, e.g. 0.9.
    """
    probs = np.asarray(probs_cal, dtype=float)
    labels = np.asarray(y_cal, dtype=np.int64)
    return conformal_quantile(1 - probs[np.arange(len(labels)), labels], level)


def lac_sets(probs, threshold: float, never_empty: bool = False) -> Tensor:
    """LAC prediction sets, a boolean `(N, C)` mask: the classes with 1 - p <= threshold
    (`lac_threshold`); with `never_empty` the most probable class is always in too, which
    can only raise the coverage."""
    probs = torch.as_tensor(probs, dtype=torch.float64)
    sets = (1 - probs) <= threshold
    if never_empty and probs.shape[0]:
        sets[torch.arange(probs.shape[0]), probs.argmax(1)] = True
    return sets


def conformal_sets(cal_pred: ClassificationPrediction, y_cal, test_pred: ClassificationPrediction,
                   level: float = 0.9, method: str = "lac",
                   rng: np.random.Generator | int | None = 0) -> Tensor:
    """Conformal prediction sets, a boolean `(N, C)` mask (True = class in the set).

    Args:
        cal_pred, y_cal: held-out calibration predictions and their integer labels.
        test_pred: predictions to build sets for.
        level: nominal coverage, e.g. 0.9.
        method: "lac" (score 1 - p_y; smallest sets on average) or "aps" (cumulative
            probability of the classes ranked above y, randomised; adapts to difficulty).
        rng: seeds APS's randomisation.
    """
    labels = torch.as_tensor(np.asarray(y_cal, dtype=np.int64))
    p_cal, p_test = cal_pred.mean_probs, test_pred.mean_probs
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    if method == "lac":
        return lac_sets(p_test, lac_threshold(p_cal, labels, level))
    if method == "aps":
        cal_scores = _aps_scores(p_cal, gen)[torch.arange(len(labels)), labels]
        q = conformal_quantile(cal_scores.numpy(), level)
        return _aps_scores(p_test, gen) <= q
    raise InputError(f"method must be 'lac' or 'aps', got {method!r}")


def _aps_scores(probs: Tensor, gen: np.random.Generator) -> Tensor:
    """APS score of every class: probability of the classes ranked above it plus a uniform
    share of its own."""
    order = torch.argsort(probs, dim=1, descending=True)
    sorted_p = torch.gather(probs, 1, order)
    above = sorted_p.cumsum(1) - sorted_p
    u = torch.from_numpy(gen.uniform(size=(probs.shape[0], 1)))
    scores_sorted = above + u * sorted_p
    scores = torch.empty_like(probs)
    scores.scatter_(1, order, scores_sorted)
    return scores
