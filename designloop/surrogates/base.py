"""What every surrogate shares: the scikit-learn style contract and input checks.

A surrogate's constructor only stores hyper-parameters; `fit(X, y)` returns self and leaves
fitted state in attributes ending in `_`; `predict(X)` returns a Prediction.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from typing import Protocol, runtime_checkable

import numpy as np
import torch
from torch import Tensor

from designloop.errors import InputError, NotFittedError
from designloop.prediction import ClassificationPrediction, RegressionPrediction

TASKS = ("regression", "classification")


@runtime_checkable
class Surrogate(Protocol):
    """A model that knows what it does not know."""

    task: str

    def fit(self, X: Tensor, y: Tensor) -> Surrogate: ...

    def predict(self, X: Tensor) -> RegressionPrediction | ClassificationPrediction: ...

    def get_params(self) -> dict: ...


def shallow_params(model) -> dict:
    """A surrogate's own hyper-parameters, as the campaign log keeps them: scikit-learn's
    `get_params(deep=False)`, or `get_params()` of a user's class that takes no `deep`; a
    value JSON cannot hold (an estimator inside) is kept as its repr."""
    try:
        takes_deep = "deep" in inspect.signature(model.get_params).parameters
    except (TypeError, ValueError):  # a builtin without a signature
        takes_deep = False
    params = dict(model.get_params(deep=False) if takes_deep else model.get_params())
    try:
        return json.loads(json.dumps(params, default=repr))
    except (TypeError, ValueError):  # e.g. a dictionary with keys JSON cannot hold
        return {str(name): repr(value) for name, value in params.items()}


class SurrogateBase:
    """Shared machinery: parameters, cloning, fitted checks and tensor conversion."""

    uses_domain = False  # True: fit(X, y, domain=pool) also looks at the unmeasured pool

    def _store(self, params: dict) -> None:
        """Keep the constructor's arguments as attributes (`self._store(locals())`)."""
        for name, value in params.items():
            if name not in ("self", "__class__"):
                setattr(self, name, value)

    def get_params(self, deep: bool = True) -> dict:
        """The constructor's hyper-parameters by name (for logging and cloning), in
        scikit-learn's protocol: with `deep`, a parameter that has parameters of its own
        adds them as `name__sub`, so that `sklearn.base.clone` and grid searches work."""
        names = [
            p for p in inspect.signature(type(self).__init__).parameters if p != "self"
        ]
        params = {name: getattr(self, name) for name in names}
        if deep:
            for name, value in list(params.items()):
                if hasattr(value, "get_params") and not isinstance(value, type):
                    params.update({f"{name}__{k}": v for k, v in value.get_params().items()})
        return params

    def set_params(self, **params) -> SurrogateBase:
        """Set hyper-parameters by name (`name__sub` for a parameter's own), as
        scikit-learn's `set_params` does; InputError naming the valid ones otherwise. A
        fitted surrogate must be fitted again for them to take effect."""
        valid = self.get_params(deep=False)
        nested: dict[str, dict] = {}
        for key, value in params.items():  # own parameters first, then those of the new values
            name, _, sub = key.partition("__")
            if name not in valid:
                raise InputError(f"{type(self).__name__} has no parameter {name!r}; its "
                                 f"parameters are {', '.join(valid)}")
            if sub:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
        for name, subs in nested.items():
            inner = getattr(self, name)
            if not hasattr(inner, "set_params"):
                raise InputError(f"{type(self).__name__}'s parameter {name!r} is "
                                 f"{inner!r}, which has no parameters of its own to set")
            inner.set_params(**subs)
        return self

    def clone(self, **changes) -> SurrogateBase:
        """An unfitted copy with the same hyper-parameters, some optionally changed."""
        return type(self)(**{**self.get_params(deep=False), **changes})

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params(deep=False).items())
        return f"{type(self).__name__}({args})"

    @property
    def is_fitted(self) -> bool:
        return getattr(self, "n_features_", None) is not None

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError(
                f"{type(self).__name__} is not fitted yet: call fit(X, y) before predict(X)"
            )

    def _check_task(self) -> None:
        if self.task not in TASKS:
            raise InputError(f"task must be one of {TASKS}, got {self.task!r}")

    def _check_X(self, X, fitted: bool = True) -> Tensor:
        X = as_features(X)
        if fitted and X.shape[1] != self.n_features_:
            raise InputError(
                f"X has {X.shape[1]} feature columns but {type(self).__name__} was fitted on "
                f"{self.n_features_}; encode the pool with the same encoder as the training data"
            )
        return X


