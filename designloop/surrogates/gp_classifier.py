"""GP classification by Dirichlet-based regression on transformed labels (GPyTorch).

Each class gets a latent GP fitted by exact inference to log-transformed Dirichlet pseudo
counts; class probabilities are the softmax of posterior draws of the latent functions, so
the prediction carries a committee of S draws for entropy, BALD and vote entropy.
"""

from __future__ import annotations

import warnings

import torch
from botorch.models.utils.gpytorch_modules import get_covar_module_with_dim_scaled_prior
from gpytorch.distributions import MultivariateNormal
from gpytorch.likelihoods import FixedNoiseGaussianLikelihood
from gpytorch.means import ConstantMean
from gpytorch.mlls import ExactMarginalLogLikelihood
from gpytorch.models import ExactGP
from linear_operator.utils.errors import NanError
from torch import Tensor

from designloop.errors import InputError
from designloop.prediction import ClassificationPrediction
from designloop.surrogates.base import (
    Standardizer,
    SurrogateBase,
    as_targets,
    iter_chunks,
    resolve_n_classes,
)
from designloop.surrogates.gp_tools import (
    chunk_rows,
    fit_subset,
    fit_with_jitter,
    gp_settings,
    subtract_explained,
    triangle_blocks,
)
from designloop.surrogates.kernels import dense_cross_covariance_batch


def dirichlet_targets(y: Tensor, n_classes: int, alpha_epsilon: float) -> tuple[Tensor, Tensor]:
    """Milios et al.'s regression targets for labels `y (n,)`: per class c, the lognormal
    approximation of Gamma(alpha_c) with alpha_c = 1[y = c] + alpha_epsilon.

    Returns:
        noise `(C, n)` = log(1/alpha + 1) and targets `(C, n)` = log(alpha) - noise / 2.
    """
    alpha = torch.full((y.shape[0], n_classes), alpha_epsilon, dtype=torch.float64)
    alpha[torch.arange(y.shape[0]), y] += 1.0
    noise = torch.log1p(alpha.reciprocal())
    return noise.T.contiguous(), (alpha.log() - 0.5 * noise).T.contiguous()


class _DirichletGP(ExactGP):
    def __init__(self, X: Tensor, targets: Tensor, likelihood, n_classes: int):
        super().__init__(X, targets, likelihood)
        batch = torch.Size((n_classes,))
        # one constant shared by all classes: far from the data every class is equally likely
        self.mean_module = ConstantMean()
        self.n_classes = n_classes
        self.covar_module = get_covar_module_with_dim_scaled_prior(
            X.shape[-1], batch_shape=batch, use_rbf_kernel=False
        )

    def forward(self, x: Tensor) -> MultivariateNormal:
        covar = self.covar_module(x)
        mean = self.mean_module(x).expand(*covar.shape[:-1])
        return MultivariateNormal(mean, covar)


