"""Batch selection: greedy conditioning equals brute force, BatchBALD avoids duplicates,
k-center is within 2x of the optimal covering radius."""

import itertools

import numpy as np
import pytest
import torch

import designloop as dl
from designloop.batch.batchbald import batch_bald
from designloop.batch.believer import kriging_believer
from designloop.batch.diversity import (
    covering_radius,
    information_density,
    initial_design,
    k_center_greedy,
    kmeans_pp,
    top_m_then_diverse,
)
from designloop.batch.greedy import greedy_conditional
from designloop.batch.qbatch import botorch_batch


def sine_problem(seed: int, n_train: int, n_pool: int):
    """A GP fitted to sin(4 sum x) + noise on n_train points of the unit cube, and a pool."""
    gen = torch.Generator().manual_seed(seed)
    X = torch.rand(n_train, 3, generator=gen, dtype=torch.float64)
    y = torch.sin(4 * X.sum(1)) + 0.05 * torch.randn(n_train, generator=gen,
                                                     dtype=torch.float64)
    pool = torch.rand(n_pool, 3, generator=gen, dtype=torch.float64)
    return dl.GPRegressor().fit(X, y), X, y, pool


@pytest.fixture(scope="module")
def gp_problem():
    return sine_problem(0, 25, 60)


def brute_force(model, pool, k, noise):
    """Greedy max-variance by explicit conditioning of the joint posterior covariance."""
    with torch.no_grad():
        cov = model.model_.posterior(pool).distribution.covariance_matrix.clone()
    picks, variances = [], []
    for _ in range(k):
        var = cov.diagonal().clone()
        var[picks] = -1.0
        p = int(var.argmax())
        picks.append(p)
        variances.append(cov.diagonal().clone())
        col = cov[:, p].clone()
        cov = cov - torch.outer(col, col) / (col[p] + noise)
    return picks, variances


def joint_information(model, pool, picks, noise):
    with torch.no_grad():
        cov = model.model_.posterior(pool[picks]).distribution.covariance_matrix
    return 0.5 * torch.logdet(torch.eye(len(picks), dtype=torch.float64) + cov / noise).item()


def test_greedy_conditional_equals_brute_force_conditioning(gp_problem):
    model, _, _, pool = gp_problem
    noise = float(model.noise_variance())
    picks, scores = greedy_conditional(model, pool, 6, dl.ACQUISITIONS["max_variance"])
    expected, variances = brute_force(model, pool, 6, noise)
    assert picks.tolist() == expected
    for j, p in enumerate(picks):
        assert scores[j].item() == pytest.approx(variances[j][p].item(), abs=1e-8)


def test_greedy_conditional_beats_top_k_on_joint_information(gp_problem):
    model, _, _, pool = gp_problem
    noise = float(model.noise_variance())
    dense = torch.cat([pool, pool[:10] + 1e-3])  # near-duplicates tempt top-k
    greedy, _ = greedy_conditional(model, dense, 8, dl.ACQUISITIONS["bald"])
    topk = dl.top_k(model.predict(dense).epistemic_var, 8)
    assert joint_information(model, dense, greedy.tolist(), noise) > joint_information(
        model, dense, topk.tolist(), noise)


def test_greedy_conditional_uncached_equals_cached(gp_problem, monkeypatch):
    import designloop.batch.greedy as batch

    model, _, _, pool = gp_problem
    a, sa = greedy_conditional(model, pool, 5, dl.ACQUISITIONS["max_variance"])
    monkeypatch.setattr(batch, "_CACHE_ELEMENTS", 0)
    b, sb = greedy_conditional(model, pool, 5, dl.ACQUISITIONS["max_variance"], chunk_size=7)
    assert a.tolist() == b.tolist() and torch.allclose(sa, sb, atol=1e-10)


