"""How good a surrogate is on a whole pool: RMSE, NLL and interval coverage for regression;
accuracy, expected calibration error, NLL and Brier score for classification."""

from __future__ import annotations

import math

import numpy as np
import torch

from designloop.prediction import ClassificationPrediction, RegressionPrediction


def regression_metrics(pred: RegressionPrediction, truth) -> dict:
    """RMSE, mean Gaussian NLL and the coverage of the central 90% predictive interval."""
    y = torch.as_tensor(np.asarray(truth, dtype=float))
    var = pred.total_var.clamp_min(1e-300)
    err = y - pred.mean
    nll = 0.5 * (torch.log(2 * math.pi * var) + err.pow(2) / var)
    covered = err.abs() <= 1.6448536269514722 * var.sqrt()
    return {"rmse": float(err.pow(2).mean().sqrt()), "nll": float(nll.mean()),
            "coverage90": float(covered.double().mean())}


def confidence_bins(probs, labels, bins: int = 15) -> list[list[float]]:
    """Predictions grouped by their top-class confidence in equal-width bins (lo, hi].

    Args:
        probs: `(N, C)` class probabilities (tensor or array).
        labels: `(N,)` true labels as column indices.
        bins: number of bins over [0, 1].

    Returns:
        One `[mean confidence, accuracy, count]` per non-empty bin, lowest confidence first:
        the rows of a reliability diagram, and what the expected calibration error averages.
    """
    probs = np.asarray(probs, dtype=float)
    labels = np.asarray(labels)
    confidence = probs.max(1)
    correct = probs.argmax(1) == labels
    edges = np.linspace(0, 1, bins + 1)
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        inside = (confidence > lo) & (confidence <= hi)
        if inside.any():
            rows.append([float(confidence[inside].mean()), float(correct[inside].mean()),
                         int(inside.sum())])
    return rows


def expected_calibration_error(probs, labels, bins: int = 15) -> float:
    """ECE: |accuracy - confidence| averaged over the equal-width confidence bins of
    `confidence_bins`, weighted by bin size (Guo, Pleiss, Sun & Weinberger, ICML 2017)."""
    n = len(labels)
    return float(sum(count / n * abs(accuracy - confidence)
                     for confidence, accuracy, count in confidence_bins(probs, labels, bins)))


def classification_metrics(pred: ClassificationPrediction, labels, classes: list) -> dict:
    """Accuracy, ECE, NLL and Brier score of the mean predictive against true labels.

    Args:
        pred: prediction over the pool, classes in the order of `classes`.
        labels: `(N,)` true labels (any of them may be a class the model has not seen).
        classes: the model's classes, in column order.
    """
    index = {c: i for i, c in enumerate(classes)}
    known = np.array([label in index for label in labels])
    probs = pred.mean_probs
    codes = torch.tensor([index.get(label, -1) for label in labels])
    predicted = probs.argmax(1)
    accuracy = float(((predicted == codes) & torch.from_numpy(known)).double().mean())
    out = {"accuracy": accuracy}
    if known.all():
        p_true = probs[torch.arange(len(codes)), codes].clamp_min(1e-12)
        onehot = torch.nn.functional.one_hot(codes, probs.shape[1]).double()
        out.update(ece=expected_calibration_error(probs, codes), nll=float(-p_true.log().mean()),
                   brier=float((probs - onehot).pow(2).sum(1).mean()))
    return out
