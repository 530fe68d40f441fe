"""GP regression: honest uncertainty, robustness to awkward data, fingerprint kernels."""

import math

import numpy as np
import pytest
import torch
from gpytorch.kernels import MaternKernel, RBFKernel, ScaleKernel

import designloop as dl
from designloop.surrogates.kernels import dense_cross_covariance


def test_variance_small_at_data_and_large_far_away():
    X = torch.linspace(0, 1, 8, dtype=torch.float64)[:, None]
    y = torch.sin(6 * X[:, 0])
    model = dl.GPRegressor().fit(X, y)
    pred = model.predict(torch.tensor([[0.0], [3.0 / 7.0], [4.0], [-3.0]], dtype=torch.float64))
    near, far = pred.epistemic_var[:2], pred.epistemic_var[2:]
    assert near.max() < 0.01 * far.min()
    assert pred.mean[:2].numpy() == pytest.approx(y[[0, 3]].numpy(), abs=0.05)


def hartmann4(X):
    # a smooth 4-D test function: sum of Gaussians (Hartmann-like, fixed constants)
    centres = torch.tensor([[0.2, 0.3, 0.7, 0.5], [0.8, 0.6, 0.2, 0.3], [0.5, 0.9, 0.4, 0.8]],
                           dtype=torch.float64)
    weights = torch.tensor([1.0, 1.4, 0.8], dtype=torch.float64)
    d2 = ((X[:, None, :] - centres[None]) ** 2).sum(-1)
    return (weights * torch.exp(-4.0 * d2)).sum(-1)


def test_predictive_interval_coverage_on_held_out_points():
    gen = torch.Generator().manual_seed(0)
    noise_sd = 0.05
    X = torch.rand(60, 4, generator=gen, dtype=torch.float64)
    y = hartmann4(X) + noise_sd * torch.randn(60, generator=gen, dtype=torch.float64)
    Xt = torch.rand(2000, 4, generator=gen, dtype=torch.float64)
    yt = hartmann4(Xt) + noise_sd * torch.randn(2000, generator=gen, dtype=torch.float64)
    pred = dl.GPRegressor().fit(X, y).predict(Xt)
    half = 1.6448536 * pred.total_var.sqrt()
    coverage = ((yt - pred.mean).abs() <= half).double().mean().item()
    assert 0.80 <= coverage <= 0.97, coverage
    # and the model is informative: RMSE well below the spread of the function
    rmse = (pred.mean - yt).pow(2).mean().sqrt().item()
    assert rmse < 0.5 * yt.std().item()


@pytest.mark.parametrize("scale", [1e-6, 1.0, 1e6])
def test_target_scale_does_not_matter(scale):
    gen = torch.Generator().manual_seed(1)
    X = torch.rand(25, 2, generator=gen, dtype=torch.float64)
    y = torch.sin(5 * X[:, 0]) + X[:, 1]
    pred = dl.GPRegressor().fit(X, y * scale).predict(X)
    assert (pred.mean / scale).numpy() == pytest.approx(y.numpy(), abs=0.05)
    assert (pred.noise_var / scale**2).item() < 0.01


