"""Kernels for molecular fingerprints, which neither GPyTorch nor BoTorch provide, and a
fast dense evaluation of the stationary kernels for scoring large pools.

Tanimoto (Jaccard) similarity for bit or count vectors, and MinMax for count fingerprints.
"""

from __future__ import annotations

import math

import torch
from botorch.models.utils.gpytorch_modules import get_covar_module_with_dim_scaled_prior
from gpytorch.constraints import GreaterThan
from gpytorch.kernels import Kernel, MaternKernel, RBFKernel, ScaleKernel
from gpytorch.priors import GammaPrior
from torch import Tensor

from designloop.errors import InputError
from designloop.registry import GP_PRIORS

_MINMAX_CHUNK_ELEMENTS = 2**24


def _safe_ratio(num: Tensor, den: Tensor) -> Tensor:
    # two all-zero fingerprints are identical: similarity 1
    return torch.where(den > 0, num / den.clamp_min(1e-300), torch.ones_like(num))


class TanimotoKernel(Kernel):
    """Tanimoto kernel k(x, x') = <x, x'> / (|x|^2 + |x'|^2 - <x, x'>).

    For binary fingerprints this is |a AND b| / |a OR b|. It is positive semi-definite for
    non-negative inputs and has no hyper-parameters; wrap it in a ScaleKernel for an
    output scale.

    Reference: Ralaivola, Swamidass, Saigo & Baldi, "Graph kernels for chemical
    informatics", Neural Networks 2005; Griffiths et al., "GAUCHE", NeurIPS 2023.
    """

    has_lengthscale = False

    def forward(self, x1: Tensor, x2: Tensor, diag: bool = False, last_dim_is_batch: bool = False,
                **params) -> Tensor:
        if diag:
            dot = (x1 * x2).sum(-1)
            sq1, sq2 = x1.pow(2).sum(-1), x2.pow(2).sum(-1)
        else:
            dot = x1 @ x2.transpose(-2, -1)
            sq1, sq2 = x1.pow(2).sum(-1)[..., :, None], x2.pow(2).sum(-1)[..., None, :]
        return _safe_ratio(dot, sq1 + sq2 - dot)


