"""Exact GP regression on BoTorch's SingleTaskGP: Matern-5/2 ARD, RBF, or fingerprint kernels.

Fitting maximises the marginal likelihood (`fit_gpytorch_mll`). Prediction runs on a cache
built once per fit (the inverse Cholesky factor of the training covariance and K^-1 y): each
chunk of candidates costs one dense kernel block and a few matrix products, about n^2 / 2
multiply-adds per candidate, and the memory used depends on the chunk size, not on the size
of the pool.
"""

from __future__ import annotations

import torch
from botorch.exceptions import ModelFittingError
from botorch.models import SingleTaskGP
from botorch.models.transforms import Normalize
from gpytorch.mlls import ExactMarginalLogLikelihood
from linear_operator.functions import pivoted_cholesky
from linear_operator.utils.errors import NanError, NotPSDError
from torch import Tensor

from designloop.errors import InputError, SurrogateFitError
from designloop.prediction import RegressionPrediction
from designloop.surrogates.base import SurrogateBase, as_targets, iter_chunks
from designloop.surrogates.gp_tools import (
    ScaleFreeStandardize,
    check_posterior,
    chunk_rows,
    domain_bounds,
    fit_loss,
    fit_subset,
    fit_with_jitter,
    gp_settings,
    hyperparameters,
    load_hyperparameters,
    optimise,
    subtract_explained,
    triangle_blocks,
)
from designloop.surrogates.kernels import (
    dense_cross_covariance,
    make_kernel,
    stationary_variance,
)

SCREEN_MIN_COLUMNS = 64
# a warm start's share of max_iter L-BFGS steps: from the last optimum, 50 came within 0.003
# nats per observation of 200 cold ones on the reaction and solubility tables (flat likelihoods)
WARM_STEPS_DIVISOR = 4
INPUT_SCALINGS = ("observed", "domain")