@pytest.mark.parametrize("active_min", [1024, 16])
@pytest.mark.parametrize("name", ["max_variance", "log_expected_improvement", "ucb"])
def test_lazy_greedy_gives_the_whole_pool_greedy(gp_problem, name, active_min, monkeypatch):
    import designloop.batch.greedy as batch

    monkeypatch.setattr(batch, "_ACTIVE_MIN", active_min)  # 16: the active set must grow
    model, X, y, _ = gp_problem
    pool = torch.rand(6000, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    acquisition = dl.ACQUISITIONS[name]
    context = {"best_f": float(y.max()), "goal": "maximize"}
    exclude = np.arange(0, 6000, 7)
    fast, fast_scores = greedy_conditional(model, pool, 40, acquisition, exclude=exclude, rng=0,
                                           **context)
    monkeypatch.setattr(batch, "_RESCORE", 10**9)  # and every tracked score recomputed
    full, full_scores = greedy_conditional(model, pool, 40, acquisition, exclude=exclude, rng=0,
                                           lazy=False, **context)
    assert fast.tolist() == full.tolist()
    assert torch.allclose(fast_scores, full_scores, atol=1e-9, rtol=0)
    assert not set(fast.tolist()) & set(exclude.tolist())


class Recording:
    """A surrogate whose clones record every fit: (X, y, the fitted model)."""

    def __init__(self, base, fits):
        self.base, self.fits = base, fits

    def clone(self):
        return Recording(self.base.clone(), self.fits)

    def fit(self, X, y):
        self.fits.append((X.clone(), y.clone(), self.base.fit(X, y)))
        return self

    def predict(self, X):
        return self.base.predict(X)


def test_greedy_conditional_excludes(gp_problem):
    model, _, _, pool = gp_problem
    picks, _ = greedy_conditional(model, pool, 4, dl.ACQUISITIONS["ucb"], exclude=[0, 1],
                                  beta=2.0, goal="maximize")
    assert not {0, 1} & set(picks.tolist()) and len(set(picks.tolist())) == 4


@pytest.mark.parametrize("surrogate", ["gp", "forest"])
def test_kriging_believer_keeps_the_mean_and_excludes(gp_problem, surrogate):
    _, X, y, pool = gp_problem
    base = dl.GPRegressor() if surrogate == "gp" else dl.RandomForest(n_estimators=30)
    fits = []
    ucb = dl.ACQUISITIONS["ucb"]
    kb, scores = kriging_believer(Recording(base, fits), pool, X, y, 3, ucb, exclude=[0])
    assert len(set(kb.tolist())) == 3 and 0 not in kb and len(fits) == 3
    preds = [fitted.predict(pool) for _, _, fitted in fits]
    for j, (Xj, yj, _) in enumerate(fits):
        # each pick is the best candidate left under the model fitted before it
        blocked = [0, *kb[:j].tolist()]
        assert kb[j] == int(dl.top_k(ucb(preds[j]), 1, exclude=blocked)[0])
        assert scores[j].item() == pytest.approx(ucb(preds[j])[kb[j]].item())
        # the fits see the observations and the earlier picks with their believed outcome:
        # the mean the model before predicted there
        assert torch.equal(Xj, torch.cat([X, pool[kb[:j]]]))
        believed = torch.stack([preds[i].mean[kb[i]] for i in range(j)]) if j else y[:0]
        assert torch.equal(yj, torch.cat([y, believed]))
    if surrogate == "gp":
        # believing a pick's mean leaves the GP's mean there alone (measured: under 0.001
        # sd) and shrinks its variance to about the noise (measured: 0.97 of it, from 40
        # times as much)
        for j in (1, 2):
            x = pool[kb[j - 1]][None]
            before, after = fits[j - 1][2].predict(x), fits[j][2].predict(x)
            assert abs(after.mean.item() - before.mean.item()) < 0.02 * before.sd.item()
            assert after.epistemic_var.item() <= 1.1 * after.noise_var.item()
            assert after.epistemic_var.item() < 0.1 * before.epistemic_var.item()


def test_botorch_q_batch_picks_the_candidates_that_can_improve(gp_problem):
    model, X, y, _ = gp_problem
    # 56 candidates within 0.001 of measured inputs whose results were neither high nor low
    # (the 7th to 20th of 25: predicted means -0.74 to 0.36, sd under 0.05; the results
    # span -0.99 to 0.84), and 4 far from every measurement (mean -0.20, sd 0.61) scattered
    # through the pool: only those can improve, for either goal (UCB, beta 2: 0.67 against
    # at most 0.42 when maximising, 1.06 against at most 0.81 when minimising)
    gen = torch.Generator().manual_seed(5)
    known = X[torch.argsort(y)[6:20]].repeat(4, 1)
    known = known + 1e-3 * torch.rand(known.shape, generator=gen, dtype=torch.float64)
    unexplored = torch.tensor([[2.5, 2.5, 2.5], [-1.5, 2.5, -1.5], [2.5, -1.5, -1.5],
                               [-1.5, -1.5, 2.5]], dtype=torch.float64)
    where = [11, 17, 38, 56]
    pool = torch.empty(60, 3, dtype=torch.float64)
    pool[where] = unexplored
    pool[[i for i in range(60) if i not in where]] = known
    for method in ("qlognei", "qucb"):
        for goal in ("maximize", "minimize"):
            picks = botorch_batch(model, pool, 3, method=method, goal=goal, exclude=[5, 11])
            assert sorted(picks.tolist()) == [17, 38, 56], (method, goal)


def test_batch_bald_first_pick_is_bald_top_pick():
    gen = torch.Generator().manual_seed(1)
    probs = torch.softmax(3 * torch.randn(8, 200, 4, generator=gen, dtype=torch.float64), -1)
    pred = dl.ClassificationPrediction(probs)
    picks, info = batch_bald(pred, 5, rng=0)
    assert picks[0] == int(dl.ACQUISITIONS["bald"](pred).argmax())
    assert info[0].item() == pytest.approx(dl.ACQUISITIONS["bald"](pred).max().item())
    assert (info.diff() > 0).all()  # joint information grows with the batch


def test_batch_bald_never_picks_a_duplicate_twice_top_k_does():
    # confident members that disagree: a repeat of a candidate tells (almost) nothing new
    gen = torch.Generator().manual_seed(2)
    base = torch.softmax(8 * torch.randn(20, 40, 3, generator=gen, dtype=torch.float64), -1)
    probs = torch.cat([base, base, base], dim=1)  # every candidate three times
    pred = dl.ClassificationPrediction(probs)
    picks, _ = batch_bald(pred, 6, rng=0)
    originals = picks % 40
    assert len(set(originals.tolist())) == 6
    topk = dl.top_k(dl.ACQUISITIONS["bald"](pred), 6) % 40
    assert len(set(topk.tolist())) < 6


def test_batch_bald_sampled_estimate_close_to_exact():
    gen = torch.Generator().manual_seed(3)
    probs = torch.softmax(2 * torch.randn(10, 60, 3, generator=gen, dtype=torch.float64), -1)
    pred = dl.ClassificationPrediction(probs)
    exact, info_exact = batch_bald(pred, 4, rng=0)
    sampled, info_sampled = batch_bald(pred, 4, rng=0, max_configurations=3, n_samples=20000)
    assert exact[:2].tolist() == sampled[:2].tolist()
    assert info_sampled[-1].item() == pytest.approx(info_exact[-1].item(), rel=0.05)


def test_k_center_within_twice_the_optimal_covering_radius():
    gen = np.random.default_rng(0)
    X = torch.from_numpy(gen.uniform(size=(12, 2)))
    k = 3
    greedy = k_center_greedy(X, k, rng=0)
    best = min(covering_radius(X, c) for c in itertools.combinations(range(12), k))
    assert covering_radius(X, greedy) <= 2 * best + 1e-12


def test_kmeans_pp_and_initial_designs_are_seeded_and_spread():
    gen = np.random.default_rng(1)
    X = torch.from_numpy(np.concatenate([gen.normal(c, 0.05, size=(50, 2))
                                         for c in ([0, 0], [3, 0], [0, 3], [3, 3])]))
    for method in ("maximin", "kmeans"):
        picks = initial_design(X, 4, method=method, rng=0)
        assert sorted(set((picks // 50).tolist())) == [0, 1, 2, 3], method  # one per cluster
        assert initial_design(X, 4, method=method, rng=0).tolist() == picks.tolist()
    assert len(set(initial_design(X, 10, "random", rng=0, exclude=[0]).tolist()) - {0}) == 10
    assert len(set((kmeans_pp(X, 4, rng=0) // 50).tolist())) >= 3
    with pytest.raises(dl.InputError, match="initial design"):
        initial_design(X, 2, "sobol")


def test_information_density_prefers_representative_points():
    X = torch.tensor([[0.0, 0.0]] * 20 + [[10.0, 10.0]], dtype=torch.float64)
    X[:20] += torch.linspace(0, 0.1, 20)[:, None]
    weighted = information_density(torch.ones(21), X)
    assert weighted[:20].min() > weighted[20]


def test_top_m_then_diverse_stays_in_the_shortlist_and_spreads():
    X = torch.tensor([[float(i), 0.0] for i in range(20)], dtype=torch.float64)
    scores = torch.arange(20, dtype=torch.float64)
    picks = top_m_then_diverse(scores, X, 2, m=6)
    assert set(picks.tolist()) <= set(range(14, 20))
    assert abs(int(picks[0]) - int(picks[1])) >= 4


@pytest.fixture(scope="module")
def screened_problem():
    return sine_problem(4, 300, 6000)


def test_variance_bound_is_the_posterior_given_the_pivots(screened_problem):
    model, _, _, pool = screened_problem
    assert model.screens()
    pred = model.predict(pool)
    bound, mean = model.variance_bound(pool, with_mean=True)
    assert torch.allclose(mean, pred.mean, atol=1e-10, rtol=0)
    assert bool((bound >= pred.epistemic_var).all())
    # by hand: the posterior variance given only the 64 pivots (max(64, 300 / 8)), same
    # hyper-parameters, in the target's units
    f = model.factors()
    pivots = model._screen()["pivots"]
    assert pivots.numel() == 64 and len(set(pivots.tolist())) == 64
    gp = model.model_
    with torch.no_grad():
        Xp = f["Xn"][pivots]
        K = gp.covar_module(Xp).to_dense() + gp.likelihood.noise * torch.eye(64)
        Kxp = gp.covar_module(model.transform_inputs(pool), Xp).to_dense()
        prior = gp.covar_module(model.transform_inputs(pool[:1])).to_dense()[0, 0]
        by_hand = (prior - (Kxp @ torch.linalg.solve(K, Kxp.T)).diagonal()) * f["y_std"] ** 2
    assert torch.allclose(bound, by_hand, atol=1e-8, rtol=0)
    # tight enough to screen: few candidates could beat the exact maximum
    assert (bound >= pred.epistemic_var.max()).float().mean() < 0.05


@pytest.mark.parametrize("k", [1, 5, 30])
@pytest.mark.parametrize("name", ["max_variance", "bald", "ucb", "expected_improvement",
                                  "log_expected_improvement"])
def test_screened_greedy_picks_what_the_full_greedy_picks(screened_problem, name, k):
    model, _, y, pool = screened_problem
    acquisition = dl.ACQUISITIONS[name]
    context = {"best_f": float(y.max()), "goal": "maximize"}
    exclude = np.arange(0, 6000, 11)
    fast, fast_scores = greedy_conditional(model, pool, k, acquisition, exclude=exclude, rng=0,
                                           **context)
    full, full_scores = greedy_conditional(model, pool, k, acquisition, exclude=exclude, rng=0,
                                           pred=model.predict(pool), **context)
    assert fast.tolist() == full.tolist()
    assert torch.allclose(fast_scores, full_scores, atol=1e-9, rtol=0)
