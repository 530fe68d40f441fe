"""Which batch selection a campaign uses, and running it: one entry point over top-k, greedy
GP conditioning, kriging believer, BoTorch q-batches, BatchBALD and diversity."""

from __future__ import annotations

import numpy as np
import torch

from designloop.batch.batchbald import batch_bald
from designloop.batch.believer import kriging_believer
from designloop.batch.diversity import information_density, top_m_then_diverse
from designloop.batch.greedy import greedy_conditional
from designloop.batch.qbatch import botorch_batch
from designloop.batch.selection import top_k
from designloop.errors import InputError
from designloop.prediction import ClassificationPrediction
from designloop.registry import SELECTIONS, default_selection, is_exact_gp


def choose_selection(config, model, pred, k: int) -> str:
    """The selection method for this batch: the configured one, or for "auto" the best
    that the surrogate and acquisition allow (`registry.default_selection`)."""
    if config.selection != "auto":
        return config.selection
    classification = isinstance(pred, ClassificationPrediction)
    return default_selection(config.acquisition, model, classification,
                             pred.n_members if classification else 1, k)


def select_batch(method: str, *, k, scores, pred, model, X, available, excluded, measured,
                 X_obs, y_obs, acquisition, context, rng, seed, surrogate_factory):
    """Run `method`; returns local indices into `available` and the score of each pick."""
    X_pool = X[available]
    ctx = {key: v for key, v in context.items() if key != "rng"}
    if method == "top_k":
        local = top_k(scores, k, rng=rng)
        return local, scores[local].numpy()
    if method in SELECTIONS and SELECTIONS[method].exact_gp and not is_exact_gp(model):
        raise InputError(f"selection '{method}' needs an exact GP ({SELECTIONS[method].summary})"
                         ": use surrogate 'gp'")
    if method == "greedy":
        local, picked = greedy_conditional(model, X_pool, k, acquisition, pred=pred, rng=rng,
                                           **ctx)
        return local, picked.numpy()
    if method == "kriging_believer":
        local, picked = kriging_believer(surrogate_factory(), X_pool, X_obs, y_obs, k,
                                         acquisition, rng=rng, **ctx)
        return local, picked.numpy()
    if method in ("qlognei", "qucb"):
        local = botorch_batch(model, X_pool, k, method=method, goal=ctx.get("goal", "maximize"),
                              seed=seed, beta=ctx.get("beta", 2.0))
        return local, scores[local].numpy()
    if method == "batch_bald":
        local, joint = batch_bald(pred, k, rng=rng)
        return local, joint.numpy()
    if method == "density":
        weighted = information_density(scores, X_pool, rng=rng)
        local = top_k(weighted, k, rng=rng)
        return local, weighted[local].numpy()
    if method == "diverse":
        full = torch.full((X.shape[0],), float("-inf"), dtype=torch.float64)
        full[torch.as_tensor(available)] = scores
        picks = top_m_then_diverse(full, X, k, exclude=excluded, rng=rng, anchors=measured)
        position = {int(a): i for i, a in enumerate(available)}
        local = np.asarray([position[int(p)] for p in picks], dtype=np.int64)
        return local, scores[local].numpy()
    raise InputError(f"selection must be one of {', '.join(SELECTIONS)}, got {method!r}")
