"""Expected gradient length: exact per-example gradient norms and sensible scores."""

import numpy as np
import pytest
import torch
from sklearn.datasets import make_moons

import designloop as dl
from designloop.acquisition.gradient import (
    per_example_grad_norms,
    per_example_grad_norms_reference,
)

EGL = dl.ACQUISITIONS["expected_gradient_length"]


@pytest.fixture(scope="module")
def moons():
    X, y = make_moons(300, noise=0.1, random_state=0)
    return X, y


def test_batched_norms_equal_torch_func_vmap_grad(moons):
    X, y = moons
    cls = dl.DeepEnsemble(task="classification", epochs=60).fit(X, y)
    Xs = cls.x_scaler_.transform(torch.tensor(X[:40]))
    labels = torch.tensor(y[:40])
    fast = per_example_grad_norms(cls.net_, Xs, labels, regression=False)
    ref = per_example_grad_norms_reference(cls.net_, Xs, labels, regression=False)
    assert fast.shape == (5, 40) and torch.allclose(fast, ref, atol=1e-10, rtol=1e-10)
    reg = dl.DeepEnsemble(epochs=60).fit(X, y.astype(float))
    target = torch.tensor(y[:40] + 0.3, dtype=torch.float64)
    Xr = reg.x_scaler_.transform(torch.tensor(X[:40]))
    assert torch.allclose(per_example_grad_norms(reg.net_, Xr, target, True),
                          per_example_grad_norms_reference(reg.net_, Xr, target, True),
                          atol=1e-10, rtol=1e-10)


def test_expected_gradient_length_by_hand_for_one_candidate(moons):
    X, y = moons
    model = dl.DeepEnsemble(task="classification", epochs=60).fit(X, y)
    x = torch.tensor([[0.5, 0.25]], dtype=torch.float64)
    pred = model.predict(x)
    Xs = model.x_scaler_.transform(x)
    expected = sum(pred.mean_probs[0, c] * per_example_grad_norms_reference(
        model.net_, Xs, torch.tensor([c]), False).mean() for c in range(2))
    assert EGL(pred, model=model, X=x).item() == pytest.approx(expected.item(), rel=1e-10)


def test_egl_higher_at_the_boundary_than_inside_the_classes(moons):
    X, y = moons
    model = dl.DeepEnsemble(task="classification").fit(X, y)
    g0, g1 = np.meshgrid(np.linspace(-1.2, 2.2, 50), np.linspace(-0.7, 1.2, 30))
    grid = torch.from_numpy(np.column_stack([g0.ravel(), g1.ravel()]))
    pred = model.predict(grid)
    p = pred.mean_probs[:, 1]
    scores = EGL(pred, model=model, X=grid)
    uncertain, confident = (p - 0.5).abs() < 0.2, (p - 0.5).abs() > 0.499
    assert uncertain.sum() >= 5 and confident.sum() >= 100
    assert scores[uncertain].mean() > 10 * scores[confident].mean()


def test_egl_chunks_and_regression(moons):
    X, y = moons
    model = dl.MCDropout(epochs=60).fit(X, y + 0.1 * np.random.default_rng(0).normal(size=300))
    pool = torch.rand(3000, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    pred = model.predict(pool)
    a = EGL(pred, model=model, X=pool, chunk_size=512)
    b = EGL(pred, model=model, X=pool, chunk_size=5000)
    assert torch.allclose(a, b) and (a > 0).all()


def test_egl_needs_a_differentiable_surrogate():
    X = torch.rand(10, 2, dtype=torch.float64)
    gp = dl.GPRegressor().fit(X, X.sum(1))
    with pytest.raises(dl.AcquisitionError, match="ensemble"):
        EGL(gp.predict(X), model=gp, X=X)
