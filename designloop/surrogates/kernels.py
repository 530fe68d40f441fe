"""Kernels for molecular fingerprints, which neither GPyTorch nor BoTorch provide.

Tanimoto (Jaccard) similarity for bit or count vectors, and MinMax for count fingerprints.
"""

from __future__ import annotations

import torch
from gpytorch.kernels import Kernel
from torch import Tensor

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
