"""Any scikit-learn estimator as a surrogate: the uncertainty comes from the estimator when
it has one (its standard deviation, its own committee of trees, its class probabilities),
else from a seeded bootstrap committee; a campaign takes the estimator as it is."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.ensemble import (
    BaggingClassifier,
    GradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import BayesianRidge, LogisticRegression
from sklearn.svm import SVC

import designloop as dl
from designloop.surrogates.estimator import EstimatorSurrogate


def _regression(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, 2))
    return X, np.sin(6 * X[:, 0]) + X[:, 1]


def _classes(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, 2))
    return X, (X[:, 0] > 0.5).astype(int) + (X[:, 1] > 0.7).astype(int)  # three classes


def test_a_forest_is_its_own_committee():
    X, y = _regression()
    s = EstimatorSurrogate(RandomForestRegressor(n_estimators=30)).fit(X, y)
    pred = s.predict(X[:5])
    assert s.kind_ == "own_committee" and pred.samples.shape == (30, 5)
    forest = s.members_[0]
    assert np.allclose(pred.mean.numpy(), forest.predict(X[:5]))  # the forest's own mean
    trees = np.stack([t.predict(X[:5]) for t in forest.estimators_])
    assert np.allclose(pred.epistemic_var.numpy(), trees.var(0))


def test_a_reported_standard_deviation_is_used():
    X, y = _regression()
    s = EstimatorSurrogate(BayesianRidge()).fit(X, y)
    model = BayesianRidge().fit(X, y)
    mean, std = model.predict(X[:4], return_std=True)
    pred = s.predict(X[:4])
    assert s.kind_ == "own_std"
    # of its variance, 1 / alpha_ is the noise and the rest what the model does not know
    assert np.allclose(pred.mean.numpy(), mean)
    assert np.allclose(pred.epistemic_var.numpy(), std**2 - 1 / model.alpha_)
    assert float(pred.noise_var) == pytest.approx(1 / model.alpha_)


def test_other_regressors_get_a_seeded_bootstrap_committee():
    X, y = _regression()
    a = EstimatorSurrogate(GradientBoostingRegressor(n_estimators=20), seed=3).fit(X, y)
    b = EstimatorSurrogate(GradientBoostingRegressor(n_estimators=20), seed=3).fit(X, y)
    c = EstimatorSurrogate(GradientBoostingRegressor(n_estimators=20), seed=4).fit(X, y)
    pa, pb, pc = (s.predict(X) for s in (a, b, c))
    assert a.kind_ == "bootstrap" and len(a.members_) == 8 and pa.samples.shape == (8, 40)
    assert torch.equal(pa.mean, pb.mean) and not torch.equal(pa.mean, pc.mean)
    assert (pa.epistemic_var > 0).all()
    # the noise is the out-of-bag squared error: positive, below the targets' variance
    assert 0 < a.noise_var_ < np.var(y)
    # the committee's spread is larger away from the data than at it
    far = np.array([[3.0, 3.0]])
    assert a.predict(far).epistemic_var.item() >= np.median(pa.epistemic_var.numpy())


def test_classifiers_give_probabilities_over_every_class():
    X, y = _classes()
    own = EstimatorSurrogate(LogisticRegression()).fit(X, y)
    p = own.predict(X[:6]).probs
    assert own.kind_ == "probabilities" and p.shape == (1, 6, 3)
    assert np.allclose(p[0].numpy(), LogisticRegression().fit(X, y).predict_proba(X[:6]))
    forest = EstimatorSurrogate(RandomForestClassifier(n_estimators=25)).fit(X, y)
    p = forest.predict(X[:6]).probs
    assert forest.kind_ == "own_committee" and p.shape == (25, 6, 3)
    assert np.allclose(p.mean(0).numpy(), forest.members_[0].predict_proba(X[:6]))
    votes = EstimatorSurrogate(SVC(), n_members=5).fit(X, y)  # no predict_proba: votes
    p = votes.predict(X[:6]).probs
    assert votes.kind_ == "bootstrap" and p.shape == (5, 6, 3)
    assert set(np.unique(p.numpy())) <= {0.0, 1.0}
    bagged = EstimatorSurrogate(BaggingClassifier(SVC(), n_estimators=6)).fit(X, y)
    assert bagged.predict(X[:6]).probs.shape == (6, 6, 3)  # members vote, mapped to codes


def test_every_random_state_left_open_is_seeded():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = _regression()
    pipe = make_pipeline(StandardScaler(), GradientBoostingRegressor(n_estimators=10,
                                                                     subsample=0.5))
    runs = [EstimatorSurrogate(pipe, seed=1).fit(X, y).predict(X).mean for _ in range(2)]
    assert torch.equal(*runs)  # the same seed: the same model, even inside a pipeline
    assert pipe.get_params()["gradientboostingregressor__random_state"] is None


def test_a_class_of_ones_own_is_taken_as_it_is():
    class Mean:  # designloop's protocol, no task attribute, not a scikit-learn estimator
        def fit(self, X, y):
            self.m = float(torch.as_tensor(y, dtype=torch.float64).mean())
            return self

        def predict(self, X):
            n = len(X)
            return dl.RegressionPrediction(torch.full((n,), self.m, dtype=torch.float64),
                                           torch.arange(n, dtype=torch.float64) + 1.0, 0.0)

    X, y = _regression(n=12)
    c = dl.Campaign(pd.DataFrame(X, columns=["a", "b"]), target="y", goal="maximize",
                    surrogate=Mean())
    c.observe(pd.DataFrame({"candidate_id": range(4), "y": y[:4]}))
    assert c.suggest(1)["candidate_id"].tolist() == [11]  # the largest variance wins


def test_the_estimator_given_is_never_fitted():
    X, y = _regression()
    template = GradientBoostingRegressor()
    EstimatorSurrogate(template).fit(X, y)
    assert not hasattr(template, "estimators_")


def test_a_campaign_takes_a_scikit_learn_estimator(tmp_path):
    X, y = _regression(n=200, seed=1)
    table = pd.DataFrame(X, columns=["a", "b"])
    path = tmp_path / "lab.db"
    c = dl.Campaign(table, target="y", goal="maximize", store=path, seed=2,
                    surrogate=GradientBoostingRegressor(n_estimators=30))
    c.observe(pd.DataFrame({"candidate_id": range(8), "y": y[:8]}))
    for _ in range(4):
        picks = c.suggest(3)["candidate_id"].to_numpy()
        c.observe(pd.DataFrame({"candidate_id": picks, "y": y[picks]}))
    assert c.history()["surrogate"].iloc[-1] == "custom:GradientBoostingRegressor"
    # 20 experiments find a candidate in the best 5% of the pool
    assert c.best()["y"] >= np.quantile(y, 0.95)
    c.store.close()
    with pytest.raises(dl.InputError, match="pass it again"):
        dl.Campaign.open(path)
    again = dl.Campaign.open(path, surrogate=GradientBoostingRegressor(n_estimators=30))
    assert len(again.suggest(2)) == 2


def test_estimators_that_cannot_serve_are_refused():
    table = pd.DataFrame({"a": np.arange(5.0)})
    with pytest.raises(dl.InputError, match="an object with fit and predict"):
        dl.Campaign(table, target="y", surrogate=object())
    with pytest.raises(dl.InputError, match="LogisticRegression does classification, but "
                                            "the campaign's task is regression"):
        dl.Campaign(table, target="y", surrogate=LogisticRegression())
