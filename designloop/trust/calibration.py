"""Is the surrogate's uncertainty honest? Cross-validated calibration diagnostics.

Regression: leave-one-out (closed form for exact GPs) or K-fold standardized errors, NLL,
the coverage of 50/80/90/95% central intervals and a calibration curve. Classification:
cross-validated accuracy, expected calibration error with its reliability diagram, NLL and
Brier score. `warnings` turns clear miscalibration into plain words with what to try.
"""

from __future__ import annotations

import math
from statistics import NormalDist  # the standard library: scipy.stats takes 0.25 s to import

import numpy as np
import torch

from designloop.prediction import ClassificationPrediction
from designloop.registry import is_exact_gp
from designloop.surrogates.base import fit_with_domain
from designloop.surrogates.gp import GPRegressor
from designloop.trust.metrics import classification_metrics, confidence_bins

LEVELS = (0.5, 0.8, 0.9, 0.95)
CURVE_LEVELS = tuple(np.round(np.arange(0.05, 1.0, 0.05), 2))
MIN_OBSERVATIONS = 5


def gp_leave_one_out(gp: GPRegressor) -> tuple[np.ndarray, np.ndarray]:
    """Closed-form LOO predictive mean and variance of each training target (target units):
    mu_-i = y_i - alpha_i / [K^-1]_ii, var_-i = 1 / [K^-1]_ii (Rasmussen & Williams 5.4.2)."""
    mean, var = gp.leave_one_out()
    return mean.numpy(), var.numpy()


def fold_of(n: int, n_folds: int, seed: int) -> np.ndarray:
    """`(n,)` the fold of each observation in `cross_validated`'s seeded split."""
    return np.random.default_rng(seed).permutation(n) % min(n_folds, n)


def cross_validated(surrogate, X, y, n_folds: int = 5, seed: int = 0, domain=None):
    """Out-of-fold predictions: (means, variances) for regression, `(n, C)` probabilities
    for classification. GPs use the closed-form LOO instead of refitting. `domain` (the
    candidate pool) is passed to the models that use it; held-out rows stay in it, unlabelled,
    as they are in a campaign."""
    if is_exact_gp(surrogate) and surrogate.is_fitted:
        return gp_leave_one_out(surrogate)
    X = torch.as_tensor(X, dtype=torch.float64)
    n = X.shape[0]
    folds = fold_of(n, n_folds, seed)
    if surrogate.task == "regression":
        yt = torch.as_tensor(np.asarray(y, dtype=float))
        mean, var = np.empty(n), np.empty(n)
        for k in np.unique(folds):
            held = torch.from_numpy(folds == k)
            pred = fit_with_domain(surrogate.clone(), X[~held], yt[~held], domain).predict(
                X[held])
            mean[held.numpy()] = pred.mean.numpy()
            var[held.numpy()] = pred.total_var.numpy()
        return mean, var
    labels = np.asarray(y, dtype=np.int64)
    n_classes = int(labels.max()) + 1
    probs = np.empty((n, n_classes))
    for k in np.unique(folds):
        held = folds == k
        model = surrogate.clone(n_classes=n_classes) if "n_classes" in surrogate.get_params() \
            else surrogate.clone()
        pred = fit_with_domain(model, X[torch.from_numpy(~held)], labels[~held],
                               domain).predict(X[torch.from_numpy(held)])
        probs[held] = pred.mean_probs.numpy()[:, :n_classes]
    return probs


