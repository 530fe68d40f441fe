"""The kriging believer for surrogates that can only be refitted: pick the best candidate,
add it to the data with its predicted mean as the outcome, refit, rescore, repeat
(Ginsbourger, Le Riche & Carraro, "Kriging is well-suited to parallelize optimization",
2010)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from designloop.batch.selection import as_generator, check_k, exclusion_mask, top_k


def kriging_believer(
    surrogate,
    pool: Tensor,
    X_train: Tensor,
    y_train: Tensor,
    k: int,
    acquisition: Callable[..., Tensor],
    exclude=None,
    rng: np.random.Generator | int | None = None,
    **context,
) -> tuple[np.ndarray, Tensor]:
    """Greedy batch for any regression surrogate: pick the best, pretend its outcome is the
    predicted mean, refit, repeat (k fits).

    Args:
        surrogate: an unfitted or fitted regression surrogate with `clone()`.
        pool: `(N, d)` candidates; X_train `(n, d)`, y_train `(n,)` the observations.
        k, acquisition, exclude, rng, **context: as for `greedy_conditional`.

    Returns:
        `(k,)` picks and the score each had when picked.

    Reference: Ginsbourger, Le Riche & Carraro, 2010.
    """
    pool = torch.as_tensor(pool, dtype=torch.float64)
    blocked = exclusion_mask(pool.shape[0], exclude)
    k = check_k(k, blocked)
    gen = as_generator(rng)
    Xt, yt = torch.as_tensor(X_train), torch.as_tensor(y_train, dtype=torch.float64)
    picks, picked_scores = [], []
    for _ in range(k):
        fitted = surrogate.clone().fit(Xt, yt)
        pred = fitted.predict(pool)
        scores = acquisition(pred, rng=gen, **{**context, "model": fitted})
        p = int(top_k(scores, 1, exclude=blocked, rng=gen)[0])
        picks.append(p)
        picked_scores.append(float(scores[p]))
        blocked[p] = True
        Xt = torch.cat([Xt, pool[p : p + 1]])
        yt = torch.cat([yt, pred.mean[p : p + 1]])
    return np.asarray(picks, dtype=np.int64), torch.tensor(picked_scores, dtype=torch.float64)
