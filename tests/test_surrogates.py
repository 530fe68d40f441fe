"""Conformance: every surrogate passes the same checks (the estimator contract)."""

import numpy as np
import pytest
import torch

import designloop as dl
from designloop.surrogates.base import fit_with_domain

CASES = [
    ("gp", {}),
    ("gp", {"kernel": "rbf"}),
    ("gp_classifier", {}),
    ("ensemble", {"task": "regression"}),
    ("ensemble", {"task": "classification"}),
    ("mc_dropout", {"task": "regression"}),
    ("mc_dropout", {"task": "classification"}),
    ("forest", {"task": "regression"}),
    ("forest", {"task": "classification"}),
    ("label_spreading", {}),
    ("bootstrap", {"base": "forest", "task": "regression", "base_params": {"n_estimators": 20}}),
    ("bootstrap", {"base": "gp_classifier", "task": "classification", "n_members": 3,
                   "base_params": {"n_iter": 30}}),
]
IDS = [f"{name}-{'-'.join(str(v) for v in p.values() if not isinstance(v, dict)) or 'default'}"
       for name, p in CASES]


def make(name, params):
    return dl.SURROGATES[name](**params)


def data(task, n=30, d=3, seed=0):
    gen = np.random.default_rng(seed)
    X = gen.uniform(size=(n, d))
    f = np.sin(4 * X[:, 0]) + X[:, 1] ** 2 - X[:, 2]
    y = f + 0.05 * gen.normal(size=n) if task == "regression" else (f > np.median(f)).astype(int)
    return torch.from_numpy(X), torch.from_numpy(y)


def check_prediction(pred, task, n):
    if task == "regression":
        assert isinstance(pred, dl.RegressionPrediction)
        assert pred.mean.shape == (n,) and pred.epistemic_var.shape == (n,)
        assert pred.noise_var.dim() == 0 or pred.noise_var.shape == (n,)
        assert pred.mean.dtype == torch.float64
        assert torch.isfinite(pred.mean).all() and (pred.epistemic_var >= 0).all()
    else:
        assert isinstance(pred, dl.ClassificationPrediction)
        assert pred.probs.shape[1:] == (n, 2) and pred.n_members >= 1


@pytest.mark.parametrize("name, params", CASES, ids=IDS)
def test_contract(name, params):
    model = make(name, params)
    task = model.task
    X, y = data(task)
    assert model.get_params()["seed"] == 0
    assert not model.is_fitted
    with pytest.raises(dl.NotFittedError, match="fit"):
        model.predict(X)
    assert model.fit(X, y) is model
    assert model.n_features_ == 3
    check_prediction(model.predict(X[:7]), task, 7)
    # a pool of 0 rows
    check_prediction(model.predict(X[:0]), task, 0)
    # wrong width is a clear error
    with pytest.raises(dl.InputError, match="feature columns"):
        model.predict(X[:, :2])


def learnable(task, n, seed):
    """A smooth function of 3 inputs on the unit cube (regression), or the two sides of the
    plane x0 + x1 = 1 (classification): what any surrogate should learn from 30 points."""
    gen = np.random.default_rng(seed)
    X = gen.uniform(size=(n, 3))
    if task == "regression":
        y = np.sin(4 * X[:, 0]) + X[:, 1] ** 2 - X[:, 2]
    else:
        y = (X[:, 0] + X[:, 1] > 1).astype(np.int64)
    return torch.from_numpy(X), torch.from_numpy(y)


