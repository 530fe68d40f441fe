"""Out-of-distribution scores: is a candidate an extrapolation from what was measured?

For exact GPs the posterior-to-prior variance ratio (1 = the data say nothing about it);
for every other surrogate the Mahalanobis distance from the measured experiments, relative
to the farthest measured experiment (above 1 = outside the measured cloud).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from designloop.registry import is_exact_gp
from designloop.surrogates.gp import GPRegressor

GP_THRESHOLD = 0.9
DISTANCE_THRESHOLD = 1.0


def variance_ratio(gp: GPRegressor, X: Tensor, epistemic_var: Tensor) -> Tensor:
    """`(N,)` posterior / prior variance of the latent function."""
    prior = gp.prior_variance(gp.transform_inputs(X)) * gp.factors()["y_std"] ** 2
    return (epistemic_var / prior.clamp_min(1e-300)).clamp(0.0, 1.0)


def relative_mahalanobis(X: Tensor, X_obs: Tensor, ridge: float = 1e-3) -> Tensor:
    """`(N,)` Mahalanobis distance from the measured points' mean (their covariance plus a
    ridge), divided by the largest such distance among the measured points."""
    X = torch.as_tensor(X, dtype=torch.float64)
    X_obs = torch.as_tensor(X_obs, dtype=torch.float64)
    centre = X_obs.mean(0)
    diff_obs = X_obs - centre
    cov = diff_obs.T @ diff_obs / max(1, X_obs.shape[0] - 1)
    both = torch.cat([X, X_obs])  # the ridge's scale: a single candidate has no variance
    scale = both.var(0).mean() if both.shape[0] > 1 else torch.tensor(1.0, dtype=torch.float64)
    scale = torch.nan_to_num(scale, nan=1.0).clamp_min(1e-12)
    cov = cov + ridge * scale * torch.eye(X.shape[1], dtype=torch.float64)
    L = torch.linalg.cholesky(cov)

    def dist(Z):
        return torch.linalg.solve_triangular(L, (Z - centre).T, upper=False).pow(2).sum(0).sqrt()

    reference = dist(X_obs).max().clamp_min(1e-12)
    return dist(X) / reference


def ood_scores(model, X: Tensor, X_obs: Tensor, pred=None) -> tuple[np.ndarray, np.ndarray, str]:
    """Scores, extrapolation flags and the method's name for candidates `X (N, d)`."""
    if is_exact_gp(model) and pred is not None:
        score = variance_ratio(model, X, pred.epistemic_var)
        return score.numpy(), (score > GP_THRESHOLD).numpy(), "gp_variance_ratio"
    score = relative_mahalanobis(X, X_obs)
    return score.numpy(), (score > DISTANCE_THRESHOLD).numpy(), "relative_mahalanobis"