def regression_diagnostics(y, mean, var) -> dict:
    """Diagnostics from out-of-sample predictions of observed targets."""
    y, mean = np.asarray(y, dtype=float), np.asarray(mean, dtype=float)
    sd = np.sqrt(np.maximum(np.asarray(var, dtype=float), 1e-300))
    z = (y - mean) / sd
    out = {
        "n": int(y.size),
        "rmse": float(np.sqrt(np.mean((y - mean) ** 2))),
        "nll": float(np.mean(0.5 * np.log(2 * math.pi * sd**2) + 0.5 * z**2)),
        "z_mean": float(z.mean()),
        "z_sd": float(z.std()),
    }
    for level in LEVELS:
        half = NormalDist().inv_cdf(0.5 + level / 2)
        out[f"coverage{int(level * 100)}"] = float(np.mean(np.abs(z) <= half))
    out["calibration_curve"] = [
        [float(lv), float(np.mean(np.abs(z) <= NormalDist().inv_cdf(0.5 + lv / 2)))]
        for lv in CURVE_LEVELS]
    return out


def reliability(probs: np.ndarray, labels: np.ndarray, bins: int = 10) -> list[list[float]]:
    """Reliability diagram: [mean confidence, accuracy, count] per confidence bin, binned as
    the expected calibration error is (`metrics.confidence_bins`)."""
    return confidence_bins(probs, labels, bins)


def classification_diagnostics(labels, probs: np.ndarray) -> dict:
    """Diagnostics from out-of-sample class probabilities `(n, C)` of observed labels."""
    labels = np.asarray(labels, dtype=np.int64)
    pred = ClassificationPrediction(torch.from_numpy(probs)[None])
    out = classification_metrics(pred, labels.tolist(), list(range(probs.shape[1])))
    out["n"] = int(labels.size)
    out["reliability"] = reliability(probs, labels)
    return out


def calibrate(surrogate, X, y, n_folds: int = 5, seed: int = 0, domain=None
              ) -> tuple[dict, object]:
    """Calibration diagnostics of `surrogate` on the observations `X, y`, and the
    out-of-fold predictions they came from (({}, None) while there are fewer than
    MIN_OBSERVATIONS); `domain` as in `cross_validated`."""
    n = len(y)
    if n < MIN_OBSERVATIONS:
        return {}, None
    oof = cross_validated(surrogate, X, y, n_folds, seed, domain)
    if surrogate.task == "regression":
        out = regression_diagnostics(y, *oof)
        out["method"] = "leave-one-out" if is_exact_gp(surrogate) else \
            f"{min(n_folds, n)}-fold"
        return out, oof
    out = classification_diagnostics(y, oof)
    out["method"] = f"{min(n_folds, n)}-fold"
    return out, oof


def diagnose(surrogate, X, y, n_folds: int = 5, seed: int = 0, domain=None) -> dict:
    """Calibration diagnostics of `surrogate` on the observations `X, y` (empty dict while
    there are fewer than MIN_OBSERVATIONS); `domain` as in `cross_validated`."""
    return calibrate(surrogate, X, y, n_folds, seed, domain)[0]


def warnings(diagnostics: dict) -> list[str]:
    """Plain-words warnings for clear miscalibration, each with what to try."""
    found = []
    cov = diagnostics.get("coverage90")
    if cov is not None and diagnostics.get("n", 0) >= 10 and cov < 0.7:
        found.append(
            f"the surrogate is overconfident: its 90% intervals covered only {cov:.0%} of "
            "held-out results. Treat its uncertainty with care; try another kernel or "
            "surrogate (e.g. forest or ensemble), or more initial diverse experiments.")
    if cov is not None and diagnostics.get("n", 0) >= 10 and \
            diagnostics.get("coverage50", 0.5) > 0.95:
        found.append(
            "the surrogate is underconfident: even its 50% intervals covered over 95% of "
            "held-out results, so uncertainty-driven choices are close to random. Check the "
            "noise level or features.")
    ece = diagnostics.get("ece")
    if ece is not None and diagnostics.get("n", 0) >= 20 and ece > 0.15:
        found.append(
            f"the classifier's probabilities are miscalibrated (ECE {ece:.2f}): predicted "
            "confidence and accuracy differ by more than 15 points. Try the GP classifier or "
            "a larger ensemble.")
    return found