class MinMaxKernel(Kernel):
    """MinMax kernel k(x, x') = sum_i min(x_i, x'_i) / sum_i max(x_i, x'_i) for count vectors.

    Equals Tanimoto on binary vectors; positive semi-definite for non-negative inputs.

    Reference: Ralaivola et al., Neural Networks 2005.
    """

    has_lengthscale = False

    def forward(self, x1: Tensor, x2: Tensor, diag: bool = False, last_dim_is_batch: bool = False,
                **params) -> Tensor:
        if diag:
            return _safe_ratio(torch.minimum(x1, x2).sum(-1), torch.maximum(x1, x2).sum(-1))
        # sum(max) = |x| + |x'| - sum(min) for non-negative vectors, so only the min is needed
        total1 = x1.sum(-1)[..., :, None]
        total2 = x2.sum(-1)[..., None, :]
        rows = max(1, _MINMAX_CHUNK_ELEMENTS // max(1, x2.shape[-2] * x2.shape[-1]))
        if x1.shape[-2] == 0 or x2.shape[-2] == 0:
            return x1.new_zeros(*x1.shape[:-1], x2.shape[-2])
        pieces = []
        for start in range(0, x1.shape[-2], rows):
            a = x1[..., start : start + rows, None, :]
            pieces.append(torch.minimum(a, x2[..., None, :, :]).sum(-1))
        mins = torch.cat(pieces, dim=-2)
        return _safe_ratio(mins, total1 + total2 - mins)


_MATERN_SCALE = {0.5: 1.0, 1.5: math.sqrt(3.0), 2.5: math.sqrt(5.0)}


def _stationary_parts(kernel: Kernel, batch: bool = False):
    """`(base, outputscale or None, nu or None for RBF)` for the stationary kernels computed
    densely here, else None. `batch`: a bare Matern or RBF kernel with a batch of
    lengthscale vectors `(C, 1, d)` (one GP per class) instead of a single one."""
    scale = None
    base = kernel
    if isinstance(kernel, ScaleKernel) and not batch:
        if kernel.outputscale.numel() != 1:
            return None
        scale = kernel.outputscale.reshape(())
        base = kernel.base_kernel
    if type(base) not in (MaternKernel, RBFKernel) or base.active_dims is not None:
        return None
    if isinstance(base, MaternKernel) and float(base.nu) not in _MATERN_SCALE:
        return None
    shape = base.lengthscale.shape
    if (len(shape) != 3 or shape[1] != 1) if batch else (len(shape) > 2 or shape[0] != 1):
        return None
    return base, scale, float(base.nu) if isinstance(base, MaternKernel) else None


def stationary_variance(kernel: Kernel, n: int) -> Tensor | None:
    """`k(x, x)` for `n` inputs of a kernel `dense_cross_covariance` handles: the output
    scale (1 without a ScaleKernel) for every input. None for any other kernel."""
    parts = _stationary_parts(kernel)
    if parts is None:
        return None
    scale = parts[1] if parts[1] is not None else torch.tensor(1.0, dtype=torch.float64)
    return scale.detach().to(torch.float64).expand(n).clone()


def dense_cross_covariance(kernel: Kernel, A: Tensor, B: Tensor, center: Tensor | None = None
                           ) -> Tensor | None:
    """`k(A, B)` as one dense `(len(A), len(B))` block, computed in place for the stationary
    kernels the GP uses (Matern 1/2, 3/2, 5/2 and RBF with one or ARD lengthscales, optionally
    under a ScaleKernel), without GPyTorch's lazy-tensor machinery.

    The squared distances come from one matrix product, |a|^2 + |b|^2 - 2 a.b, on inputs
    centred at `center` (pass the training inputs' mean so that every chunk of a pool is
    centred alike) and scaled by the lengthscales; GPyTorch's kernels use the same expansion.
    Returns None for any other kernel: the caller falls back to calling the module.
    """
    parts = _stationary_parts(kernel)
    if parts is None:
        return None
    base, scale, nu = parts
    return _dense(A, B, base.lengthscale.reshape(-1), nu, scale, center)


def dense_cross_covariance_batch(kernel: Kernel, A: Tensor, B: Tensor,
                                 center: Tensor | None = None) -> Tensor | None:
    """`k(A, B)` as `(C, len(A), len(B))` for a Matern or RBF kernel with a batch of C
    lengthscale vectors (one GP per class), computed like `dense_cross_covariance`.
    Returns None for any other kernel."""
    parts = _stationary_parts(kernel, batch=True)
    if parts is None:
        return None
    base, _, nu = parts
    return torch.stack([_dense(A, B, ls.reshape(-1), nu, None, center)
                        for ls in base.lengthscale])


def _dense(A: Tensor, B: Tensor, lengthscale: Tensor, nu: float | None, scale: Tensor | None,
           center: Tensor | None) -> Tensor:
    """The dense block of one stationary kernel: lengthscale `(d,)`, Matern `nu` (None for
    RBF), optional output scale."""
    factor = _MATERN_SCALE[nu] if nu is not None else math.sqrt(0.5)
    if center is not None:
        A, B = A - center, B - center
    a, b = A * (factor / lengthscale), B * (factor / lengthscale)
    # |a - b|^2 = |a|^2 + |b|^2 - 2 a.b, the expansion (and rounding) GPyTorch uses
    sq = torch.addmm(a.pow(2).sum(1, keepdim=True), a, b.T, alpha=-2.0)
    sq.add_(b.pow(2).sum(1)).clamp_min_(0.0)  # r^2, with r the scaled distance
    if nu is None:  # RBF: exp(-|x - x'|^2 / (2 l^2))
        K = sq.neg_().exp_()
    elif nu == 0.5:
        K = sq.sqrt_().neg_().exp_()
    elif nu == 1.5:  # (1 + r) exp(-r)
        r = sq.sqrt_()
        decay = torch.exp(r.neg())
        K = r.add_(1.0).mul_(decay)
    else:  # (1 + r + r^2 / 3) exp(-r)
        r = sq.sqrt()
        K = sq.mul_(1.0 / 3.0).add_(r).add_(1.0).mul_(r.neg_().exp_())
    return K.mul_(scale) if scale is not None else K


KERNELS = ("matern", "rbf", "tanimoto", "minmax")
PRIORS = GP_PRIORS


def gamma_scaled_kernel(n_features: int, rbf: bool = False) -> ScaleKernel:
    """Matern-5/2 (or RBF) ARD kernel with an outputscale, under gamma priors whose centre
    L = 0.4 sqrt(d) + 4 grows with the dimension: lengthscales ~ Gamma(2L, 2) and the
    outputscale ~ Gamma(L, 1), both starting at L. Long lengthscales on unit-cube inputs make
    the prior favour smooth, nearly additive effects of many one-hot or descriptor columns,
    the shape reaction data tend to have.

    Reference: the default GP preset for chemical inputs of BayBE 0.15 (Fitzner et al.,
    "BayBE: a Bayesian back end for experimental planning in the low-to-no-data regime",
    Digital Discovery 2025).
    """
    centre = 0.4 * math.sqrt(n_features) + 4.0
    base = (RBFKernel if rbf else MaternKernel)(
        **({} if rbf else {"nu": 2.5}), ard_num_dims=n_features,
        lengthscale_prior=GammaPrior(2.0 * centre, 2.0),
        lengthscale_constraint=GreaterThan(2.5e-2, transform=None, initial_value=centre))
    return ScaleKernel(base, outputscale_prior=GammaPrior(centre, 1.0),
                       outputscale_constraint=GreaterThan(1e-4, transform=None,
                                                          initial_value=centre))


def make_kernel(name: str, n_features: int, prior: str = "dim_scaled"):
    """The covariance module for kernel `name` over `n_features` inputs; for Matern and RBF,
    `prior` "dim_scaled" (BoTorch's default, Hvarfner et al. 2024) or "gamma"
    (`gamma_scaled_kernel`)."""
    if prior not in PRIORS:
        raise InputError(f"unknown GP prior {prior!r}; choose one of {', '.join(PRIORS)}")
    if name in ("matern", "rbf") and prior == "gamma":
        return gamma_scaled_kernel(n_features, rbf=name == "rbf")
    if name == "matern":
        return get_covar_module_with_dim_scaled_prior(n_features, use_rbf_kernel=False)
    if name == "rbf":
        return get_covar_module_with_dim_scaled_prior(n_features, use_rbf_kernel=True)
    if name == "tanimoto":
        return ScaleKernel(TanimotoKernel())
    if name == "minmax":
        return ScaleKernel(MinMaxKernel())
    raise InputError(f"unknown kernel {name!r}; choose one of {', '.join(KERNELS)}")
