"""Conformal prediction: exact quantiles, closed-form jackknife+ equals refitting-free LOO,
and empirical coverage within 2 points of the nominal 90% over many splits."""

import numpy as np
import pytest
import torch

import designloop as dl
from designloop.trust.conformal import (
    conformal_quantile,
    conformal_sets,
    cv_plus,
    gp_jackknife_plus,
    jackknife_plus,
    lac_sets,
    lac_threshold,
    split_conformal,
    split_conformal_interval,
    split_conformal_quantile,
)


def test_conformal_quantile_hand_computed():
    assert conformal_quantile(np.arange(1, 10), 0.9) == 9  # ceil(10 * 0.9) = 9th of 9
    assert conformal_quantile(np.arange(1, 20), 0.9) == 18  # ceil(20 * 0.9) = 18th
    assert conformal_quantile([1.0, 2.0], 0.9) == float("inf")  # too few to promise 90%
    with pytest.raises(dl.InputError, match="between 0 and 1"):
        conformal_quantile([1.0], 90)


def test_split_conformal_pieces_hand_computed():
    y = np.arange(10.0)  # residuals 0..9 from a zero mean
    # normalised by sd 2: scores 0, 0.5, ..., 4.5; ceil(11 * 0.9) = 10th of 10
    assert split_conformal_quantile(y, np.zeros(10), np.full(10, 4.0), 0.9) == 4.5
    assert split_conformal_quantile(y, np.zeros(10), None, 0.9) == 9.0
    assert split_conformal_quantile(y[:8], np.zeros(8), None, 0.9) == float("inf")
    # a zero variance is floored, not a division by zero
    assert np.isfinite(split_conformal_quantile(y[:9] + 1, np.zeros(9), np.zeros(9), 0.5))
    pred = dl.RegressionPrediction(torch.tensor([1.0, -2.0]), torch.tensor([3.0, 0.0]),
                                   torch.tensor(1.0))
    lo, hi = split_conformal_interval(pred, 1.5)  # sd 2 and 1
    assert lo.tolist() == [-2.0, -3.5] and hi.tolist() == [4.0, -0.5]
    lo, hi = split_conformal_interval(pred, 1.5, normalised=False)
    assert lo.tolist() == [-0.5, -3.5] and hi.tolist() == [2.5, -0.5]
    # split_conformal is the two pieces together
    lo, hi = split_conformal(pred, [2.0, 0.0], pred, level=0.5)  # scores 0.5, 2: 2nd of 2
    assert lo.tolist() == [-3.0, -4.0] and hi.tolist() == [5.0, 0.0]


def test_lac_threshold_and_sets_hand_computed():
    probs_cal = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7]])
    # scores 1 - p_y: 0.1, 0.2, 0.7; ceil(4 * 0.5) = 2nd smallest
    assert lac_threshold(probs_cal, [0, 1, 0], 0.5) == pytest.approx(0.2)
    probs = torch.tensor([[0.85, 0.15], [0.5, 0.5], [0.3, 0.7]], dtype=torch.float64)
    assert lac_sets(probs, 0.2).tolist() == [[True, False], [False, False], [False, False]]
    # never empty: the most probable class joins (the first of a tie)
    assert lac_sets(probs, 0.2, never_empty=True).tolist() == [
        [True, False], [True, False], [False, True]]
    assert lac_sets(probs, 0.5).tolist() == [[True, False], [True, True], [False, True]]


def sample(gen, n):
    x = gen.uniform(-3, 3, size=(n, 1))
    y = np.sin(x[:, 0]) + 0.3 * gen.standard_normal(n) * (1 + 0.5 * np.abs(x[:, 0]))
    return torch.from_numpy(x), torch.from_numpy(y)


@pytest.mark.slow
def test_split_conformal_coverage_over_many_splits():
    gen = np.random.default_rng(0)
    coverages = []
    for _ in range(200):
        Xf, yf = sample(gen, 60)
        Xc, yc = sample(gen, 200)
        Xt, yt = sample(gen, 200)
        model = dl.RandomForest(n_estimators=30, seed=int(gen.integers(1000))).fit(Xf, yf)
        lo, hi = split_conformal(model.predict(Xc), yc, model.predict(Xt), level=0.9)
        coverages.append(((yt >= lo) & (yt <= hi)).double().mean().item())
    assert abs(np.mean(coverages) - 0.9) <= 0.02