def fit_with_domain(model, X, y, domain=None, **fit_params):
    """`model.fit(X, y, **fit_params)`, passing `domain` (every row the model will be asked
    about, such as a campaign's candidate pool) to the models that use it (`uses_domain`)."""
    if getattr(model, "uses_domain", False):
        return model.fit(X, y, domain=domain, **fit_params)
    return model.fit(X, y, **fit_params)


def as_features(X) -> Tensor:
    """`(N, d)` float64 tensor from an array-like; checks shape and finiteness."""
    if hasattr(X, "to_numpy"):
        X = X.to_numpy(dtype=np.float64)
    X = torch.as_tensor(X).to(torch.float64)
    if X.dim() != 2:
        raise InputError(f"X must have shape (N, d), got {tuple(X.shape)}")
    if X.shape[1] == 0:
        raise InputError("X has no feature columns")
    if X.numel() and not torch.isfinite(X).all():
        row = int((~torch.isfinite(X)).any(1).nonzero()[0])
        raise InputError(f"X holds NaN or infinite values (first in row {row}); fill or drop them")
    return X


def as_targets(y, n: int, task: str) -> Tensor:
    """`(n,)` targets: float64 for regression, int64 class labels 0..C-1 for classification."""
    if hasattr(y, "to_numpy"):
        y = y.to_numpy()
    y = torch.as_tensor(np.asarray(y))
    if y.dim() == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.dim() != 1 or y.shape[0] != n:
        raise InputError(f"y must have shape ({n},) to match X, got {tuple(y.shape)}")
    if n == 0:
        raise InputError("cannot fit on zero observations; measure at least one candidate first")
    if task == "regression":
        y = y.to(torch.float64)
        if not torch.isfinite(y).all():
            row = int((~torch.isfinite(y)).nonzero()[0])
            raise InputError(f"y holds NaN or infinite values (first in row {row})")
        return y
    if y.is_floating_point():
        if not torch.isfinite(y).all() or (y != y.round()).any():
            raise InputError(
                "classification labels must be whole numbers 0..C-1; map class names to codes first"
            )
    y = y.to(torch.int64)
    if y.min() < 0:
        raise InputError("classification labels must be whole numbers 0..C-1, found a negative")
    return y


def resolve_n_classes(y: Tensor, n_classes: int | None) -> int:
    """Number of classes: `n_classes` if given (checked against y), else max(y) + 1, at least 2."""
    seen = int(y.max()) + 1
    if n_classes is None:
        return max(2, seen)
    if n_classes < 2 or seen > n_classes:
        raise InputError(f"n_classes={n_classes} but labels go up to {seen - 1}")
    return int(n_classes)


def iter_chunks(n: int, chunk_size: int) -> Iterator[slice]:
    """Slices that cover range(n) in pieces of at most `chunk_size`."""
    if chunk_size < 1:
        raise InputError(f"chunk_size must be >= 1, got {chunk_size}")
    for start in range(0, n, chunk_size):
        yield slice(start, min(start + chunk_size, n))


def committee_variance(samples: Tensor) -> Tensor:
    """Population variance over the first (member) dimension; zeros for one member."""
    return (samples - samples.mean(0, keepdim=True)).pow(2).mean(0)


class Standardizer:
    """Column-wise (x - mean) / std fitted on training data; constant columns get std 1.

    With `scale_free` (for targets) no threshold is in absolute units: a column whose
    spread is below 1e-12 of its largest |value| (one row, or constant) is divided by that
    largest |value| instead (1 for all zeros), so that data and c * data standardise alike.
    """

    def __init__(self, data: Tensor, scale_free: bool = False):
        self.mean = data.mean(0)
        std = data.std(0, unbiased=False) if data.shape[0] > 1 else torch.zeros_like(self.mean)
        if scale_free:
            size = data.abs().amax(0)
            size = torch.where(size > 0, size, torch.ones_like(size))
            self.std = torch.where(std > 1e-12 * size, std, size)
        else:
            self.std = torch.where(std > 1e-12 * (1 + self.mean.abs()), std, torch.ones_like(std))

    def transform(self, data: Tensor) -> Tensor:
        return (data - self.mean) / self.std

    def inverse(self, data: Tensor) -> Tensor:
        return data * self.std + self.mean
