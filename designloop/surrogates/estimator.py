"""Any scikit-learn estimator as a surrogate.

`EstimatorSurrogate(estimator)` fits copies of the estimator (`sklearn.base.clone`; the one
given is never changed) and returns designloop's predictions, with the uncertainty taken
from where the estimator has one:

- **its own standard deviation**: regressors whose `predict` takes `return_std`
  (`GaussianProcessRegressor`, `BayesianRidge`, `ARDRegression`). Of the Bayesian linear
  models' variance, the noise `1 / alpha_` is the noise and the rest epistemic; a
  `GaussianProcessRegressor`'s whole variance is read as epistemic (a `WhiteKernel` in its
  kernel adds noise to it).
- **its own committee**: bagged ensembles (random forests, extra trees, bagging); each member
  is one committee member (`samples` of a regression, `probs (M, N, C)` of a classification).
- **its class probabilities**: other classifiers with `predict_proba` (one member, S = 1).
- otherwise **a seeded bootstrap committee** of `n_members` copies, each fitted to a
  resample of the observations (Breiman, "Bagging predictors", Machine Learning 1996); its
  noise variance is the out-of-bag mean squared error, as `RandomForest`'s. (The other kinds
  report a noise variance of 0: their own uncertainty is all there is.)

A campaign wraps a scikit-learn estimator it is given this way (`Campaign(..., surrogate=
GradientBoostingRegressor())`); a reopened campaign needs the estimator passed again.
"""

from __future__ import annotations

import inspect

import numpy as np
import torch

from designloop.errors import InputError
from designloop.prediction import ClassificationPrediction, RegressionPrediction
from designloop.surrogates.base import SurrogateBase, as_targets, committee_variance

KINDS = ("own_std", "own_committee", "probabilities", "bootstrap")
MIN_OUT_OF_BAG = 5  # observations with out-of-bag predictions needed to estimate the noise


def estimator_task(estimator) -> str:
    """"classification" or "regression", as scikit-learn's tags say (a classifier, or an
    estimator with `predict_proba` but no regressor tag, classifies)."""
    from sklearn.base import is_classifier, is_regressor

    if is_classifier(estimator):
        return "classification"
    if is_regressor(estimator):
        return "regression"
    return "classification" if hasattr(estimator, "predict_proba") else "regression"


def as_surrogate(obj, seed: int = 0):
    """A scikit-learn estimator (an instance of `sklearn.base.BaseEstimator` without a
    designloop `task`) wrapped as an `EstimatorSurrogate`; anything else as it is (a
    designloop surrogate, or a class of the user's own that follows its protocol)."""
    from sklearn.base import BaseEstimator

    if hasattr(obj, "task") or not isinstance(obj, BaseEstimator):
        return obj
    return EstimatorSurrogate(obj, seed=seed)


def _committee_members(fitted) -> list | None:
    """The members of a bagged ensemble with their feature columns, or None for another
    estimator."""
    from sklearn.ensemble import BaggingClassifier, BaggingRegressor
    from sklearn.ensemble._forest import BaseForest

    if isinstance(fitted, BaseForest):
        return [(tree, None) for tree in fitted.estimators_]
    if isinstance(fitted, BaggingClassifier | BaggingRegressor):
        return list(zip(fitted.estimators_, fitted.estimators_features_, strict=True))
    return None