def test_gp_jackknife_plus_matches_explicit_leave_one_out():
    gen = np.random.default_rng(1)
    X, y = sample(gen, 15)
    Xt, _ = sample(gen, 4)
    gp = dl.GPRegressor().fit(X, y)
    lo, hi = gp_jackknife_plus(gp, Xt, level=0.8)
    # explicit: condition the fitted model (same hyper-parameters) on all points but i
    bm = gp.model_
    loo_means, residuals = [], []
    for i in range(15):
        keep = [j for j in range(15) if j != i]
        Xn, yn = bm.train_inputs[0][keep], bm.train_targets[keep]
        K = bm.covar_module(Xn).to_dense() + bm.likelihood.noise * torch.eye(14)
        m0 = bm.mean_module(Xn[:1]).reshape(-1)[0]
        w = torch.linalg.solve(K, yn - m0)
        scale = bm.outcome_transform.stdvs.reshape(())
        shift = bm.outcome_transform.means.reshape(())
        at = lambda Z: (m0 + bm.covar_module(Z, Xn).to_dense() @ w) * scale + shift  # noqa
        with torch.no_grad():
            loo_means.append(at(gp.transform_inputs(Xt)))
            residuals.append((y[i] - at(bm.train_inputs[0][i : i + 1])).abs()[0])
    elo, ehi = jackknife_plus(torch.stack(loo_means).detach(), torch.stack(residuals).detach(), 0.8)
    assert torch.allclose(lo, elo, atol=1e-8) and torch.allclose(hi, ehi, atol=1e-8)


@pytest.mark.slow
def test_gp_jackknife_plus_coverage_over_many_splits():
    gen = np.random.default_rng(2)
    coverages = []
    for _ in range(60):
        X, y = sample(gen, 80)
        Xt, yt = sample(gen, 200)
        gp = dl.GPRegressor(seed=0).fit(X, y)
        lo, hi = gp_jackknife_plus(gp, Xt, level=0.9)
        coverages.append(((yt >= lo) & (yt <= hi)).double().mean().item())
    assert abs(np.mean(coverages) - 0.9) <= 0.02


def test_cv_plus_intervals_contain_the_mean_and_widen_with_level():
    gen = np.random.default_rng(3)
    X, y = sample(gen, 50)
    Xt, _ = sample(gen, 20)
    forest = dl.RandomForest(n_estimators=20)
    lo80, hi80 = cv_plus(forest, X, y, Xt, level=0.8)
    lo95, hi95 = cv_plus(forest, X, y, Xt, level=0.95)
    assert (hi95 - lo95 >= hi80 - lo80 - 1e-12).all() and (lo80 < hi80).all()


@pytest.mark.slow
@pytest.mark.parametrize("method", ["lac", "aps"])
def test_prediction_sets_cover_90_percent(method):
    gen = np.random.default_rng(4)
    centres = np.array([[0.0, 0.0], [1.5, 0.0], [0.0, 1.5]])
    coverages, sizes = [], []
    for split in range(100):
        labels = gen.integers(0, 3, size=500)
        X = torch.from_numpy(centres[labels] + gen.standard_normal((500, 2)))
        model = dl.RandomForest(task="classification", n_estimators=30, min_samples_leaf=5,
                                seed=split).fit(X[:100], labels[:100])
        sets = conformal_sets(model.predict(X[100:300]), labels[100:300],
                              model.predict(X[300:]), level=0.9, method=method, rng=split)
        covered = sets[torch.arange(200), torch.from_numpy(labels[300:])]
        coverages.append(covered.double().mean().item())
        sizes.append(sets.sum(1).double().mean().item())
    assert abs(np.mean(coverages) - 0.9) <= 0.02
    assert 1.0 < np.mean(sizes) < 3.0  # informative: not every class every time
