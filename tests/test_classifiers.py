"""Classification surrogates: accuracy on real data and uncertainty where it belongs."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_breast_cancer, make_moons
from sklearn.model_selection import train_test_split

import designloop as dl


@pytest.fixture(scope="module")
def breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


@pytest.mark.parametrize(
    "model",
    [dl.GPClassifier(), dl.DeepEnsemble(task="classification"),
     dl.MCDropout(task="classification"), dl.RandomForest(task="classification")],
    ids=["gp_classifier", "ensemble", "mc_dropout", "forest"],
)
def test_breast_cancer_held_out_accuracy(breast_cancer, model):
    Xtr, Xte, ytr, yte = breast_cancer
    pred = model.fit(Xtr, ytr).predict(Xte)
    accuracy = (pred.mean_probs.argmax(1).numpy() == yte).mean()
    assert accuracy >= 0.93, accuracy


def test_ensemble_bald_higher_near_the_boundary_on_two_moons():
    X, y = make_moons(n_samples=300, noise=0.1, random_state=0)
    model = dl.DeepEnsemble(task="classification").fit(X, y)
    # a grid over the data; keep points close to the data (in distribution)
    g0, g1 = np.meshgrid(np.linspace(-1.2, 2.2, 60), np.linspace(-0.7, 1.2, 40))
    grid = np.column_stack([g0.ravel(), g1.ravel()])
    dist = np.linalg.norm(grid[:, None, :] - X[None, :, :], axis=-1)
    grid, dist = grid[dist.min(1) < 0.1], dist[dist.min(1) < 0.1]
    # near the boundary: the 10 nearest observations are mixed; far: all agree and the
    # nearest point of the other class is more than 0.5 away
    nearest = np.argsort(dist, axis=1)[:, :10]
    share = y[nearest].mean(1)
    other = np.where(share[:, None] > 0.5, dist + 1e9 * (y == 1), dist + 1e9 * (y == 0)).min(1)
    near = grid[(share > 0.2) & (share < 0.8)]
    far = grid[((share == 0) | (share == 1)) & (other > 0.5)]
    assert len(near) >= 10 and len(far) >= 50
    bald = dl.ACQUISITIONS["bald"]
    b_near, b_far = bald(model.predict(near)), bald(model.predict(far))
    assert b_near.mean() > 10 * b_far.mean()
    assert torch.median(b_near) > torch.quantile(b_far, 0.9)


def test_gp_classifier_probabilities_sharp_at_data_uniform_far_away():
    X, y = make_moons(n_samples=200, noise=0.1, random_state=1)
    model = dl.GPClassifier().fit(X, y)
    at_data = model.predict(X).mean_probs
    assert (at_data.argmax(1).numpy() == y).mean() > 0.95
    far = model.predict(np.array([[30.0, 30.0], [-30.0, 20.0]])).mean_probs
    assert far.numpy() == pytest.approx(np.full((2, 2), 0.5), abs=0.1)


def test_bootstrap_committee_gives_gps_a_committee_for_vote_entropy():
    X, y = make_moons(n_samples=150, noise=0.15, random_state=2)
    committee = dl.BootstrapCommittee(base="gp_classifier", n_members=5,
                                      base_params={"n_iter": 40}).fit(X, y)
    grid = np.array([[0.5, 0.25], [-1.0, 0.2], [2.0, 0.5], [0.0, 1.0], [1.0, -0.5]])
    pred = committee.predict(grid)
    assert pred.probs.shape == (5, 5, 2)
    ve = dl.ACQUISITIONS["vote_entropy"](pred)
    kl = dl.ACQUISITIONS["kl_disagreement"](pred)
    assert torch.isfinite(ve).all() and (kl >= 0).all()
    # members disagree somewhere: the bootstrap makes a real committee
    assert pred.probs.std(0).max() > 0.01
    accuracy = (committee.predict(X).mean_probs.argmax(1).numpy() == y).mean()
    assert accuracy > 0.9


def test_gp_classifier_cached_latent_equals_gpytorch_posterior():
    import warnings

    from sklearn.datasets import load_wine

    X, y = load_wine(return_X_y=True)
    model = dl.GPClassifier(chunk_size=16).fit(X[:120], y[:120])
    mean, var = model.latent(X[120:])
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exact = model.model_(model.scaler_.transform(torch.tensor(X[120:])))
    assert torch.allclose(mean, exact.mean.T, atol=1e-7)
    assert torch.allclose(var, exact.variance.T, atol=1e-7)


def test_gp_classifier_latent_by_triangle_blocks_equals_gpytorch_posterior():
    import warnings

    gen = torch.Generator().manual_seed(5)
    X = torch.rand(400, 3, generator=gen, dtype=torch.float64)  # n = 400: several blocks
    y = (X[:, 0] > 0.4).long() + (X[:, 1] > 0.6).long()  # three classes
    pool = torch.rand(700, 3, generator=gen, dtype=torch.float64)
    model = dl.GPClassifier(n_iter=30).fit(X, y)
    assert len(model._cache()["blocks"][0]) > 1
    mean, var = model.latent(pool)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exact = model.model_(model.scaler_.transform(pool))
        c = model._cache()  # the plain product with the whole inverse factor
        Ks = model.model_.covar_module(model.scaler_.transform(pool), c["Xn"]).to_dense()
        V = Ks @ c["L_inv"].transpose(-1, -2)
        plain_mean = (c["mean0"] + Ks @ c["alpha"][..., None])[..., 0].T
        plain_var = (1.0 - V.pow(2).sum(-1)).T
    assert torch.allclose(mean, plain_mean, atol=1e-12, rtol=0)
    assert torch.allclose(var, plain_var, atol=1e-12, rtol=0)
    assert torch.allclose(mean, exact.mean.T, atol=1e-7, rtol=0)
    assert torch.allclose(var, exact.variance.T, atol=1e-7, rtol=0)


def test_gp_classifier_fits_hyperparameters_on_a_subset_of_large_data():
    gen = torch.Generator().manual_seed(4)
    X = torch.rand(700, 2, generator=gen, dtype=torch.float64)
    y = (X[:, 0] + X[:, 1] > 1).long()
    model = dl.GPClassifier(max_fit_points=100, n_iter=30).fit(X[:500], y[:500])
    assert model.fit_subset_.shape == (100,)
    assert model.model_.train_inputs[0].shape[0] == 500
    accuracy = (model.predict(X[500:]).mean_probs.argmax(1) == y[500:]).double().mean()
    assert accuracy >= 0.93
