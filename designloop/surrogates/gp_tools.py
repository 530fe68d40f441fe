"""Building blocks of the exact GP models (the regressor and the GP classifier):
candidates per chunk, the variance product with the inverse Cholesky factor cut into
triangle blocks, the subset of observations hyper-parameters are fitted on, fitting with
growing diagonal jitter, input bounds and a target scaling that is free of absolute
floors."""

from __future__ import annotations

import warnings
from contextlib import contextmanager

import gpytorch
import torch
from botorch.exceptions import ModelFittingError
from botorch.fit import fit_gpytorch_mll
from botorch.models.transforms.outcome import Standardize, nanstd
from linear_operator.utils.errors import NanError, NotPSDError
from torch import Tensor

from designloop.errors import InputError, SurrogateFitError

BLOCK_ELEMENTS = 2**20  # kernel entries per chunk of candidates (8 MB in float64)
_TRIANGLE_BLOCK = 120  # column block of the inverse Cholesky factor in the variance product
# block widths are multiples of 24: powers of two (128, 256) ran the matrix products about 15%
# slower on the benchmark machine (cache-set conflicts on the output's rows)
_TRIANGLE_STEP = 24


def chunk_rows(n_train: int, chunk_size: int | None) -> int:
    """Candidates per chunk: the given size, or as many as keep one kernel block of
    `(rows, n_train)` within BLOCK_ELEMENTS (between 256 and 65,536 rows)."""
    if chunk_size is not None:
        return chunk_size
    return int(min(65_536, max(256, BLOCK_ELEMENTS // max(n_train, 1))))


def fit_subset(n: int, max_fit_points: int | None, seed: int) -> Tensor | None:
    """Seeded random indices of the observations to fit hyper-parameters on, or None when
    all `n` fit (`max_fit_points` None or at least n)."""
    if max_fit_points is not None and max_fit_points < 2:
        raise InputError(f"max_fit_points must be >= 2 or None, got {max_fit_points}")
    if max_fit_points is None or n <= max_fit_points:
        return None
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:max_fit_points]


def triangle_blocks(L_inv: Tensor, alpha: Tensor | None = None) -> list[tuple[int, Tensor]]:
    """Column blocks of `L_inv^T` with the zeros of the triangle cut off: `(end, B_j)` with
    `B_j = L_inv[lo:end, :end]^T`, so that `K_s L_inv^T` is the concatenation of
    `K_s[:, :end] @ B_j`. For n training points this takes about n^2 / 2 multiply-adds per
    candidate instead of n^2. Given `alpha`, the last block, which spans all n rows, carries it
    as an extra first column, so that the same product also gives the posterior mean
    `K_s alpha`."""
    n = L_inv.shape[0]
    width = n if n < 2 * _TRIANGLE_BLOCK else max(_TRIANGLE_BLOCK, -(-n // 8))
    width = -(-width // _TRIANGLE_STEP) * _TRIANGLE_STEP
    blocks = [(min(lo + width, n), L_inv[lo : lo + width, : lo + width].T)
              for lo in range(0, n, width)]
    if alpha is not None:
        end, last = blocks[-1]
        blocks[-1] = (end, torch.cat([alpha[:, None], last], 1))
    return [(end, block.contiguous()) for end, block in blocks]


def subtract_explained(Ks: Tensor, blocks: list[tuple[int, Tensor]], var: Tensor,
                       carries_alpha: bool = False) -> Tensor | None:
    """Subtract from `var (B,)`, in place, the variance that the observations behind
    `blocks` explain at candidates with prior covariances `Ks (B, n)` to them: the squared
    norms of the rows of `K_s L^-T`. With `carries_alpha` (blocks made by `triangle_blocks`
    with alpha) returns `K_s alpha`, else None."""
    mean = None
    for end, block in blocks:  # rows of K_s L^-T, one column block at a time
        V = Ks[:, :end] @ block
        if carries_alpha and end == Ks.shape[1]:  # the last block: first column is K_s alpha
            mean, V = V[:, 0], V[:, 1:]
        var.sub_(torch.einsum("ij,ij->i", V, V))
    return mean


MAX_CHOLESKY_SIZE = 20_000


@contextmanager
def gp_settings(jitter: float | None):
    """Exact Cholesky (not conjugate gradients) up to MAX_CHOLESKY_SIZE training points,
    starting from the given float64 diagonal jitter."""
    with gpytorch.settings.cholesky_jitter(double_value=jitter or 1e-8), \
            gpytorch.settings.max_cholesky_size(MAX_CHOLESKY_SIZE):
        yield


def fit_with_jitter(fit_once, jitters, what: str, advice: str = ""):
    """Call `fit_once(jitter)` with growing diagonal jitter until it succeeds.

    Returns:
        (the fitted model, the jitter that worked).

    Raises:
        SurrogateFitError: every jitter failed; the message says so (no silent fallback).
    """
    last_error: Exception | None = None
    for jitter in jitters:
        try:
            return fit_once(jitter), jitter
        except (ModelFittingError, NotPSDError, NanError, RuntimeError) as exc:
            last_error = exc
    raise SurrogateFitError(
        f"{what} failed even with jitter {jitters[-1]}: {last_error}. {advice}".strip()
    ) from last_error


def domain_bounds(domain) -> Tensor:
    """`(2, d)` lower and upper bounds of the inputs `domain (N, d)`; a column that does not
    vary gets a unit range, so that scaling by the bounds never divides by zero."""
    domain = torch.as_tensor(domain, dtype=torch.float64)
    lo, hi = domain.min(0).values, domain.max(0).values
    return torch.stack([lo, torch.where(hi > lo, hi, lo + 1.0)])


RELATIVE_MIN_STD = 1e-12  # a spread below this fraction of the largest |y| is rounding


class ScaleFreeStandardize(Standardize):
    """BoTorch's Standardize without its absolute floor: BoTorch leaves targets whose
    standard deviation is below 1e-8 unscaled, so that values around 1e-12 met a GP whose
    noise bounds and priors are set for unit-scale data (predicted sds near 0.1 for data a
    hundred billion times smaller). Here the scale is the standard deviation unless it is
    below RELATIVE_MIN_STD times the largest |y| (one observation, or a constant target),
    then the largest |y| itself (1 for all zeros): y and c * y give the same standardised
    targets for any c > 0, so the fit and the predictions scale with the target."""

    def __init__(self, m: int = 1):
        super().__init__(m, min_stdv=0.0)

    def forward(self, Y: Tensor, Yvar: Tensor | None = None, X: Tensor | None = None):
        if self.training:
            super().forward(Y, Yvar, X)  # sets the means, and the stdvs we replace
            size = Y.abs().amax(dim=-2, keepdim=True)
            size = size.where(size > 0, torch.ones_like(size))
            spread = nanstd(Y, dim=-2, keepdim=True) if Y.shape[-2] > 1 else torch.zeros_like(size)
            stdvs = spread.where(spread > RELATIVE_MIN_STD * size, size)
            self.stdvs = stdvs
            self._stdvs_sq = stdvs.pow(2)
        Y_tf = (Y - self.means) / self.stdvs
        return Y_tf, (Yvar / self._stdvs_sq if Yvar is not None else None)


def hyperparameters(model) -> dict[str, list | float]:
    """The model's learnt parameters in its own (raw, unconstrained) parameterisation, by
    name, as JSON-ready numbers: what a later fit can start from (`load_hyperparameters`)."""
    return {name: p.detach().tolist() for name, p in model.named_parameters()}


def load_hyperparameters(model, values: dict) -> bool:
    """Set `model`'s parameters to `values` (as made by `hyperparameters`); False, and the
    model unchanged, unless they name the same parameters with the same shapes and are
    finite."""
    params = dict(model.named_parameters())
    if not isinstance(values, dict) or set(values) != set(params):
        return False
    try:
        new = {name: torch.as_tensor(values[name], dtype=p.dtype) for name, p in params.items()}
    except (TypeError, ValueError):
        return False
    if any(new[name].shape != p.shape or not torch.isfinite(new[name]).all()
           for name, p in params.items()):
        return False
    with torch.no_grad():
        for name, p in params.items():
            p.copy_(new[name])
    return True


def fit_loss(mll, jitter: float | None = None) -> float:
    """The loss `fit_gpytorch_mll` minimises (negative marginal log likelihood per
    observation, plus the priors) at the model's current parameters."""
    model = mll.model
    mll.train()
    with torch.no_grad(), warnings.catch_warnings(), gp_settings(jitter):
        warnings.simplefilter("ignore")
        loss = -mll(model(*model.train_inputs), model.train_targets, *model.train_inputs)
    mll.eval()
    return float(loss)


def optimise(mll, jitter: float | None, seed: int, max_iter: int) -> float:
    """Maximise the marginal likelihood `mll` from its model's current hyper-parameters
    (L-BFGS, at most `max_iter` steps; BoTorch's seeded restarts from the priors if it
    fails); returns the final `fit_loss`."""
    with torch.random.fork_rng(), warnings.catch_warnings():
        torch.manual_seed(seed)  # restarts sample from the priors; keep them seeded
        warnings.simplefilter("ignore")
        with gp_settings(jitter):
            fit_gpytorch_mll(mll, optimizer_kwargs={"options": {"maxiter": max_iter}})
            return fit_loss(mll, jitter)


def check_posterior(model, X: Tensor, jitter: float | None) -> None:
    """Raise ModelFittingError (so that a larger jitter is tried) when the fitted `model`
    predicts non-finite values at `X`."""
    with torch.no_grad(), gp_settings(jitter):
        post = model.posterior(X)
        if not torch.isfinite(post.mean).all() or not torch.isfinite(post.variance).all():
            raise ModelFittingError("the fitted GP gives non-finite predictions")
