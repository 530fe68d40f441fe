"""The Pareto objective's model step: one GP per target, and expected hypervolume
improvement (EHVI) computed exactly over the candidate pool.

For independent Gaussian predictions of the targets, the improvement of the hypervolume
that the measured front dominates, integrated over the cells of the region it does not
dominate (BoTorch's box decomposition), is a sum over cells of a product over targets of
`E[(min(Y, u) - l)^+]`, which has a closed form (Emmerich, Deutz & Klinkenberg, "Hypervolume-
based expected improvement", CEC 2011; Yang et al., "Efficient computation of expected
hypervolume improvement using box decomposition algorithms", J. Glob. Optim. 2019). A batch
is picked greedily: each pick joins the front at its predicted mean (a kriging believer on
the front), and the rest are scored again.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from designloop.campaign.objectives import (
    feasible_means,
    optimised,
    oriented,
    pareto_mask,
    reference_point,
    target_means,
)

ACQUISITION = "expected_hypervolume_improvement"  # how the cycle log names it


def psi(lower: Tensor, upper: Tensor, mean: Tensor, sd: Tensor) -> Tensor:
    """`E[(min(Y, upper) - lower)^+]` for `Y ~ N(mean, sd^2)`, broadcast; `upper` may be
    inf."""
    normal = torch.distributions.Normal(torch.zeros((), dtype=mean.dtype),
                                        torch.ones((), dtype=mean.dtype))
    sd = sd.clamp_min(1e-12)
    za = (lower - mean) / sd
    zb = (upper - mean) / sd
    pdf_a, cdf_a = normal.log_prob(za).exp(), normal.cdf(za)
    finite = torch.isfinite(upper)
    pdf_b = torch.where(finite, normal.log_prob(torch.where(finite, zb, 0.0)).exp(), 0.0)
    cdf_b = torch.where(finite, normal.cdf(torch.where(finite, zb, 0.0)), 1.0)
    width = torch.where(finite, upper - lower, 0.0)
    return (sd * (pdf_a - pdf_b) + (mean - lower) * (cdf_b - cdf_a)
            + width * (1.0 - cdf_b)).clamp_min(0.0)


def ehvi(mean: Tensor, sd: Tensor, front: Tensor, ref: Tensor) -> Tensor:
    """`(N,)` expected hypervolume improvement of `N` candidates with independent Gaussian
    targets (`mean`, `sd`: `(N, m)`, larger is better) over the points `front` `(n, m)`
    above the reference point `ref` `(m,)`."""
    from botorch.utils.multi_objective.box_decompositions.non_dominated import (
        FastNondominatedPartitioning,
    )

    above = front[(front > ref).all(1)] if len(front) else front
    cells = FastNondominatedPartitioning(ref_point=ref, Y=above).get_hypercell_bounds()
    lower, upper = cells[0], cells[1]  # (c, m) each
    out = torch.zeros(mean.shape[0], dtype=torch.float64)
    for start in range(0, mean.shape[0], 4096):
        mu, s = mean[start:start + 4096, None, :], sd[start:start + 4096, None, :]
        out[start:start + 4096] = psi(lower, upper, mu, s).prod(-1).sum(-1)
    return out


def greedy_ehvi(mean: Tensor, sd: Tensor, front: Tensor, ref: Tensor, k: int,
                weight: Tensor | None = None) -> tuple[np.ndarray, np.ndarray]:
    """`k` picks (indices into the rows of `mean`) by greedy EHVI: each pick joins the front
    at its mean before the next is scored; `weight` (N,) multiplies the scores (a chance of
    success). Returns the picks and the score each had when picked."""
    picks, scores = [], []
    taken = torch.zeros(mean.shape[0], dtype=torch.bool)
    for _ in range(k):
        score = ehvi(mean, sd, front, ref)
        if weight is not None:
            score = score * weight
        score = score.masked_fill(taken, float("-inf"))
        best = int(torch.argmax(score))
        picks.append(best)
        scores.append(float(score[best]))
        taken[best] = True
        front = torch.cat([front, mean[best:best + 1]])
    return np.asarray(picks, dtype=np.int64), np.asarray(scores)


def measured_front(specs: dict, obs) -> tuple[np.ndarray, np.ndarray]:
    """The measured complete candidates (larger is better; the reference point is set
    from them) and the front: the non-dominated ones among those meeting every outcome
    constraint."""
    goals = optimised(specs)
    Y = oriented(goals, target_means(obs, goals))
    F = oriented(goals, feasible_means(specs, obs))
    return Y, F[pareto_mask(F)] if len(F) else F


def target_predictions(setup, obs, available: np.ndarray, k: int = 1):
    """A GP per target, each fitted to all its values with its own encoding choice, and
    their predictions of the `available` candidates turned so that larger is better:
    `(N, m)` means and epistemic sds, notes for the log, and the pool's features."""
    from designloop.campaign import modelling
    from designloop.records import CycleRecord

    cfg = setup.config
    means, sds, notes, X = [], [], {}, None
    for name, spec in optimised(cfg.targets).items():
        mine = obs.loc[obs["target"] == name, ["candidate_id", "value"]]
        part = CycleRecord(k=k, seed=cfg.seed)
        fitted = modelling.fit(setup, mine, part, diagnostics=False)
        pred = fitted.model.predict(fitted.X[available])
        means.append((1.0 if spec["goal"] == "maximize" else -1.0) * pred.mean)
        sds.append(pred.epistemic_var.clamp_min(0.0).sqrt())
        notes[name] = {"encoding": part.encoding, "fit_seconds": part.fit_seconds}
        X = fitted.X if X is None else X
    return torch.stack(means, 1), torch.stack(sds, 1), notes, X


