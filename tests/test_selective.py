import numpy as np
import pytest
import torch

import designloop as dl
from designloop.selective import area_under_risk_coverage, risk_coverage


def test_risk_coverage_hand_computed():
    probs = torch.tensor([[[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.55, 0.45]]])
    labels = [0, 1, 1, 0]  # the 0.6 one is wrong
    curve = risk_coverage(dl.ClassificationPrediction(probs), labels)
    assert curve["threshold"].tolist() == pytest.approx([0.9, 0.8, 0.6, 0.55])
    assert curve["accuracy"].tolist() == pytest.approx([1.0, 1.0, 2 / 3, 0.75])
    assert curve["coverage"].tolist() == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert area_under_risk_coverage(curve) == pytest.approx((0 + 0 + 1 / 3 + 0.25) / 4)


def test_confident_predictions_are_more_accurate_on_real_data():
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    gen = np.random.default_rng(0)
    idx = gen.permutation(len(y))
    model = dl.RandomForest(task="classification", n_estimators=50).fit(X[idx[:100]], y[idx[:100]])
    curve = risk_coverage(model.predict(X[idx[100:]]), y[idx[100:]])
    half = curve.iloc[len(curve) // 2]["accuracy"]
    assert half > curve.iloc[-1]["accuracy"] and half > 0.97