def test_constant_target_and_duplicates():
    X = torch.rand(12, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    pred = dl.GPRegressor().fit(X, torch.full((12,), 3.5)).predict(X)
    assert pred.mean.numpy() == pytest.approx(np.full(12, 3.5), abs=1e-6)
    Xd = torch.cat([X, X])
    yd = torch.cat([X.sum(1), X.sum(1) + 0.01])
    pred = dl.GPRegressor().fit(Xd, yd).predict(X)
    assert pred.mean.numpy() == pytest.approx((X.sum(1) + 0.005).numpy(), abs=0.05)


def test_fixed_noise_is_reported_in_target_units():
    X = torch.rand(10, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    model = dl.GPRegressor(noise=0.25).fit(X, 10 * X[:, 0])
    assert model.predict(X).noise_var.item() == pytest.approx(0.25)


def test_chunked_prediction_equals_one_chunk():
    gen = torch.Generator().manual_seed(4)
    X = torch.rand(30, 3, generator=gen, dtype=torch.float64)
    y = X.sum(1).sin()
    pool = torch.rand(1000, 3, generator=gen, dtype=torch.float64)
    a = dl.GPRegressor(chunk_size=64).fit(X, y).predict(pool)
    b = dl.GPRegressor(chunk_size=5000).fit(X, y).predict(pool)
    assert torch.allclose(a.mean, b.mean, atol=1e-10)
    assert torch.allclose(a.epistemic_var, b.epistemic_var, atol=1e-10)


def test_posterior_samples_match_mean_and_variance():
    gen = torch.Generator().manual_seed(5)
    X = torch.rand(20, 2, generator=gen, dtype=torch.float64)
    model = dl.GPRegressor().fit(X, torch.cos(4 * X[:, 0]))
    pool = torch.rand(6, 2, generator=gen, dtype=torch.float64)
    draws = model.sample_posterior(pool, 4000, seed=0)
    pred = model.predict(pool)
    assert draws.shape == (4000, 6)
    sd = pred.epistemic_var.sqrt()
    assert ((draws.mean(0) - pred.mean).abs() < 5 * sd / math.sqrt(4000) + 1e-9).all()
    assert draws.var(0).numpy() == pytest.approx(pred.epistemic_var.numpy(), rel=0.15)
    assert torch.equal(draws, model.sample_posterior(pool, 4000, seed=0))


def test_tanimoto_gp_on_fingerprints():
    gen = np.random.default_rng(0)
    fp = (gen.uniform(size=(80, 128)) < 0.15).astype(np.float64)
    weights = gen.normal(size=128)
    y = fp @ weights / 4
    model = dl.GPRegressor(kernel="tanimoto").fit(fp[:60], y[:60])
    pred = model.predict(fp[60:])
    corr = np.corrcoef(pred.mean.numpy(), y[60:])[0, 1]
    assert corr > 0.5
    with pytest.raises(dl.InputError, match="non-negative"):
        dl.GPRegressor(kernel="tanimoto").fit(-fp[:10], y[:10])


def test_unknown_kernel_lists_choices():
    with pytest.raises(dl.InputError, match="matern, rbf, tanimoto, minmax"):
        dl.GPRegressor(kernel="periodic").fit(torch.rand(3, 1), torch.rand(3))


@pytest.mark.parametrize("kernel, noise, n", [("matern", None, 80), ("rbf", 0.01, 80),
                                              ("tanimoto", None, 80), ("matern", None, 600)])
def test_cached_cholesky_prediction_equals_botorch_posterior(kernel, noise, n):
    # n = 600 takes the blocked-triangle path of the variance (column blocks of L^-T)
    gen = torch.Generator().manual_seed(6)
    X = torch.rand(n, 5, generator=gen, dtype=torch.float64)
    pool = torch.rand(500, 5, generator=gen, dtype=torch.float64)
    if kernel == "tanimoto":
        X, pool = (X > 0.5).double(), (pool > 0.5).double()
    y = torch.sin(3 * X.sum(1)) + 0.1 * torch.randn(n, generator=gen, dtype=torch.float64)
    model = dl.GPRegressor(kernel=kernel, noise=noise, chunk_size=128, max_iter=50).fit(X, y)
    pred = model.predict(pool)
    with torch.no_grad():
        post = model.model_.posterior(pool.unsqueeze(-2))
    assert torch.allclose(pred.mean, post.mean.reshape(-1), atol=1e-8, rtol=0)
    assert torch.allclose(pred.epistemic_var, post.variance.reshape(-1), atol=1e-8, rtol=0)


def test_a_fit_that_keeps_failing_says_so(monkeypatch):
    from linear_operator.utils.errors import NotPSDError

    tried = []

    def always_fails(self, X, y, d, jitter, subset=None, bounds=None, start=None, refit=True):
        tried.append(jitter)
        raise NotPSDError("matrix not positive definite")

    monkeypatch.setattr(dl.GPRegressor, "_fit_once", always_fails)
    with pytest.raises(dl.SurrogateFitError, match="failed even with jitter 0.01"):
        dl.GPRegressor().fit(torch.rand(5, 2, dtype=torch.float64), torch.rand(5))
    assert tried == [None, 1e-6, 1e-4, 1e-2]  # retried with more jitter before giving up


@pytest.mark.parametrize("make", [
    lambda: MaternKernel(nu=0.5), lambda: MaternKernel(nu=1.5),
    lambda: MaternKernel(nu=2.5, ard_num_dims=4), lambda: RBFKernel(ard_num_dims=4),
    lambda: ScaleKernel(MaternKernel(nu=2.5, ard_num_dims=4)),
])
def test_dense_cross_covariance_equals_gpytorch(make):
    gen = torch.Generator().manual_seed(2)
    kernel = make().double()
    with torch.no_grad():
        for _name, param in kernel.named_parameters():
            param.copy_(torch.randn(param.shape, generator=gen, dtype=torch.float64))
        A = torch.rand(300, 4, generator=gen, dtype=torch.float64)
        B = torch.rand(40, 4, generator=gen, dtype=torch.float64)
        B[:5] = A[:5]  # zero distances
        dense = dense_cross_covariance(kernel, A, B, center=B.mean(0))
        expected = kernel(A, B).to_dense()
    assert torch.allclose(dense, expected, atol=1e-12, rtol=0)


def test_dense_cross_covariance_declines_other_kernels():
    from designloop.surrogates.kernels import TanimotoKernel

    A = torch.rand(5, 3, dtype=torch.float64)
    assert dense_cross_covariance(TanimotoKernel(), A, A) is None
    assert dense_cross_covariance(MaternKernel(nu=2.5, active_dims=[0, 1]), A, A) is None


def test_large_fits_use_a_subset_for_hyperparameters_and_condition_on_everything():
    gen = torch.Generator().manual_seed(3)
    X = torch.rand(400, 3, generator=gen, dtype=torch.float64)
    y = torch.sin(5 * X[:, 0]) + X[:, 1] ** 2 + 0.01 * torch.randn(400, generator=gen,
                                                                   dtype=torch.float64)
    test = torch.rand(2000, 3, generator=gen, dtype=torch.float64)
    truth = torch.sin(5 * test[:, 0]) + test[:, 1] ** 2
    model = dl.GPRegressor(max_fit_points=60, max_iter=50).fit(X, y)
    assert model.fit_subset_.shape == (60,) and len(set(model.fit_subset_.tolist())) == 60
    assert model.model_.train_inputs[0].shape[0] == 400
    pred = model.predict(test)
    with torch.no_grad():
        post = model.model_.posterior(test.unsqueeze(-2))
    assert torch.allclose(pred.mean, post.mean.reshape(-1), atol=1e-8, rtol=0)
    assert torch.allclose(pred.epistemic_var, post.variance.reshape(-1), atol=1e-8, rtol=0)
    only_subset = dl.GPRegressor(max_iter=50).fit(X[model.fit_subset_], y[model.fit_subset_])
    rmse = float((pred.mean - truth).pow(2).mean().sqrt())
    rmse_subset = float((only_subset.predict(test).mean - truth).pow(2).mean().sqrt())
    assert rmse < 0.5 * rmse_subset
    assert dl.GPRegressor(max_iter=50).fit(X[:100], y[:100]).fit_subset_ is None


def test_domain_scaling_uses_the_pool_range_and_clones_keep_it():
    gen = torch.Generator().manual_seed(0)
    X = torch.rand(20, 3, generator=gen, dtype=torch.float64)
    y = X.sum(1)
    pool = torch.cat([X, torch.full((1, 3), 2.0, dtype=torch.float64),
                      torch.full((1, 3), -1.0, dtype=torch.float64)])
    gp = dl.GPRegressor(input_scaling="domain").fit(X, y, domain=pool)
    expected = torch.tensor([[-1.0] * 3, [2.0] * 3], dtype=torch.float64)
    assert torch.equal(gp.domain_bounds_, expected)
    # the model sees the pool in the unit cube: its corners map to 0 and 1
    corners = gp.transform_inputs(pool[-2:])
    assert torch.allclose(corners, torch.tensor([[1.0] * 3, [0.0] * 3], dtype=torch.float64))
    refit = gp.clone().fit(X[:10], y[:10])  # e.g. a cross-validation fold
    assert torch.equal(refit.domain_bounds_, expected)
    # the default scales by the training inputs and ignores a domain
    plain = dl.GPRegressor().fit(X, y, domain=pool)
    assert plain.domain_bounds_ is None
    assert torch.allclose(plain.transform_inputs(X).min(0).values,
                          torch.zeros(3, dtype=torch.float64))
    with pytest.raises(dl.InputError, match="input_scaling"):
        dl.GPRegressor(input_scaling="pool").fit(X, y)