def chances(setup, obs, X: Tensor, encoding: str | None, failed_rows):
    """The chance that an experiment succeeds (a classifier, once experiments have failed)
    and meets the outcome constraints measured so far, as a `FeasibilityWeighted` whose
    `p_success(rows)` gives it (see `designloop.campaign.feasibility`); None when neither
    applies. `X` are the pool's features under `encoding`."""
    from designloop.campaign.feasibility import constraint_chances, weighted
    from designloop.campaign.modelling import classifier_features, constraint_gp_params

    cfg = setup.config
    limits = constraint_chances(cfg.targets, X, constraint_gp_params(setup, encoding), obs)
    if (failed_rows is None or not len(failed_rows)) and not limits:
        return None
    ok = obs["candidate_id"].drop_duplicates().to_numpy()
    return weighted(None, X, ok, failed_rows, cfg.seed, limits,
                    classifier_features(setup.encoder, X))


def pool_scores(setup, obs, available: np.ndarray, failed_rows=None) -> Tensor:
    """EHVI of each available candidate (times its chance of success), as `suggest` would
    score its first pick."""
    mean, sd, notes, X = target_predictions(setup, obs, available)
    Y, front = measured_front(setup.config.targets, obs)
    ref = reference_point(optimised(setup.config.targets), Y)
    score = ehvi(mean, sd, torch.as_tensor(front), torch.as_tensor(ref))
    chance = chances(setup, obs, X, first_encoding(notes), failed_rows)
    return score if chance is None else score * chance.p_success(available)


def pick(setup, obs, excluded, k: int, record, n_candidates: int, failed_rows=None
         ) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """The model step of a Pareto campaign: a GP per target (`target_predictions`), greedy
    EHVI over the candidates neither measured, pending nor ruled out, weighted by the
    chance of success once experiments have failed. Returns the picks, their scores and
    per pick each target's predicted mean and sd."""
    specs = optimised(setup.config.targets)
    available = np.setdiff1d(np.arange(n_candidates), excluded)
    mean, sd, notes, X = target_predictions(setup, obs, available, k)
    Y, front = measured_front(setup.config.targets, obs)
    ref = reference_point(specs, Y)
    chance = chances(setup, obs, X, first_encoding(notes), failed_rows)
    weight = None if chance is None else chance.p_success(available)
    local, scores = greedy_ehvi(mean, sd, torch.as_tensor(front), torch.as_tensor(ref), k,
                                weight)
    if chance is not None:
        from designloop.campaign.feasibility import describe

        record.feasibility = describe(chance, weight[local], None)
    signs = {n: 1.0 if s["goal"] == "maximize" else -1.0 for n, s in specs.items()}
    record.selection = "greedy expected hypervolume improvement"
    record.objective = {"objective": "pareto", "complete": int(len(Y)),
                        "front": int(len(front)), "targets": notes,
                        "reference": {n: float(v * signs[n])
                                      for n, v in zip(specs, ref, strict=True)}}
    predictions = [{**{f"mean_{n}": float(mean[i, j] * signs[n]) for j, n in enumerate(specs)},
                    **{f"sd_{n}": float(sd[i, j]) for j, n in enumerate(specs)}}
                   for i in local]
    return available[local], scores, predictions


def first_encoding(notes: dict) -> str | None:
    """The SMILES encoding of the first target's model, whose features `X` the chances of
    success are computed over."""
    return next(iter(notes.values()))["encoding"]