@pytest.mark.parametrize("name, params", CASES, ids=IDS)
def test_learns_and_knows_where_it_has_no_data(name, params):
    """Regression: held-out RMSE well under that of predicting the training mean (measured
    at most 0.52 of it, the bootstrapped forest) and a mean epistemic variance far outside
    the data (the cube [2, 3]^3) above twice that at the training points (measured at least
    3.7 times, the bootstrapped forest; a forest's trees need not disagree more far away:
    with other training seeds it falls to 1.2). Classification: held-out accuracy at least
    0.8 and 0.2 above the majority class's share (measured at least 0.87 against 0.50, label
    spreading), and every member's probabilities sum to 1."""
    model = make(name, params)
    X, y = learnable(model.task, 30, seed=0)
    X_test, y_test = learnable(model.task, 100, seed=1)
    fit_with_domain(model, X, y, domain=torch.cat([X, X_test]))  # as a campaign fits it
    pred = model.predict(X_test)
    if model.task == "regression":
        rmse = (pred.mean - y_test).pow(2).mean().sqrt().item()
        baseline = (y.mean() - y_test).pow(2).mean().sqrt().item()
        assert rmse < 0.7 * baseline
        far = torch.from_numpy(np.random.default_rng(2).uniform(2, 3, size=(20, 3)))
        at_data = model.predict(X).epistemic_var.mean().item()
        assert model.predict(far).epistemic_var.mean().item() > 2 * at_data
    else:
        accuracy = (pred.mean_probs.argmax(1) == y_test).double().mean().item()
        majority = max(y_test.double().mean().item(), 1 - y_test.double().mean().item())
        assert accuracy >= 0.8 and accuracy >= majority + 0.2
        assert ((pred.probs >= 0) & (pred.probs <= 1)).all()
        torch.testing.assert_close(pred.probs.sum(-1), torch.ones(pred.probs.shape[:2],
                                                                  dtype=torch.float64))


@pytest.mark.parametrize("name, params", CASES, ids=IDS)
def test_same_seed_same_prediction(name, params):
    X, y = data(make(name, params).task)
    a = make(name, params).fit(X, y).predict(X[:10])
    b = make(name, params).fit(X, y).predict(X[:10])
    for field in ("mean", "epistemic_var", "probs"):
        if hasattr(a, field):
            assert torch.equal(getattr(a, field), getattr(b, field)), field


@pytest.mark.parametrize("name, params", CASES, ids=IDS)
def test_one_observation_and_duplicates(name, params):
    task = make(name, params).task
    X, y = data(task)
    one = make(name, params).fit(X[:1], y[:1])
    check_prediction(one.predict(X[:5]), task, 5)
    Xd = torch.cat([X[:10], X[:10], X[:10]])
    yd = torch.cat([y[:10], y[:10], y[:10]])
    dup = make(name, params).fit(Xd, yd)
    check_prediction(dup.predict(X[:5]), task, 5)


@pytest.mark.slow
@pytest.mark.parametrize("name, params", CASES, ids=IDS)
def test_pool_of_50000(name, params):
    task = make(name, params).task
    X, y = data(task)
    model = make(name, params).fit(X, y)
    pool = torch.from_numpy(np.random.default_rng(1).uniform(size=(50_000, 3)))
    check_prediction(model.predict(pool), task, 50_000)


def test_clone_and_repr():
    model = dl.DeepEnsemble(n_members=3)
    twin = model.clone(seed=4)
    assert twin.get_params() == {**model.get_params(), "seed": 4}
    assert "n_members=3" in repr(model)


def test_make_surrogate_errors_list_names():
    with pytest.raises(dl.InputError, match="gp_classifier"):
        dl.make_surrogate("svm")
    with pytest.raises(dl.InputError, match="parameters"):
        dl.make_surrogate("gp", n_members=3)
    assert isinstance(dl.make_surrogate("mc-dropout"), dl.MCDropout)


def test_bad_targets_are_clear():
    X, _ = data("regression")
    with pytest.raises(dl.InputError, match="NaN"):
        dl.GPRegressor().fit(X, torch.full((30,), float("nan")))
    with pytest.raises(dl.InputError, match="shape"):
        dl.RandomForest().fit(X, torch.zeros(29))
    with pytest.raises(dl.InputError, match="whole numbers"):
        dl.DeepEnsemble(task="classification").fit(X, torch.full((30,), 0.5))
    with pytest.raises(dl.InputError, match="task"):
        dl.RandomForest(task="ranking").fit(X, torch.zeros(30))
    with pytest.raises(dl.InputError, match="zero observations"):
        dl.GPRegressor().fit(X[:0], torch.zeros(0))


