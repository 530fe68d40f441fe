"""Expected model change: expected gradient length for differentiable surrogates.

score(x) = E_y [ ||grad_theta L(x, y; theta)|| ], the expectation over the model's own
predictive distribution of y, averaged over ensemble members. Per-candidate gradient norms
come from one batched forward and backward pass: for a dense layer the per-example
gradient of W is the outer product a delta^T, so its squared norm is
(||a||^2 + 1) ||delta||^2 with the bias, and no per-example gradient is ever formed.
`per_example_grad_norms_reference` computes the same with torch.func (vmap of grad) and
the tests check the two agree.

Reference: Settles, Craven & Ray, "Multiple-instance active learning", NeurIPS 2008;
Goodfellow, "Efficient per-example gradient computations", arXiv:1510.01799, 2015.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.func import grad, vmap

from designloop.errors import AcquisitionError

_HERMITE = np.polynomial.hermite.hermgauss(8)


def _forward(weights: list[Tensor], biases: list[Tensor], x: Tensor) -> Tensor:
    """One member's network on one input `(d,)` (no dropout: the expected network)."""
    h = x
    for layer, (w, b) in enumerate(zip(weights, biases, strict=True)):
        h = h @ w + b[0]
        if layer < len(weights) - 1:
            h = F.relu(h)
    return h


def _loss(out: Tensor, target: Tensor, regression: bool) -> Tensor:
    """Per-example loss `(..., B)` of outputs `(..., B, o)`: Gaussian NLL or cross-entropy."""
    if regression:
        var = F.softplus(out[..., 1]) + 1e-6
        return 0.5 * (torch.log(var) + (target - out[..., 0]) ** 2 / var)
    logp = torch.log_softmax(out, dim=-1)
    return -logp.gather(-1, target.expand(*out.shape[:-1])[..., None])[..., 0]


def per_example_grad_norms(net, Xs: Tensor, target: Tensor, regression: bool) -> Tensor:
    """`(M, B)` norm of the gradient of each member's loss at each example, from one
    batched forward and backward pass."""
    weights = [w.detach() for w in net.weights]
    biases = [b.detach() for b in net.biases]
    acts, zs = [], []
    h = Xs
    with torch.enable_grad():
        for layer, (w, b) in enumerate(zip(weights, biases, strict=True)):
            acts.append(h)
            z = torch.matmul(h, w) + b
            if not z.requires_grad:  # first layer: inputs and weights are constants
                z.requires_grad_(True)
            zs.append(z)
            h = F.relu(z) if layer < len(weights) - 1 else z
        losses = _loss(h, target, regression)
        deltas = torch.autograd.grad(losses.sum(), zs)
    norm2 = torch.zeros(losses.shape, dtype=torch.float64)
    for a, d in zip(acts, deltas, strict=True):
        a2 = a.pow(2).sum(-1)
        norm2 = norm2 + (a2 + 1.0) * d.pow(2).sum(-1)
    return norm2.sqrt().detach()


def per_example_grad_norms_reference(net, Xs: Tensor, target: Tensor, regression: bool):
    """The same norms by torch.func: vmap over examples of grad of one member's loss."""
    out = []
    for m in range(net.weights[0].shape[0]):
        ws = [w[m].detach() for w in net.weights]
        bs = [b[m].detach() for b in net.biases]

        def loss(ws, bs, x, t):
            return _loss(_forward(ws, bs, x)[None], t[None], regression)[0]

        def norm(x, t, ws=ws, bs=bs):
            gw, gb = grad(loss, argnums=(0, 1))(ws, bs, x, t)
            return torch.sqrt(sum(g.pow(2).sum() for g in gw) + sum(g.pow(2).sum() for g in gb))

        out.append(vmap(norm)(Xs, target))
    return torch.stack(out)


def expected_gradient_length(pred, *, model=None, X=None, chunk_size: int = 4096,
                             **context) -> Tensor:
    """Expected gradient length: E_{y ~ p(y|x)} ||grad_theta loss(x, y)||, averaged over
    ensemble members.

    Classification: the sum over classes of p(y|x) times the gradient norm of the
    cross-entropy for label y. Regression: the expectation of the gradient norm of the
    Gaussian negative log likelihood over y ~ N(mean, total variance), by 8-point
    Gauss-Hermite quadrature. Inputs and targets are scaled as in training.

    Args:
        pred: the surrogate's Prediction for X (class probabilities or predictive).
        model: the fitted DeepEnsemble or MCDropout (Campaign passes it).
        X: `(N, d)` candidate features (Campaign passes them).
        chunk_size: candidates per vectorised pass (bounds memory).

    Returns:
        `(N,)` scores >= 0.

    Reference: Settles, Craven & Ray, NeurIPS 2008.
    """
    net = getattr(model, "net_", None)
    if net is None or X is None:
        raise AcquisitionError(
            "acquisition 'expected_gradient_length' needs a differentiable surrogate: "
            "'ensemble' or 'mc_dropout' (and the candidates X; Campaign passes both)")
    Xs = model.x_scaler_.transform(torch.as_tensor(X, dtype=torch.float64))
    regression = model.task == "regression"
    n = Xs.shape[0]
    scores = torch.zeros(n, dtype=torch.float64)
    for start in range(0, n, chunk_size):
        part = slice(start, min(start + chunk_size, n))
        xb = Xs[part]
        if regression:
            y_mean = (pred.mean[part] - model.y_scaler_.mean[0]) / model.y_scaler_.std[0]
            y_sd = pred.total_var[part].sqrt() / model.y_scaler_.std[0]
            for node, weight in zip(_HERMITE[0], _HERMITE[1], strict=True):
                target = y_mean + math.sqrt(2.0) * node * y_sd
                norms = per_example_grad_norms(net, xb, target, True)
                scores[part] += weight / math.sqrt(math.pi) * norms.mean(0)
        else:
            probs = pred.mean_probs[part]
            for c in range(probs.shape[1]):
                label = torch.full((xb.shape[0],), c, dtype=torch.long)
                scores[part] += probs[:, c] * per_example_grad_norms(net, xb, label, False).mean(0)
    return scores
