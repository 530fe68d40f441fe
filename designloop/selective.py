"""Selective classification: how accurate is the classifier on the candidates it is most
sure of? The risk-coverage curve answers it (abstain below a confidence threshold).

Reference: Geifman & El-Yaniv, "Selective classification for deep neural networks",
NeurIPS 2017.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from designloop.prediction import ClassificationPrediction


def risk_coverage(pred: ClassificationPrediction, labels) -> pd.DataFrame:
    """Accuracy and risk when keeping only the most confident candidates.

    Args:
        pred: predictions for N labelled candidates.
        labels: `(N,)` integer labels in the prediction's class order.

    Returns:
        One row per kept count k = 1..N (most confident first): threshold (the confidence
        of the k-th), coverage k/N, accuracy and risk (1 - accuracy) on those k.
    """
    probs = pred.mean_probs.numpy()
    labels = np.asarray(labels, dtype=np.int64)
    confidence = probs.max(1)
    correct = probs.argmax(1) == labels
    order = np.argsort(-confidence, kind="stable")
    kept = np.arange(1, len(order) + 1)
    accuracy = np.cumsum(correct[order]) / kept
    return pd.DataFrame({"threshold": confidence[order], "coverage": kept / len(order),
                         "accuracy": accuracy, "risk": 1 - accuracy})


def area_under_risk_coverage(curve: pd.DataFrame) -> float:
    """Mean risk over coverages (lower is better; 0 for a perfect ranking of errors last)."""
    return float(curve["risk"].mean())