class GPClassifier(SurrogateBase):
    """Dirichlet-based GP classifier for two or more classes.

    Args:
        n_classes: number of classes C; default max(y) + 1 (at least 2). Labels are
            integers 0..C-1.
        alpha_epsilon: Dirichlet pseudo-count of the classes not observed at a point
            (smaller = sharper probabilities).
        n_samples: posterior draws S of the latent functions returned as `probs (S, N, C)`.
        n_iter, learning_rate: Adam steps on the exact marginal likelihood of the
            hyper-parameters.
        chunk_size: candidates predicted at once (bounds memory); None sizes each chunk so
            that its kernel blocks, one per class, hold about a million entries in all.
        max_fit_points: with more observations than this, the hyper-parameters are fitted
            on a seeded random subset of this size and the GPs then condition on all
            observations with them. None always fits on everything.
        seed: seeds the posterior draws and the subset.

    Fitted attributes: `model_`, `n_classes_`, `n_features_`, `fit_subset_`.

    Reference: Milios, Camoriano, Michiardi, Rosasco & Filippone, "Dirichlet-based Gaussian
    processes for large-scale calibrated classification", NeurIPS 2018.
    """

    task = "classification"

    def __init__(self, n_classes: int | None = None, alpha_epsilon: float = 0.01,
                 n_samples: int = 64, n_iter: int = 100, learning_rate: float = 0.1,
                 chunk_size: int | None = None, max_fit_points: int | None = 1000, seed: int = 0):
        self._store(locals())

    def fit(self, X, y) -> GPClassifier:
        """Fit one latent GP per class to `X (n, d)` and integer labels `y (n,)`."""
        X = self._check_X(X, fitted=False)
        y = as_targets(y, X.shape[0], "classification")
        n_classes = resolve_n_classes(y, self.n_classes)
        if self.n_samples < 1:
            raise InputError(f"n_samples must be >= 1, got {self.n_samples}")
        subset = fit_subset(X.shape[0], self.max_fit_points, self.seed)
        self.scaler_ = Standardizer(X)
        Xs = self.scaler_.transform(X)
        model, jitter = fit_with_jitter(
            lambda j: self._fit_once(Xs, y, n_classes, j, subset), (1e-8, 1e-6, 1e-4, 1e-2),
            "GP classifier fit")
        self.fit_subset_ = subset
        self.model_ = model
        self.jitter_ = jitter
        self.cache_ = None
        self.n_classes_ = n_classes
        self.n_features_ = X.shape[1]
        return self

    def _build(self, Xs: Tensor, y: Tensor, n_classes: int) -> tuple[_DirichletGP, Tensor]:
        noise, targets = dirichlet_targets(y, n_classes, self.alpha_epsilon)
        likelihood = FixedNoiseGaussianLikelihood(
            noise=noise, learn_additional_noise=True, batch_shape=torch.Size((n_classes,))
        )
        return _DirichletGP(Xs, targets, likelihood, n_classes).double(), targets

    def _fit_once(self, Xs: Tensor, y: Tensor, n_classes: int, jitter: float,
                  subset: Tensor | None = None) -> _DirichletGP:
        full_Xs, full_y = Xs, y
        if subset is not None:
            Xs, y = Xs[subset], y[subset]
        model, targets = self._build(Xs, y, n_classes)
        likelihood = model.likelihood
        mll = ExactMarginalLogLikelihood(likelihood, model)
        model.train()
        likelihood.train()
        optimizer = torch.optim.Adam(model.parameters(), lr=self.learning_rate)
        with warnings.catch_warnings(), gp_settings(jitter):
            warnings.simplefilter("ignore")
            for _ in range(self.n_iter):
                optimizer.zero_grad()
                loss = -mll(model(Xs), targets).sum()
                if not torch.isfinite(loss):
                    raise NanError("the marginal likelihood became non-finite")
                loss.backward()
                optimizer.step()
        if subset is not None:  # condition on everything with the subset's hyper-parameters
            fitted = model
            model, _ = self._build(full_Xs, full_y, n_classes)
            model.covar_module.load_state_dict(fitted.covar_module.state_dict())
            model.mean_module.load_state_dict(fitted.mean_module.state_dict())
            model.likelihood.second_noise_covar.load_state_dict(
                fitted.likelihood.second_noise_covar.state_dict())
        model.eval()
        model.likelihood.eval()
        return model

    def _cache(self) -> dict:
        """Per-class Cholesky factors of the noisy training covariance, built once per fit."""
        if getattr(self, "cache_", None) is None:
            model = self.model_
            with torch.no_grad(), gp_settings(self.jitter_):
                Xn = model.train_inputs[0]
                prior = model.forward(Xn)
                noisy = model.likelihood(prior).covariance_matrix  # (C, n, n), noise added
                eye = torch.eye(Xn.shape[0], dtype=torch.float64)
                L, info = torch.linalg.cholesky_ex(noisy + self.jitter_ * eye)
                if (info != 0).any():
                    L = torch.linalg.cholesky(noisy + 1e-6 * eye)
                L_inv = torch.linalg.solve_triangular(L, eye.expand_as(L), upper=False)
                mean0 = prior.mean[..., :1].reshape(-1, 1, 1)  # (C, 1, 1): the constant
                resid = (model.train_targets - prior.mean)[..., None]
                alpha = torch.cholesky_solve(resid, L)[..., 0]  # (C, n)
            self.cache_ = {"Xn": Xn, "L_inv": L_inv, "alpha": alpha, "mean0": mean0,
                           "center": Xn.mean(0),
                           "blocks": [triangle_blocks(L_inv[c], alpha[c])
                                      for c in range(L_inv.shape[0])]}
        return self.cache_

    def latent(self, X) -> tuple[Tensor, Tensor]:
        """Posterior mean and variance of the latent functions, each `(N, C)`, in chunks
        from cached Cholesky factors (the same numbers as GPyTorch's exact posterior)."""
        self._check_fitted()
        Xs = self.scaler_.transform(self._check_X(X))
        c = self._cache()
        n = Xs.shape[0]
        mean = torch.empty(n, self.n_classes_, dtype=torch.float64)
        var = torch.empty(n, self.n_classes_, dtype=torch.float64)
        covar = self.model_.covar_module
        n_train, n_classes = c["Xn"].shape[0], self.n_classes_
        rows = chunk_rows(n_train * n_classes, self.chunk_size)
        with torch.no_grad():
            for piece in iter_chunks(n, rows):
                size = Xs[piece].shape[0]
                Ks = dense_cross_covariance_batch(covar, Xs[piece], c["Xn"], center=c["center"])
                if Ks is not None:  # Matern or RBF: prior variance 1
                    explained = torch.ones(n_classes, size, dtype=torch.float64)
                else:
                    Ks = covar(Xs[piece], c["Xn"]).to_dense()  # (C, B, n)
                    prior = covar(Xs[piece], Xs[piece], diag=True)
                    explained = prior.reshape(n_classes, -1).expand(n_classes, size).clone()
                for k in range(n_classes):  # K_s L^-T by triangle blocks, K_s alpha with it
                    mean[piece, k] = subtract_explained(Ks[k], c["blocks"][k], explained[k],
                                              carries_alpha=True) + c["mean0"][k, 0, 0]
                var[piece] = explained.clamp_min(0.0).T
        return mean, var

    def predict(self, X) -> ClassificationPrediction:
        """Class probabilities `probs (S, N, C)`: softmax of S latent posterior draws."""
        mean, var = self.latent(X)
        gen = torch.Generator().manual_seed(self.seed)
        shape = (self.n_samples, *mean.shape)
        eps = torch.randn(shape, generator=gen, dtype=torch.float64)
        return ClassificationPrediction(torch.softmax(mean + var.sqrt() * eps, dim=-1))
