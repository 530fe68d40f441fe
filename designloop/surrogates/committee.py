"""Bootstrap committees: query-by-committee with any surrogate, GPs included.

M clones of a base surrogate, each fitted to a bootstrap resample of the observations; the
members' predictions form the committee (`probs (M, N, C)` or member means as samples),
so vote entropy, KL disagreement and mixture BALD work with every surrogate.

Reference: Abe & Mamitsuka, "Query learning strategies using boosting and bagging",
ICML 1998; Breiman, "Bagging predictors", Machine Learning 1996.
"""

from __future__ import annotations

import numpy as np
import torch

from designloop.errors import InputError
from designloop.prediction import ClassificationPrediction, RegressionPrediction
from designloop.surrogates.base import (
    SurrogateBase,
    as_targets,
    committee_variance,
    fit_with_domain,
)


class BootstrapCommittee(SurrogateBase):
    """M bootstrap clones of a base surrogate.

    Args:
        base: name of the base surrogate in `designloop.SURROGATES` (e.g. "gp_classifier",
            "gp").
        task: "regression" or "classification".
        n_members: committee size M.
        base_params: parameters of the base surrogate.
        seed: seeds the resamples (member m also gets seed + m).
    """

    uses_domain = True  # handed on to members that use it

    def __init__(self, base: str = "gp_classifier", task: str = "classification",
                 n_members: int = 5, base_params: dict | None = None, seed: int = 0):
        self._store(locals())

    def fit(self, X, y, domain=None) -> BootstrapCommittee:
        """Fit each member to a bootstrap resample (classification resamples keep at least
        one example of every class seen); `domain` (the candidate pool) goes to members
        whose model uses it."""
        from designloop.surrogates import make_surrogate

        self._check_task()
        if self.n_members < 2:
            raise InputError(f"a committee needs n_members >= 2, got {self.n_members}")
        X = self._check_X(X, fitted=False)
        y = as_targets(y, X.shape[0], self.task)
        gen = np.random.default_rng(self.seed)
        n = X.shape[0]
        params = dict(self.base_params or {})
        if self.task == "classification":
            params.setdefault("n_classes", max(2, int(y.max()) + 1))
        members = []
        for m in range(self.n_members):
            idx = gen.integers(0, n, size=n)
            if self.task == "classification":  # keep every class in every member
                firsts = [int(torch.nonzero(y == c)[0]) for c in torch.unique(y)]
                idx = np.concatenate([idx[: n - len(firsts)], firsts])
            member = make_surrogate(self.base, **{**params, "seed": self.seed + m})
            if member.task != self.task:
                raise InputError(
                    f"base surrogate '{self.base}' does {member.task}, not {self.task}")
            members.append(fit_with_domain(member, X[idx], y[idx], domain))
        self.members_ = members
        self.n_features_ = X.shape[1]
        return self

    def predict(self, X):
        """Committee prediction: each member's mean prediction is one member."""
        self._check_fitted()
        X = self._check_X(X)
        preds = [m.predict(X) for m in self.members_]
        if self.task == "classification":
            return ClassificationPrediction(torch.stack([p.mean_probs for p in preds]))
        means = torch.stack([p.mean for p in preds])
        noise = torch.stack([torch.as_tensor(p.noise_var).expand(X.shape[0]) for p in preds])
        within = torch.stack([p.epistemic_var for p in preds]).mean(0)
        return RegressionPrediction(means.mean(0), committee_variance(means) + within,
                                    noise.mean(0), samples=means)
