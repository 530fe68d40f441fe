"""Deep ensembles and MC-dropout networks: neural surrogates with epistemic uncertainty.

Both scale inputs (and regression targets) from the training data, train small MLPs with
Adam in float64, and return the members' or passes' predictions as the committee.
"""

from __future__ import annotations

import torch
from torch import Tensor

from designloop.errors import InputError
from designloop.prediction import ClassificationPrediction, RegressionPrediction
from designloop.surrogates import networks
from designloop.surrogates.base import (
    Standardizer,
    SurrogateBase,
    as_targets,
    committee_variance,
    iter_chunks,
    resolve_n_classes,
)

_ACTIVATION_ELEMENTS = 2**20


class _NeuralSurrogate(SurrogateBase):
    """Fitting and committee prediction shared by DeepEnsemble and MCDropout."""

    n_members: int
    dropout: float
    n_passes: int

    def fit(self, X, y):
        """Train on `X (n, d)` and `y (n,)` (real values, or class labels 0..C-1)."""
        self._check_task()
        X = self._check_X(X, fitted=False)
        y = as_targets(y, X.shape[0], self.task)
        if not 0 <= self.dropout < 1:
            raise InputError(f"dropout must be in [0, 1), got {self.dropout}")
        gen = torch.Generator().manual_seed(self.seed)
        self.x_scaler_ = Standardizer(X)
        Xs = self.x_scaler_.transform(X)
        if self.task == "regression":
            self.y_scaler_ = Standardizer(y[:, None], scale_free=True)
            target, n_out = self.y_scaler_.transform(y[:, None])[:, 0], 2
            self.n_classes_ = None
        else:
            self.n_classes_ = resolve_n_classes(y, self.n_classes)
            target, n_out = y, self.n_classes_
        net = networks.BatchedMLP(self.n_members, X.shape[1], tuple(self.hidden), n_out, gen)
        networks.train(
            net, Xs, target, self.task, epochs=self.epochs, learning_rate=self.learning_rate,
            weight_decay=self.weight_decay, batch_size=self.batch_size, dropout=self.dropout,
            generator=gen,
        )
        self.net_ = net
        self.n_features_ = X.shape[1]
        return self

    def _pass_masks(self) -> list[Tensor] | None:
        """One dropout mask per pass `(T, 1, width)`, shared by every candidate: each pass is
        one sub-network, so the passes are coherent function draws like ensemble members,
        and the same whatever the order or chunking of the pool."""
        if self.dropout <= 0:
            return None
        gen = torch.Generator().manual_seed(self.seed + 1)
        return networks.dropout_masks(self.net_.hidden_widths, (self.n_passes, 1), self.dropout,
                                      gen)

    def predict(self, X):
        """A RegressionPrediction (member means as samples) or `probs (S, N, C)`."""
        self._check_fitted()
        Xs = self.x_scaler_.transform(self._check_X(X))
        n = Xs.shape[0]
        size = self.n_passes if self.dropout > 0 else self.n_members
        # keep each chunk's hidden activations (S, rows, width) near 1M numbers (cache-sized)
        width = max(self.hidden, default=1)
        rows = min(self.chunk_size, max(64, _ACTIVATION_ELEMENTS // (size * width)))
        masks = self._pass_masks()
        pieces = []
        with torch.no_grad():
            for piece in iter_chunks(n, rows):
                pieces.append(self.net_(Xs[piece], masks))  # (S, rows, out)
            n_out = 2 if self.task == "regression" else self.n_classes_
            out = torch.cat(pieces, dim=1) if pieces else torch.zeros(size, 0, n_out,
                                                                       dtype=torch.float64)
        if self.task == "classification":
            return ClassificationPrediction(torch.softmax(out, dim=-1))
        mean, var = networks.gaussian_head(out)
        scale = self.y_scaler_.std[0]
        mean = mean * scale + self.y_scaler_.mean[0]
        var = var * scale**2
        return RegressionPrediction(mean.mean(0), committee_variance(mean), var.mean(0),
                                    samples=mean)


class DeepEnsemble(_NeuralSurrogate):
    """Deep ensemble of M MLPs from different random initialisations.

    Regression members output a mean and a variance trained by Gaussian NLL: the epistemic
    variance is the variance of the member means, the noise the mean of member variances.
    Classification members output softmax probabilities, `probs (M, N, C)`.

    Args:
        task: "regression" or "classification".
        n_members: ensemble size M.
        hidden: hidden-layer widths.
        epochs, learning_rate, weight_decay, batch_size: AdamW training (full batch when
            n <= batch_size).
        n_classes: number of classes for classification (default max(y) + 1).
        chunk_size: candidates predicted at once.
        seed: seeds initialisation and mini-batch order.

    Reference: Lakshminarayanan, Pritzel & Blundell, "Simple and scalable predictive
    uncertainty estimation using deep ensembles", NeurIPS 2017.
    """

    dropout = 0.0
    n_passes = 0

    def __init__(self, task: str = "regression", n_members: int = 5,
                 hidden: tuple[int, ...] = (64, 64), epochs: int = 300,
                 learning_rate: float = 1e-2, weight_decay: float = 1e-4, batch_size: int = 512,
                 n_classes: int | None = None, chunk_size: int = 8192, seed: int = 0):
        self._store(locals())


class MCDropout(_NeuralSurrogate):
    """MLP trained with dropout and kept stochastic at prediction: T passes, each with its own
    dropout mask shared by all candidates (one sub-network per pass), form the committee
    (`samples (T, N)` or `probs (T, N, C)`), so that the passes are coherent function draws.

    Args:
        task: "regression" or "classification".
        dropout: probability of dropping a hidden unit (0 < p < 1).
        n_passes: stochastic forward passes T at prediction.
        hidden, epochs, learning_rate, weight_decay, batch_size, n_classes, chunk_size, seed:
            as for DeepEnsemble.

    Reference: Gal & Ghahramani, "Dropout as a Bayesian approximation: representing model
    uncertainty in deep learning", ICML 2016.
    """

    n_members = 1

    def __init__(self, task: str = "regression", dropout: float = 0.1, n_passes: int = 50,
                 hidden: tuple[int, ...] = (128, 128), epochs: int = 300,
                 learning_rate: float = 1e-2, weight_decay: float = 1e-4, batch_size: int = 512,
                 n_classes: int | None = None, chunk_size: int = 4096, seed: int = 0):
        self._store(locals())

    def fit(self, X, y) -> MCDropout:
        if not 0 < self.dropout < 1:
            raise InputError(f"MCDropout needs 0 < dropout < 1, got {self.dropout}")
        if self.n_passes < 2:
            raise InputError(f"MCDropout needs n_passes >= 2, got {self.n_passes}")
        return super().fit(X, y)
