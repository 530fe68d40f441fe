"""BoTorch's q-acquisitions (qLogNEI, qUCB) over a discrete pool, with sequential greedy
selection (`optimize_acqf_discrete`)."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from designloop.batch.selection import check_k, exclusion_mask
from designloop.errors import InputError
from designloop.surrogates.gp import GPRegressor


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
