"""Batches that are informative together, for regression surrogates.

`greedy_conditional` picks the best candidate, conditions the GP on it (the posterior
variance does not depend on the outcome), rescores and repeats, with rank-one updates: a
batch of k from N candidates costs O(k N n) beyond the first prediction. With max_variance
or Gaussian BALD it is the greedy maximiser of the joint information gain
0.5 log det(I + K_B / sigma_n^2); with an improvement acquisition it is the kriging believer
(the fantasised outcome is the posterior mean, which leaves the mean unchanged).
`kriging_believer` does the same for surrogates that can only be refitted, and
`botorch_batch` runs BoTorch's q-acquisitions (qLogNEI, qUCB) over the discrete pool.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from designloop.errors import InputError
from designloop.prediction import RegressionPrediction
from designloop.selection import check_k, exclusion_mask, top_k
from designloop.surrogates.gp import GPRegressor

_CACHE_ELEMENTS = 50_000_000  # cache k(pool, train) when it fits in ~400 MB


class _ConditionalCovariance:
    """Posterior covariances between pool points and the picks, under the GP conditioned on
    its training data: Sigma(x, p) = k(x, p) - k(x, X) K^-1 k(X, p)."""

    def __init__(self, model: GPRegressor, X: Tensor, chunk_size: int):
        f = model.factors()
        self.model = model
        self.Xn = model.transform_inputs(X)
        self.train = f["Xn"]
        self.K_inv = f["L_inv"].T @ f["L_inv"]
        self.chunk_size = chunk_size
        n_train = self.train.shape[0]
        cached = self.Xn.shape[0] * n_train <= _CACHE_ELEMENTS
        self.Ks = model.prior_covariance(self.Xn, self.train) if cached else None

    def column(self, p: int) -> Tensor:
        """`(N,)` posterior covariance of every pool point with pool point p."""
        w = self.K_inv @ self.model.prior_covariance(self.train, self.Xn[p : p + 1])[:, 0]  # (n,)
        prior = self.model.prior_covariance(self.Xn, self.Xn[p : p + 1])[:, 0]
        if self.Ks is not None:
            return prior - self.Ks @ w
        out = torch.empty_like(prior)
        for start in range(0, self.Xn.shape[0], self.chunk_size):
            part = self.Xn[start : start + self.chunk_size]
            out[start : start + self.chunk_size] = prior[start : start + self.chunk_size] - (
                self.model.prior_covariance(part, self.train) @ w)
        return out


def greedy_conditional(
    gp: GPRegressor,
    pool: Tensor,
    k: int,
    acquisition: Callable[..., Tensor],
    pred: RegressionPrediction | None = None,
    exclude=None,
    rng: np.random.Generator | int | None = None,
    chunk_size: int = 8192,
    **context,
) -> tuple[np.ndarray, Tensor]:
    """Greedy batch for an exact GP by sequential conditioning on the picks.

    Args:
        gp: a fitted GPRegressor.
        pool: `(N, d)` candidate features.
        k: batch size.
        acquisition: a regression acquisition `(RegressionPrediction, **context) -> (N,)`.
        pred: `gp.predict(pool)` if already computed.
        exclude: candidates not to pick (indices or mask), e.g. measured and pending.
        rng: generator or seed for ties.
        chunk_size: pool rows per kernel block when k(pool, train) is too big to cache.
        **context: passed to the acquisition (best_f, goal, beta, X, ...).

    Returns:
        `(k,)` picks in order, and `(k,)` the score each had when it was picked.

    Reference: Krause, Singh & Guestrin, "Near-optimal sensor placements in Gaussian
    processes", JMLR 2008 (greedy information gain); Ginsbourger, Le Riche & Carraro,
    "Kriging is well-suited to parallelize optimization", 2010 (kriging believer).
    """
    pool = torch.as_tensor(pool, dtype=torch.float64)
    n = pool.shape[0]
    blocked = exclusion_mask(n, exclude)
    k = check_k(k, blocked)
    pred = pred if pred is not None else gp.predict(pool)
    scale = gp.factors()["y_std"] ** 2
    noise = (pred.noise_var / scale).expand(n)
    var = pred.epistemic_var / scale  # standardised units from here on
    cov = _ConditionalCovariance(gp, pool, chunk_size)
    columns = torch.zeros(k, n, dtype=torch.float64)
    picks: list[int] = []
    picked_scores: list[float] = []
    gen = rng if isinstance(rng, np.random.Generator) or rng is None else np.random.default_rng(rng)
    for j in range(k):
        current = RegressionPrediction(pred.mean, var.clamp_min(0.0) * scale, pred.noise_var,
                                       samples=None)
        scores = acquisition(current, rng=gen, **context)
        p = int(top_k(scores, 1, exclude=blocked, rng=gen)[0])
        picks.append(p)
        picked_scores.append(float(scores[p]))
        blocked[p] = True
        if j == k - 1:
            break
        c = cov.column(p) - columns[:j].T @ columns[:j, p]
        c = c / torch.sqrt(var[p].clamp_min(0.0) + noise[p])
        columns[j] = c
        var = var - c.pow(2)
    return np.asarray(picks, dtype=np.int64), torch.tensor(picked_scores, dtype=torch.float64)


def kriging_believer(
    surrogate,
    pool: Tensor,
    X_train: Tensor,
    y_train: Tensor,
    k: int,
    acquisition: Callable[..., Tensor],
    exclude=None,
    rng: np.random.Generator | int | None = None,
    **context,
) -> tuple[np.ndarray, Tensor]:
    """Greedy batch for any regression surrogate: pick the best, pretend its outcome is the
    predicted mean, refit, repeat (k fits).

    Args:
        surrogate: an unfitted or fitted regression surrogate with `clone()`.
        pool: `(N, d)` candidates; X_train `(n, d)`, y_train `(n,)` the observations.
        k, acquisition, exclude, rng, **context: as for `greedy_conditional`.

    Returns:
        `(k,)` picks and the score each had when picked.

    Reference: Ginsbourger, Le Riche & Carraro, 2010.
    """
    pool = torch.as_tensor(pool, dtype=torch.float64)
    blocked = exclusion_mask(pool.shape[0], exclude)
    k = check_k(k, blocked)
    gen = rng if isinstance(rng, np.random.Generator) or rng is None else np.random.default_rng(rng)
    Xt, yt = torch.as_tensor(X_train), torch.as_tensor(y_train, dtype=torch.float64)
    picks, picked_scores = [], []
    for _ in range(k):
        fitted = surrogate.clone().fit(Xt, yt)
        pred = fitted.predict(pool)
        scores = acquisition(pred, rng=gen, **{**context, "model": fitted})
        p = int(top_k(scores, 1, exclude=blocked, rng=gen)[0])
        picks.append(p)
        picked_scores.append(float(scores[p]))
        blocked[p] = True
        Xt = torch.cat([Xt, pool[p : p + 1]])
        yt = torch.cat([yt, pred.mean[p : p + 1]])
    return np.asarray(picks, dtype=np.int64), torch.tensor(picked_scores, dtype=torch.float64)


def botorch_batch(
    model: GPRegressor,
    X: Tensor,
    k: int,
    method: str = "qlognei",
    goal: str = "maximize",
    exclude=None,
    beta: float = 2.0,
    seed: int = 0,
    max_batch_size: int = 2048,
) -> np.ndarray:
    """BoTorch's q-acquisition over the discrete pool with sequential greedy selection
    (`optimize_acqf_discrete`).

    Args:
        model: a fitted GPRegressor.
        X: `(N, d)` pool.
        k: batch size.
        method: "qlognei" (q log noisy expected improvement, Ament et al. 2023) or "qucb".
        goal: "maximize" or "minimize".
        exclude: candidates not to pick.
        beta: UCB's beta (BoTorch's convention: mean + sqrt(beta) * sd).
        seed: seeds the quasi-Monte-Carlo sampler.
        max_batch_size: candidates evaluated at once.

    Returns:
        `(k,)` indices into X.
    """
    from botorch.acquisition import qUpperConfidenceBound
    from botorch.acquisition.logei import qLogNoisyExpectedImprovement
    from botorch.acquisition.objective import GenericMCObjective
    from botorch.optim import optimize_acqf_discrete
    from botorch.sampling import SobolQMCNormalSampler

    X = torch.as_tensor(X, dtype=torch.float64)
    blocked = exclusion_mask(X.shape[0], exclude)
    k = check_k(k, blocked)
    available = np.flatnonzero(~blocked)
    sign = {"maximize": 1.0, "minimize": -1.0}.get(goal)
    if sign is None:
        raise InputError(
            f"botorch_batch optimises: goal must be maximize or minimize, got {goal!r}")
    objective = GenericMCObjective(lambda Y, X=None: sign * Y[..., 0])
    sampler = SobolQMCNormalSampler(torch.Size([128]), seed=seed)
    bm = model.model_
    if method == "qlognei":
        train_X = bm.train_inputs[0]
        if getattr(bm, "input_transform", None) is not None:
            train_X = bm.input_transform.untransform(train_X)
        acq = qLogNoisyExpectedImprovement(bm, X_baseline=train_X, sampler=sampler,
                                           objective=objective, prune_baseline=True)
    elif method == "qucb":
        acq = qUpperConfidenceBound(bm, beta=beta, sampler=sampler, objective=objective)
    else:
        raise InputError(f"method must be qlognei or qucb, got {method!r}")
    choices = X[available]
    chosen, _ = optimize_acqf_discrete(acq, q=k, choices=choices, max_batch_size=max_batch_size,
                                       unique=True)
    # map the chosen rows back to pool indices
    dist = torch.cdist(chosen, choices)
    return available[dist.argmin(1).numpy()].astype(np.int64)