class GPRegressor(SurrogateBase):
    """Exact Gaussian-process regression (BoTorch SingleTaskGP), float64 throughout.

    Inputs are normalised to the unit cube from the training data (not for fingerprint
    kernels, which need the raw non-negative features) and targets standardised; the
    predictions come back in the target's units.

    Args:
        kernel: "matern" (Matern-5/2 with ARD and dimension-scaled lengthscale prior,
            Hvarfner et al. 2024), "rbf", "tanimoto" (bit fingerprints) or "minmax" (count
            fingerprints).
        noise: observation-noise variance in the target's units; None learns it.
        max_iter: L-BFGS iterations for the hyper-parameters (bounds the fit time).
        chunk_size: candidates predicted at once (bounds memory); None sizes each chunk so
            that its kernel block has about a million entries (8 MB).
        max_fit_points: with more observations than this, the hyper-parameters are fitted
            on a seeded random subset of this size (each marginal-likelihood step costs
            O(n^3)), and the GP then conditions on all observations with them: the posterior
            is exact given those hyper-parameters. None always fits on everything.
        input_scaling: how inputs are mapped to the unit cube for the Matern and RBF kernels:
            "observed" (by the range of the training inputs, BoTorch's default) or "domain"
            (by the range of the `domain` given to `fit`, in a campaign the whole candidate
            pool, so that the lengthscales and their prior refer to the space being searched
            and do not change meaning as observations arrive).
        prior: hyper-parameter priors of the Matern and RBF kernels: "dim_scaled"
            (BoTorch's lengthscale prior that grows with the dimension, no outputscale) or
            "gamma" (gamma priors on lengthscales and outputscale centred on
            0.4 sqrt(d) + 4, as chemistry BO tools use; see `gamma_scaled_kernel`).
        seed: seeds the random restarts the optimiser may need, and the subset.

    Fitted attributes: `model_` (the BoTorch model), `n_features_`, `n_observations_`,
    `fit_subset_` (indices the hyper-parameters were fitted on, or None for all),
    `domain_bounds_` (the `(2, d)` bounds inputs were scaled by with `input_scaling="domain"`,
    else None; kept by `clone`, so that refits on parts of the data scale the same way),
    `hyperparameters_` (the learnt parameters, a start for a later fit), `fit_start_`
    ("cold", "warm", "kept", or why a warm start gave way to a cold one).
    """

    task = "regression"
    uses_domain = True

    def __init__(self, kernel: str = "matern", noise: float | None = None,
                 max_iter: int = 200, chunk_size: int | None = None,
                 max_fit_points: int | None = 1000, prior: str = "dim_scaled",
                 input_scaling: str = "observed", seed: int = 0):
        self._store(locals())

    def clone(self, **changes) -> GPRegressor:
        """An unfitted copy with the same hyper-parameters and the same domain bounds."""
        copy = super().clone(**changes)
        copy.domain_bounds_ = getattr(self, "domain_bounds_", None)
        return copy

    def fit(self, X, y, domain=None, start: dict | None = None,
            refit: bool = True) -> GPRegressor:
        """Fit the GP hyper-parameters to `X (n, d)`, `y (n,)` by maximum marginal likelihood.

        Args:
            domain: `(N, d)` every input the model will be asked about (a campaign's
                candidate pool); with `input_scaling="domain"` inputs are scaled by its
                range. Ignored otherwise, and by the fingerprint kernels.
            start: hyper-parameters to start from (`hyperparameters_` of an earlier fit of
                this kind of model), for at most `max_iter / WARM_STEPS_DIVISOR` L-BFGS steps
                per attempt; one that does not fit the model is ignored, and one whose fit
                fails or ends worse than a cold start begins gives way to a cold start.
            refit: False keeps `start` as fitted, without optimising ("kept": what a fit on
                these same data ended with). `fit_start_` says which of these happened.
        """
        X = self._check_X(X, fitted=False)
        if self.input_scaling not in INPUT_SCALINGS:
            raise InputError(f"input_scaling must be one of {', '.join(INPUT_SCALINGS)}, "
                             f"got {self.input_scaling!r}")
        bounds = None
        if self.input_scaling == "domain":  # a clone keeps the domain it was made with
            bounds = (domain_bounds(domain) if domain is not None
                      else getattr(self, "domain_bounds_", None))
        if bounds is not None and bounds.shape[1] != X.shape[1]:
            raise InputError(f"the domain has {bounds.shape[1]} features, X has {X.shape[1]}")
        y = as_targets(y, X.shape[0], "regression")
        if self.kernel in ("tanimoto", "minmax") and (X < 0).any():
            raise InputError(f"the {self.kernel} kernel needs non-negative features (fingerprints)")
        if self.noise is not None and not self.noise > 0:
            raise InputError(f"noise must be a positive variance or None, got {self.noise}")
        d = X.shape[1]
        subset = fit_subset(X.shape[0], self.max_fit_points, self.seed)
        model, jitter = fit_with_jitter(
            lambda j: self._fit_once(X, y, d, j, subset, bounds, start, refit),
            (None, 1e-6, 1e-4, 1e-2),
            "GP fit", "Check for constant or duplicated feature columns, or try kernel='rbf' "
            "or a fixed noise.")
        self.fit_subset_ = subset
        self.domain_bounds_ = bounds
        self.model_ = model
        self.hyperparameters_ = hyperparameters(model)
        self.jitter_ = jitter
        self.cache_ = None
        self.n_features_ = d
        self.n_observations_ = X.shape[0]
        return self

    def _build(self, X: Tensor, y: Tensor, d: int, bounds: Tensor | None) -> SingleTaskGP:
        fingerprint = self.kernel in ("tanimoto", "minmax")
        train_yvar = None
        if self.noise is not None:
            train_yvar = torch.full_like(y[:, None], float(self.noise))
        return SingleTaskGP(
            X, y[:, None], train_Yvar=train_yvar,
            covar_module=make_kernel(self.kernel, d, self.prior),
            input_transform=None if fingerprint else Normalize(d, bounds=bounds),
            outcome_transform=ScaleFreeStandardize(1),
        )

    def _fit_once(self, X: Tensor, y: Tensor, d: int, jitter: float | None,
                  subset: Tensor | None = None, bounds: Tensor | None = None,
                  start: dict | None = None, refit: bool = True) -> SingleTaskGP:
        # a subset fit normalises inputs by the bounds of all the data, so that its
        # lengthscales mean the same in the full model
        if bounds is None and subset is not None:
            bounds = torch.stack([X.min(0).values, X.max(0).values])
        fit_X, fit_y = (X, y) if subset is None else (X[subset], y[subset])
        model, self.fit_start_ = self._build(fit_X, fit_y, d, bounds), "cold"
        cold = ExactMarginalLogLikelihood(model.likelihood, model)
        warm = None if start is None else self._build(fit_X, fit_y, d, bounds)
        loaded = warm is not None and load_hyperparameters(warm, start)
        if loaded and not refit:
            model, self.fit_start_ = warm, "kept"  # the same data a fit ended with: as it was
        elif loaded:
            steps = max(1, self.max_iter // WARM_STEPS_DIVISOR)
            try:
                ended = optimise(ExactMarginalLogLikelihood(warm.likelihood, warm), jitter,
                                 self.seed, steps)
                better = ended <= fit_loss(cold, jitter)  # where a cold start begins
            except (ModelFittingError, NotPSDError, NanError, RuntimeError):
                better, self.fit_start_ = False, "cold: the warm start failed"
            if better:
                model, self.fit_start_ = warm, "warm"
            elif self.fit_start_ == "cold":  # stuck near where the last fit ended
                self.fit_start_ = "cold: the warm start ended worse than a cold one begins"
        if model is not warm:
            optimise(cold, jitter, self.seed, self.max_iter)
        if subset is not None:  # condition on everything with the subset's hyper-parameters
            fitted = model
            model = self._build(X, y, d, bounds)
            for name in ("covar_module", "mean_module", "likelihood"):
                getattr(model, name).load_state_dict(getattr(fitted, name).state_dict())
        model.eval()
        check_posterior(model, X[:1], jitter)
        return model

    def noise_variance(self) -> Tensor:
        """Observation-noise variance in the target's units (scalar tensor)."""
        self._check_fitted()
        if self.noise is not None:
            return torch.tensor(float(self.noise), dtype=torch.float64)
        std = self.model_.outcome_transform.stdvs.squeeze()
        return (self.model_.likelihood.noise.squeeze() * std**2).detach()

    def _cache(self) -> dict:
        """Cholesky-based prediction cache, built once per fit: transformed training inputs,
        K^-1 (y - m) and the inverse Cholesky factor of the noisy training covariance."""
        if getattr(self, "cache_", None) is None:
            model = self.model_
            with torch.no_grad(), gp_settings(self.jitter_):
                Xn = model.train_inputs[0]
                yt = model.train_targets
                K = model.covar_module(Xn).to_dense()
                noise = model.likelihood.noise.reshape(-1).expand(Xn.shape[0])
                K = K + torch.diag_embed(noise)
                L, info = torch.linalg.cholesky_ex(K)
                jitter, added = self.jitter_ or 1e-8, 0.0
                while info.item() != 0 and jitter < 1.0:
                    added = jitter
                    L, info = torch.linalg.cholesky_ex(
                        K + jitter * torch.eye(K.shape[0], dtype=K.dtype))
                    jitter *= 10
                if info.item() != 0:
                    raise SurrogateFitError("the GP's training covariance is not positive definite")
                eye = torch.eye(L.shape[0], dtype=L.dtype)
                L_inv = torch.linalg.solve_triangular(L, eye, upper=False)
                mean0 = model.mean_module(Xn[:1]).reshape(-1)[0]
                alpha = torch.cholesky_solve((yt - mean0)[:, None], L)[:, 0]
            tf = model.outcome_transform
            self.cache_ = {"Xn": Xn, "alpha": alpha, "L_inv": L_inv, "mean0": mean0,
                           "y_mean": tf.means.reshape(()), "y_std": tf.stdvs.reshape(()),
                           "center": Xn.mean(0), "blocks": triangle_blocks(L_inv, alpha),
                           "added_jitter": added}
        return self.cache_

    def transform_inputs(self, X) -> Tensor:
        """`X (N, d)` mapped to the model's input space (unit cube for Matern/RBF)."""
        self._check_fitted()
        return self._model_space(self._check_X(X))

    def _model_space(self, X: Tensor) -> Tensor:
        transform = getattr(self.model_, "input_transform", None)
        return transform(X) if transform is not None else X

    def prior_covariance(self, A: Tensor, B: Tensor) -> Tensor:
        """Prior covariance `(len(A), len(B))` between inputs already in the model's space,
        in standardised target units."""
        self._check_fitted()
        with torch.no_grad():
            dense = dense_cross_covariance(self.model_.covar_module, A, B,
                                           center=self._cache()["center"])
            return dense if dense is not None else self.model_.covar_module(A, B).to_dense()

    def prior_variance(self, A: Tensor) -> Tensor:
        """Prior variance `(len(A),)` at inputs already in the model's space (standardised
        target units)."""
        self._check_fitted()
        with torch.no_grad():
            constant = stationary_variance(self.model_.covar_module, A.shape[0])
            return constant if constant is not None else self.model_.covar_module(A, A, diag=True)

    def factors(self) -> dict:
        """The fitted posterior's building blocks (standardised units): transformed training
        inputs `Xn (n, d)`, `alpha = K^-1 (y - m)`, the inverse Cholesky factor `L_inv` of
        the noisy training covariance, and `y_std` to return to the target's units."""
        self._check_fitted()
        return self._cache()

    def loo_log_likelihood(self) -> float:
        """Mean leave-one-out predictive log density of the training targets, in standardised
        units (closed form: mu_-i = y_i - [K^-1 y]_i / [K^-1]_ii, var_-i = 1 / [K^-1]_ii).

        Reference: Rasmussen & Williams, "Gaussian Processes for Machine Learning", 2006,
        section 5.4.2.
        """
        resid, var = self._loo_standardised()
        ll = -0.5 * torch.log(2 * torch.pi * var) - 0.5 * resid.pow(2) / var
        return float(ll.mean())

    def _loo_standardised(self) -> tuple[Tensor, Tensor]:
        """LOO residuals y_i - mu_-i and variances var_-i, standardised units."""
        self._check_fitted()
        c = self._cache()
        var = c["L_inv"].pow(2).sum(0).reciprocal()  # 1 / diag(K^-1): column norms of L^-1
        return c["alpha"] * var, var

    def leave_one_out(self) -> tuple[Tensor, Tensor]:
        """Closed-form leave-one-out predictive mean and variance `(n,)` of each training
        target, in the target's units (hyper-parameters kept fixed)."""
        resid, var = self._loo_standardised()
        c = self._cache()
        targets = self.model_.train_targets * c["y_std"] + c["y_mean"]
        return (targets - resid * c["y_std"]).detach(), (var * c["y_std"] ** 2).detach()

    def predict(self, X) -> RegressionPrediction:
        """Posterior mean, epistemic (latent-function) variance and noise variance for
        `X (N, d)`, computed in chunks of `chunk_size` candidates from a cached Cholesky
        factor (the same numbers as BoTorch's posterior)."""
        self._check_fitted()
        X = self._check_X(X)
        c = self._cache()
        n = X.shape[0]
        mean = torch.empty(n, dtype=torch.float64)
        with torch.no_grad():
            Xn = self._model_space(X)
            var = self.prior_variance(Xn)
            for piece in iter_chunks(n, chunk_rows(c["Xn"].shape[0], self.chunk_size)):
                Ks = self.prior_covariance(Xn[piece], c["Xn"])  # (B, n)
                mean[piece] = subtract_explained(Ks, c["blocks"], var[piece], carries_alpha=True)
            mean = (mean + c["mean0"]) * c["y_std"] + c["y_mean"]
            var = var.clamp_min(0.0) * c["y_std"] ** 2
        return RegressionPrediction(mean, var, self.noise_variance())

    def screens(self) -> bool:
        """Whether `variance_bound` reads fewer observations than the GP holds (at least
        2 * SCREEN_MIN_COLUMNS of them), the only case in which screening saves time."""
        self._check_fitted()
        return self._cache()["Xn"].shape[0] >= 2 * SCREEN_MIN_COLUMNS

    def _screen(self) -> dict:
        """Factors for `variance_bound`, built once per fit: the `m` observations a pivoted
        Cholesky factorisation of the noisy training covariance takes first (m = n / 8, at
        least SCREEN_MIN_COLUMNS) and the inverse Cholesky factor of their covariance."""
        c = self._cache()
        if "screen" not in c:
            Xn = c["Xn"]
            n = Xn.shape[0]
            m = min(n, max(SCREEN_MIN_COLUMNS, -(-n // 8)))
            with torch.no_grad(), gp_settings(self.jitter_):
                K = self.model_.covar_module(Xn).to_dense()
                K.diagonal().add_(self.model_.likelihood.noise.reshape(-1).expand(n)
                                  + c["added_jitter"])
                _, pivots = pivoted_cholesky(K, rank=m, return_pivots=True)
                chosen = pivots[:m]
                L = torch.linalg.cholesky(K[chosen][:, chosen])
                L_inv = torch.linalg.solve_triangular(
                    L, torch.eye(m, dtype=torch.float64), upper=False)
            c["screen"] = {"pivots": chosen, "Xp": Xn[chosen], "blocks": triangle_blocks(L_inv)}
        return c["screen"]

    def variance_bound(self, X, with_mean: bool = False) -> tuple[Tensor, Tensor | None]:
        """Upper bounds `(N,)` on the epistemic variance at `X (N, d)`, in the target's units,
        and the exact posterior mean `(N,)` when `with_mean` (else None), for screening a
        large pool before computing exact variances for the few candidates that can win.

        The bound is the posterior variance given only the m observations that a pivoted
        Cholesky factorisation of the training covariance takes first (m = n / 8, at least
        SCREEN_MIN_COLUMNS; it is exact when m = n). Conditioning a Gaussian on fewer
        observations never lowers its variance, and the pivoted order makes the bound tight
        where the data are dense. It costs about (m / n)^2 of `predict`'s triangular
        product and, without the mean, m / n of its kernel evaluations.

        Reference: Harbrecht, Peters & Schneider, "On the low-rank approximation by the
        pivoted Cholesky decomposition", Applied Numerical Mathematics 2012.
        """
        self._check_fitted()
        X = self._check_X(X)
        c, screen = self._cache(), self._screen()
        n = X.shape[0]
        mean = torch.empty(n, dtype=torch.float64) if with_mean else None
        train = c["Xn"] if with_mean else screen["Xp"]
        with torch.no_grad():
            Xn = self._model_space(X)
            var = self.prior_variance(Xn)
            prior = var.clone()
            for piece in iter_chunks(n, chunk_rows(train.shape[0], self.chunk_size)):
                Ks = self.prior_covariance(Xn[piece], train)
                if with_mean:
                    mean[piece] = torch.mv(Ks, c["alpha"])
                    Ks = Ks[:, screen["pivots"]]
                subtract_explained(Ks, screen["blocks"], var[piece])
            # a margin for rounding, so that the bound is never below `predict`'s variance
            var = (var.clamp_min(0.0) + 1e-10 * prior) * c["y_std"] ** 2
            if with_mean:
                mean = (mean + c["mean0"]) * c["y_std"] + c["y_mean"]
        return var, mean

    def sample_posterior(self, X, n_samples: int, seed: int = 0) -> Tensor:
        """Joint draws `(n_samples, N)` of the latent function at `X (N, d)`.

        The joint covariance over N points is formed, so keep N to a few thousand.
        """
        self._check_fitted()
        X = self._check_X(X)
        if X.shape[0] > 20_000:
            raise InputError(
                f"joint posterior samples over {X.shape[0]} points need an N x N covariance; "
                "sample at most 20,000 points at once"
            )
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad(), gp_settings(self.jitter_):
            post = self.model_.posterior(X)
            shape = torch.Size([n_samples]) + post.base_sample_shape
            base = torch.randn(shape, generator=gen, dtype=torch.float64)
            draws = post.rsample_from_base_samples(torch.Size([n_samples]), base)
            return draws.reshape(n_samples, X.shape[0])
