"""Random-forest committee (scikit-learn): each tree is a committee member.

Cheap, robust on tabular data with few observations, and the natural committee for
query-by-committee (vote entropy, KL disagreement).
"""

from __future__ import annotations

import numpy as np
import torch

from designloop.prediction import ClassificationPrediction, RegressionPrediction
from designloop.surrogates.base import (
    Standardizer,
    SurrogateBase,
    as_targets,
    committee_variance,
    iter_chunks,
    resolve_n_classes,
)


class RandomForest(SurrogateBase):
    """Random forest whose trees form the committee.

    Regression: `samples (T, N)` are the tree predictions, the epistemic variance their
    variance, and the noise variance the out-of-bag mean squared error (the training
    variance of y while fewer than 5 observations make out-of-bag estimates meaningless).
    Classification: `probs (T, N, C)` from each tree's leaf class frequencies.

    Args:
        task: "regression" or "classification".
        n_estimators: number of trees T.
        min_samples_leaf: smallest leaf.
        max_features: features tried per split (scikit-learn's meaning); None uses
            scikit-learn's default for the task (all for regression, sqrt(d) for classification).
        n_classes: number of classes for classification (default max(y) + 1).
        chunk_size: candidates predicted at once.
        seed: seeds the bootstrap and the feature choice.

    Reference: Breiman, "Random forests", Machine Learning 2001; Seung, Opper & Sompolinsky,
    "Query by committee", COLT 1992.
    """

    def __init__(self, task: str = "regression", n_estimators: int = 100,
                 min_samples_leaf: int = 1, max_features: float | str | None = None,
                 n_classes: int | None = None, chunk_size: int = 50_000, seed: int = 0):
        self._store(locals())

    def fit(self, X, y) -> RandomForest:
        """Grow the trees on `X (n, d)` and `y (n,)`."""
        self._check_task()
        X = self._check_X(X, fitted=False)
        y = as_targets(y, X.shape[0], self.task)
        n = X.shape[0]
        max_features = self.max_features
        if max_features is None:
            max_features = 1.0 if self.task == "regression" else "sqrt"
        kwargs = dict(n_estimators=self.n_estimators, min_samples_leaf=self.min_samples_leaf,
                      max_features=max_features, random_state=self.seed, n_jobs=1)
        # imported here: scikit-learn takes about 1.5 s to import, which a campaign with
        # another surrogate (and the command line) should not pay
        from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

        Xn, yn = X.numpy(), y.numpy()
        if self.task == "regression":
            # trees are grown on standardised targets: scikit-learn stops splitting nodes
            # whose variance is below machine epsilon in the target's units, which would
            # leave a target measured in units of 1e-12 as one constant leaf
            self.y_scaler_ = Standardizer(y[:, None].double(), scale_free=True)
            # rounded in standardised units, so that y and c * y grow the same trees (the
            # last bits would otherwise break ties between equally good splits differently)
            yn = np.round(self.y_scaler_.transform(y[:, None].double())[:, 0].numpy(), 10)
            oob = n >= 5
            forest = RandomForestRegressor(oob_score=oob, **kwargs).fit(Xn, yn)
            if oob:
                residual = forest.oob_prediction_ - yn
                noise = float(np.nanmean(residual**2)) if np.isfinite(residual).any() else 0.0
            else:
                noise = float(yn.var())
            scale = float(self.y_scaler_.std[0])
            self.noise_var_ = max(noise, 1e-12 * (1.0 + float(np.abs(yn).max()) ** 2)) * scale**2
            self.n_classes_ = None
        else:
            self.n_classes_ = resolve_n_classes(y, self.n_classes)
            forest = RandomForestClassifier(**kwargs).fit(Xn, yn)
        self.forest_ = forest
        self.n_features_ = X.shape[1]
        return self

    def _tree_outputs(self, Xn: np.ndarray) -> np.ndarray:
        trees = self.forest_.estimators_
        if self.task == "regression":
            return np.stack([t.predict(Xn) for t in trees])
        out = np.zeros((len(trees), Xn.shape[0], self.n_classes_))
        columns = self.forest_.classes_.astype(np.int64)
        for i, tree in enumerate(trees):
            out[i][:, columns] = tree.predict_proba(Xn)
        return out

    def predict(self, X):
        """Tree-committee prediction for `X (N, d)`."""
        self._check_fitted()
        Xn = self._check_X(X).numpy()
        n = Xn.shape[0]
        width = () if self.task == "regression" else (self.n_classes_,)
        out = np.empty((self.n_estimators, n, *width))
        for piece in iter_chunks(n, self.chunk_size):
            out[:, piece] = self._tree_outputs(Xn[piece])
        out = torch.from_numpy(out)
        if self.task == "classification":
            return ClassificationPrediction(out)
        out = self.y_scaler_.inverse(out)
        return RegressionPrediction(out.mean(0), committee_variance(out),
                                    self.noise_var_, samples=out)