@pytest.mark.parametrize("name, params, factor", [
    ("gp", {}, 1e-12), ("gp", {}, 1e12), ("gp", {"kernel": "rbf", "prior": "gamma"}, 1e-12),
    ("forest", {"task": "regression", "n_estimators": 30}, 1e-12),
    ("forest", {"task": "regression", "n_estimators": 30}, 1e12),
    ("ensemble", {"task": "regression", "epochs": 60, "n_members": 3}, 1e-12),
])
def test_predictions_scale_with_the_target(name, params, factor):
    X, y = data("regression", n=20)
    test = torch.from_numpy(np.random.default_rng(1).uniform(size=(8, 3)))
    unit = make(name, params).fit(X, y).predict(test)
    scaled = make(name, params).fit(X, y * factor).predict(test)
    np.testing.assert_allclose(scaled.mean / factor, unit.mean, rtol=0.02, atol=1e-3)
    np.testing.assert_allclose(scaled.sd / factor, unit.sd, rtol=0.02)
    np.testing.assert_allclose(scaled.epistemic_var / factor**2, unit.epistemic_var, rtol=0.04)


@pytest.mark.parametrize("name", ["gp", "forest"])
def test_one_observation_or_a_constant_target_scales_too(name):
    params = {"gp": {}, "forest": {"task": "regression", "n_estimators": 30}}[name]
    X, _ = data("regression", n=3)
    for y in (torch.tensor([2.0]), torch.full((3,), 2.0)):
        unit = make(name, params).fit(X[: len(y)], y).predict(X)
        tiny = make(name, params).fit(X[: len(y)], y * 1e-12).predict(X)
        np.testing.assert_allclose(tiny.mean / 1e-12, unit.mean, rtol=1e-6)
        np.testing.assert_allclose(tiny.sd / 1e-12, unit.sd, rtol=1e-3)


def test_every_registered_surrogate_is_in_the_conformance_cases():
    from designloop import registry

    assert {name for name, _ in CASES} == set(registry.SURROGATES)


@pytest.mark.parametrize("name", sorted(dl.SURROGATES))
def test_scikit_learn_clone_and_set_params(name):
    from sklearn.base import clone

    from designloop.surrogates import make_surrogate

    model = make_surrogate(name, seed=7)
    copy = clone(model)
    assert type(copy) is type(model) and copy is not model
    assert copy.get_params(deep=True) == model.get_params(deep=True)
    assert copy.get_params()["seed"] == 7
    assert copy.set_params(seed=11) is copy and copy.seed == 11 and model.seed == 7
    with pytest.raises(dl.InputError, match="has no parameter 'colour'.*seed"):
        copy.set_params(colour="red")


def test_nested_parameters_follow_scikit_learns_double_underscore():
    from designloop.surrogates.base import SurrogateBase, shallow_params

    class Inner(SurrogateBase):
        def __init__(self, alpha: float = 1.0):
            self._store(locals())

    class Outer(SurrogateBase):
        def __init__(self, inner=None, n: int = 2):
            self._store(locals())

    outer = Outer(inner=Inner(0.5))
    assert outer.get_params()["inner__alpha"] == 0.5
    assert set(outer.get_params(deep=False)) == {"inner", "n"}
    outer.set_params(inner__alpha=2.0, n=3)
    assert outer.inner.alpha == 2.0 and outer.n == 3

    class Plain:  # a user's surrogate whose get_params takes no `deep`
        def get_params(self):
            return {"k": 1}

    assert shallow_params(Plain()) == {"k": 1} and shallow_params(outer) == {
        "inner": "Inner(alpha=2.0)", "n": 3}  # as the log keeps it


def test_set_params_on_a_parameter_without_parameters_is_a_clear_error():
    from designloop.surrogates import make_surrogate

    committee = make_surrogate("bootstrap")
    with pytest.raises(dl.InputError, match="no parameters of its own"):
        committee.set_params(base_params__x=1)
    committee.set_params(base_params={"max_iter": 50})
    assert committee.base_params == {"max_iter": 50}