class EstimatorSurrogate(SurrogateBase):
    """A scikit-learn estimator as a surrogate.

    Args:
        estimator: the unfitted estimator (a template: copies of it are fitted).
        n_members: size of the bootstrap committee, for estimators that report no
            uncertainty of their own.
        seed: seeds the resamples, and every `random_state` of the estimator left at None
            (member m gets seed + m), so that the same seed gives the same picks.

    Fitted attributes: `kind_` (how the uncertainty is found: one of KINDS), `members_`
    (the fitted copies), `n_features_`, `n_classes_` (classification), `noise_var_` (a
    bootstrap committee's regression).
    """

    def __init__(self, estimator, n_members: int = 8, seed: int = 0):
        self._store(locals())
        if not (hasattr(estimator, "fit") and hasattr(estimator, "predict")):
            raise InputError(f"a surrogate needs fit and predict methods; {estimator!r} "
                             "lacks them")
        self.task = estimator_task(estimator)

    def _copy(self, offset: int):
        """An unfitted copy whose every `random_state` left at None (a pipeline's steps
        included) is seed + offset."""
        from sklearn.base import clone

        copy = clone(self.estimator)
        unseeded = {name: self.seed + offset for name, value in copy.get_params().items()
                    if name.split("__")[-1] == "random_state" and value is None}
        return copy.set_params(**unseeded) if unseeded else copy

    def fit(self, X, y) -> EstimatorSurrogate:
        """Fit a copy of the estimator to `X (n, d)`, `y (n,)`, or `n_members` copies to
        bootstrap resamples when it reports no uncertainty of its own."""
        X = self._check_X(X, fitted=False)
        y = as_targets(y, X.shape[0], self.task)
        Xn, yn = X.numpy(), y.numpy()
        if self.task == "classification":
            self.n_classes_ = max(2, int(yn.max()) + 1)
        try:
            fitted = self._copy(0).fit(Xn, yn)
            if _committee_members(fitted) is not None:
                self.kind_, self.members_ = "own_committee", [fitted]
            elif self.task == "regression" and "return_std" in inspect.signature(
                    fitted.predict).parameters:
                self.kind_, self.members_ = "own_std", [fitted]
            elif self.task == "classification" and hasattr(fitted, "predict_proba"):
                self.kind_, self.members_ = "probabilities", [fitted]
            else:
                self.kind_, self.members_ = "bootstrap", self._bootstrap(Xn, yn)
        except (ValueError, TypeError) as exc:
            raise InputError(f"{type(self.estimator).__name__} could not be fitted: "
                             f"{exc}") from None
        self.n_features_ = X.shape[1]
        return self

    def _bootstrap(self, X: np.ndarray, y: np.ndarray) -> list:
        if self.n_members < 2:
            raise InputError(f"a bootstrap committee needs n_members >= 2, got {self.n_members}")
        gen = np.random.default_rng(self.seed)
        members = []
        out_of_bag = [[] for _ in range(len(y))]  # predictions by members that left it out
        for m in range(self.n_members):
            idx = gen.integers(0, len(y), size=len(y))
            if self.task == "classification":  # every class in every member
                firsts = [int(np.flatnonzero(y == c)[0]) for c in np.unique(y)]
                idx = np.concatenate([idx[: len(y) - len(firsts)], firsts])
            members.append(self._copy(m).fit(X[idx], y[idx]))
            left = np.setdiff1d(np.arange(len(y)), idx)
            if self.task == "regression" and len(left):
                for i, value in zip(left, members[-1].predict(X[left]), strict=True):
                    out_of_bag[i].append(float(value))
        if self.task == "regression":  # as RandomForest does: out-of-bag squared error
            errors = [(np.mean(p) - y[i]) ** 2 for i, p in enumerate(out_of_bag) if p]
            self.noise_var_ = (float(np.mean(errors)) if len(errors) >= MIN_OUT_OF_BAG
                               else float(np.var(y)))
        return members

    def predict(self, X) -> RegressionPrediction | ClassificationPrediction:
        """Mean and epistemic variance (regression) or class probabilities per member
        (classification) at `X (N, d)`."""
        self._check_fitted()
        Xn = self._check_X(X).numpy()
        if self.task == "classification":
            return ClassificationPrediction(torch.as_tensor(self._probs(Xn)))
        if self.kind_ == "own_std":
            fitted = self.members_[0]
            mean, std = fitted.predict(Xn, return_std=True)
            mean = torch.as_tensor(np.asarray(mean, dtype=np.float64))
            var = torch.as_tensor(np.asarray(std, dtype=np.float64)) ** 2
            # a Bayesian linear model's variance includes its noise, 1 / alpha_ (a
            # GaussianProcessRegressor's alpha_ is an array of weights, not a precision)
            alpha = getattr(fitted, "alpha_", None)
            noise = 1.0 / float(alpha) if isinstance(alpha, float) and alpha > 0 else 0.0
            return RegressionPrediction(mean, (var - noise).clamp_min(0.0), noise)
        members = (_committee_members(self.members_[0]) if self.kind_ == "own_committee"
                   else [(m, None) for m in self.members_])
        samples = torch.as_tensor(np.stack([
            np.asarray(m.predict(Xn if cols is None else Xn[:, cols]), dtype=np.float64)
            for m, cols in members]))
        noise = self.noise_var_ if self.kind_ == "bootstrap" else 0.0
        return RegressionPrediction(samples.mean(0), committee_variance(samples), noise,
                                    samples=samples)

    def _probs(self, X: np.ndarray) -> np.ndarray:
        """`(S, N, C)` class probabilities over the campaign's C classes (a member that has
        no `predict_proba` votes: probability 1 for the class it predicts)."""
        committee = self.kind_ == "own_committee"
        outer = self.members_[0]
        members = (_committee_members(outer) if committee
                   else [(m, None) for m in self.members_])
        out = np.zeros((len(members), X.shape[0], self.n_classes_))
        for s, (member, cols) in enumerate(members):
            rows = X if cols is None else X[:, cols]
            # a bagged ensemble's members learnt the positions of its classes_, not the codes
            to_code = ((lambda k: np.asarray(outer.classes_)[np.asarray(k).astype(int)])
                       if committee else (lambda k: np.asarray(k)))
            if not hasattr(member, "predict_proba"):
                out[s, np.arange(X.shape[0]), to_code(member.predict(rows)).astype(int)] = 1.0
            else:
                codes = to_code(member.classes_).astype(int)
                out[s][:, codes] = np.asarray(member.predict_proba(rows), dtype=np.float64)
        return out
