"""Small multilayer perceptrons trained as a batch: M independent members in one tensor
program, with dropout masks drawn from an explicit generator (no global random state).

Used by the deep ensemble (M members, no dropout) and the MC-dropout network (one member,
dropout kept on at prediction time).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from designloop.errors import InputError

_MIN_VAR = 1e-6


class BatchedMLP(nn.Module):
    """M independent MLPs `d -> hidden... -> out`, evaluated together with batched matmuls.

    Args:
        n_members: number of independent networks M.
        n_features: input width d.
        hidden: widths of the hidden layers.
        n_outputs: output width (2 for mean and variance, C for class logits).
        generator: seeds the initial weights (He-uniform, as torch.nn.Linear).
    """

    def __init__(self, n_members: int, n_features: int, hidden: tuple[int, ...], n_outputs: int,
                 generator: torch.Generator):
        super().__init__()
        widths = [n_features, *hidden, n_outputs]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for fan_in, fan_out in zip(widths[:-1], widths[1:], strict=True):
            bound = 1.0 / math.sqrt(fan_in)
            w = (torch.rand(n_members, fan_in, fan_out, generator=generator,
                            dtype=torch.float64) * 2 - 1) * bound
            b = (torch.rand(n_members, 1, fan_out, generator=generator,
                            dtype=torch.float64) * 2 - 1) * bound
            self.weights.append(nn.Parameter(w))
            self.biases.append(nn.Parameter(b))

    @property
    def hidden_widths(self) -> list[int]:
        return [w.shape[-1] for w in self.weights[:-1]]

    def forward(self, X: Tensor, masks: list[Tensor] | None = None) -> Tensor:
        """Outputs `(B, N, out)` for inputs `(N, d)` or `(B, N, d)`; B = M, or the number of
        dropout passes when M = 1. `masks[l]` multiplies hidden layer l (already rescaled)."""
        h = X
        last = len(self.weights) - 1
        inplace = not torch.is_grad_enabled()
        for layer, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            if w.shape[0] == 1:  # one network (MC dropout): one product over passes and rows
                h = torch.addmm(b[0], h.reshape(-1, h.shape[-1]), w[0]).reshape(
                    *h.shape[:-1], w.shape[-1])
            else:
                h = torch.matmul(h, w) + b
            if layer < last:
                h = h.relu_() if inplace else F.relu(h)
                if masks is not None:
                    h = h.mul_(masks[layer]) if inplace and h.shape == torch.broadcast_shapes(
                        h.shape, masks[layer].shape) else h * masks[layer]
        return h


def dropout_masks(widths: list[int], shape: tuple[int, ...], p: float,
                  generator: torch.Generator) -> list[Tensor] | None:
    """Inverted-dropout masks `(*shape, width)` for each hidden layer, or None when p = 0."""
    if p <= 0:
        return None
    keep = 1.0 - p
    return [
        (torch.rand(*shape, w, generator=generator, dtype=torch.float64) < keep).double() / keep
        for w in widths
    ]


def gaussian_head(out: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and variance from a `(..., 2)` output: softplus keeps the variance positive."""
    return out[..., 0], F.softplus(out[..., 1]) + _MIN_VAR


def member_loss(out: Tensor, y: Tensor, task: str) -> Tensor:
    """Sum over members of each member's mean loss: Gaussian NLL or cross-entropy."""
    if task == "regression":
        mean, var = gaussian_head(out)
        return F.gaussian_nll_loss(mean, y.expand_as(mean), var, reduction="none").mean(-1).sum()
    n_members = out.shape[0]
    logits = out.reshape(-1, out.shape[-1])
    target = y.repeat(n_members)
    return F.cross_entropy(logits, target, reduction="sum") / y.shape[0]


def train(net: BatchedMLP, X: Tensor, y: Tensor, task: str, *, epochs: int, learning_rate: float,
          weight_decay: float, batch_size: int, dropout: float, generator: torch.Generator) -> None:
    """Adam on the members' losses, full batch when n <= batch_size, else seeded mini-batches.

    Members are trained independently: their parameters and losses do not interact.
    """
    if epochs < 1 or learning_rate <= 0 or batch_size < 1:
        raise InputError("epochs, learning_rate and batch_size must be positive")
    optimizer = torch.optim.AdamW(net.parameters(), lr=learning_rate, weight_decay=weight_decay)
    n = X.shape[0]
    n_members = net.weights[0].shape[0]
    net.train()
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator) if n > batch_size else None
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size] if order is not None else slice(None)
            xb, yb = X[idx], y[idx]
            masks = dropout_masks(net.hidden_widths, (n_members, xb.shape[0]), dropout, generator)
            optimizer.zero_grad()
            loss = member_loss(net(xb, masks), yb, task)
            loss.backward()
            optimizer.step()
    net.eval()
