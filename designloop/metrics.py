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


def expected_calibration_error(probs: torch.Tensor, labels: torch.Tensor, bins: int = 15):
    """ECE: |accuracy - confidence| averaged over equal-width confidence bins, weighted by
    bin size (Guo, Pleiss, Sun & Weinberger, ICML 2017)."""
    confidence, predicted = probs.max(1)
    correct = (predicted == labels).double()
    edges = torch.linspace(0, 1, bins + 1, dtype=torch.float64)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        inside = (confidence > lo) & (confidence <= hi)
        if inside.any():
            gap = (correct[inside].mean() - confidence[inside].mean()).abs()
            ece += inside.double().mean() * gap
    return float(ece)


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
