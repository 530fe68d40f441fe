import numpy as np
import pytest
import torch

import designloop as dl


def test_regression_prediction_stores_float64_and_derives_sd():
    pred = dl.RegressionPrediction(np.array([1.0, 2.0]), np.array([4.0, 9.0]), 0.5)
    assert pred.mean.dtype == torch.float64
    assert pred.sd.tolist() == [2.0, 3.0]
    assert pred.total_var.tolist() == [4.5, 9.5]
    assert pred.n == 2
    with pytest.raises(AttributeError):
        pred.mean = torch.zeros(2)  # frozen


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(mean=[[1.0]], epistemic_var=[[1.0]], noise_var=0.1), "shape (N,)"),
        (dict(mean=[1.0, 2.0], epistemic_var=[1.0], noise_var=0.1), "epistemic_var must have"),
        (dict(mean=[1.0], epistemic_var=[-1.0], noise_var=0.1), ">= 0"),
        (dict(mean=[1.0], epistemic_var=[1.0], noise_var=-0.1), "noise_var must be >= 0"),
        (dict(mean=[1.0, 2.0], epistemic_var=[1.0, 1.0], noise_var=[1.0, 1.0, 1.0]), "noise_var"),
        (dict(mean=[float("nan")], epistemic_var=[1.0], noise_var=0.1), "NaN"),
        (dict(mean=[1.0], epistemic_var=[1.0], noise_var=0.1, samples=[1.0]), "samples"),
    ],
)
def test_regression_prediction_rejects_bad_input(kwargs, message):
    with pytest.raises(dl.InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        dl.RegressionPrediction(**kwargs)


def test_classification_prediction_mean_probs_and_counts():
    probs = torch.tensor([[[1.0, 0.0], [0.5, 0.5]], [[0.0, 1.0], [0.5, 0.5]]])
    pred = dl.ClassificationPrediction(probs)
    assert (pred.n_members, pred.n, pred.n_classes) == (2, 2, 2)
    assert torch.allclose(pred.mean_probs, torch.full((2, 2), 0.5, dtype=torch.float64))


@pytest.mark.parametrize(
    "probs, message",
    [
        (torch.tensor([[0.5, 0.5]]), "pass probs"),
        (torch.tensor([[[0.7, 0.7]]]), "sum to 1"),
        (torch.tensor([[[1.5, -0.5]]]), r"\[0, 1\]"),
        (torch.tensor([[[1.0]]]), "C >= 2"),
    ],
)
def test_classification_prediction_rejects_bad_probs(probs, message):
    with pytest.raises(dl.InputError, match=message):
        dl.ClassificationPrediction(probs)


def test_empty_predictions_are_valid():
    assert dl.RegressionPrediction(torch.zeros(0), torch.zeros(0), 1.0).n == 0
    assert dl.ClassificationPrediction(torch.zeros(3, 0, 4)).n == 0
