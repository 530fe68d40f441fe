"""Experiments that fail: a classifier of success, and acquisition scores weighted by it.

Once a campaign holds both failed and successful experiments, a GP classifier (see
`designloop.surrogates.gp_classifier`) learns the probability that an experiment at `x`
succeeds (on one-hot molecules for reaction components: a failure is mostly down to a
reagent or a pairing of them; else on the target model's features), while the target's
model is fitted to the successful experiments alone. The acquisition's score of each
candidate is then weighted by that probability:

- expected improvement and the other non-negative scores are multiplied by it: constrained
  expected improvement, `EI(x) P(success | x)` (Gelbart, Snoek & Adams, "Bayesian
  optimization with unknown constraints", UAI 2014), and for exploration BALD or variance
  weighted by feasibility;
- log expected improvement gets `log P(success | x)` added, the same product in logs;
- a score that can be negative (UCB, or a function of the user's own) is multiplied by the
  probability where it is positive and divided by it where it is negative, so that a lower
  chance of success always lowers the score.

The weight is a fixed factor per candidate, so a score that only falls as the variance
falls still does, and the batch rules that rely on that (the lazy greedy, screening) stay
exact. Until a failure has been seen nothing changes.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from designloop.acquisition import ACQUISITIONS
from designloop.campaign.objectives import as_numbers, limits_text
from designloop.registry import acquisition

P_FLOOR = 1e-9  # the smallest chance of success a score is weighted by (keeps logs finite)
# batch rules that score a batch jointly, which a per-candidate weight cannot enter; with
# failures they give way to the rule named here
PER_CANDIDATE_RULE = {"qlognei": "greedy", "qucb": "greedy", "batch_bald": "top_k"}


class FeasibilityWeighted:
    """An acquisition whose scores are weighted by the chance that an experiment succeeds
    and meets the outcome constraints.

    Chances are asked for by candidate (`p_success(rows)`, rows of the pool), since the
    classifier and the constraints' models read different features of the same candidates;
    called as an acquisition it takes the candidates scored as the context's
    `candidate_rows`.

    Args:
        base: the acquisition `(prediction, **context) -> (N,)`.
        classifier: a fitted classifier of success (class 1) over `X_classifier`, or None
            when no experiment has failed.
        n_ok, n_failed: the successful and failed experiments it was fitted to.
        constraints: `(text, chance)` per outcome constraint, `chance(X) -> (N,)` the
            probability that a result at each row of X meets it (see `constraint_chance`).
        X: `(N, d)` the pool's features the constraints' models read.
        X_classifier: `(N, d')` the pool's features the classifier reads (default `X`).
    """

    def __init__(self, base, classifier=None, n_ok: int = 0, n_failed: int = 0,
                 constraints: tuple = (), X: Tensor | None = None,
                 X_classifier: Tensor | None = None):
        self.base = base
        self.classifier = classifier
        self.n_ok, self.n_failed = int(n_ok), int(n_failed)
        self.constraints = tuple(constraints)
        self.X = X
        self.X_classifier = X if X_classifier is None else X_classifier
        self.chance_only = False  # score by the chance alone (nothing meets the constraints)
        spec = next((acquisition(n) for n, f in ACQUISITIONS.items() if f is base), None)
        self.rule = ("signed" if spec is None or spec.signed
                     else "log" if spec.log_scale else "product")

    def p_success(self, rows) -> Tensor:
        """`(len(rows),)` the chance that an experiment on each candidate `rows` (rows of
        the pool) succeeds and meets every constraint. The classifier's part is
        `E[sigmoid(f_1 - f_0)]` over its two latent GPs, in MacKay's closed form
        `sigmoid(m / sqrt(1 + pi v / 8))` with `m`, `v` the mean and variance of
        `f_1 - f_0`. Each candidate's chance depends on it alone (no sampling), so it gets
        the same weight whichever candidates it is scored with."""
        rows = torch.tensor(np.asarray(rows, dtype=np.int64))  # a copy: rows may be read-only
        p = torch.ones(rows.shape[0], dtype=torch.float64)
        if self.classifier is not None:
            p = p * class_chance(self.classifier)(self.X_classifier[rows])
        for _, chance in self.constraints:
            p = p * chance(self.X[rows])
        return p.clamp(P_FLOOR, 1.0)

    def __call__(self, pred, *, candidate_rows, **context) -> Tensor:
        p = self.p_success(candidate_rows)
        if self.chance_only:
            return p.log() if self.rule == "log" else p
        scores = torch.as_tensor(self.base(pred, **context), dtype=torch.float64)
        return weight(scores, p, self.rule)


def weight(scores: Tensor, p: Tensor, rule: str) -> Tensor:
    """Scores weighted by chances of success `p` (see the module docstring): "log" adds
    log p, "product" multiplies, "signed" multiplies positive scores and divides negative
    ones."""
    if rule == "log":
        return scores + p.log()
    if rule == "product":
        return scores * p
    return torch.where(scores >= 0, scores * p, scores / p)


def weighted(acquisition, X: Tensor, ok_rows: np.ndarray, failed_rows, seed: int,
             constraints: tuple = (), X_classifier: Tensor | None = None
             ) -> FeasibilityWeighted:
    """`acquisition` weighted by a GP classifier of success (1) against failure (0), fitted
    to every experiment in force (`X_classifier`, default `X`, the pool's features it reads;
    `ok_rows` and `failed_rows` the candidate row of each successful and each failed
    observation, replicates repeat; no classifier without failures), and by the outcome
    `constraints` over the features `X` (see `FeasibilityWeighted`)."""
    from designloop.surrogates.gp_classifier import GPClassifier

    wrapped = FeasibilityWeighted(acquisition, None, 0, 0, constraints, X, X_classifier)

    failed_rows = np.asarray([] if failed_rows is None else failed_rows, dtype=np.int64)
    wrapped.n_ok, wrapped.n_failed = len(ok_rows), len(failed_rows)
    if len(failed_rows):
        rows = np.concatenate([ok_rows, failed_rows]).astype(np.int64)
        labels = torch.cat([torch.ones(len(ok_rows)), torch.zeros(len(failed_rows))]).long()
        wrapped.classifier = GPClassifier(n_classes=2, seed=seed).fit(
            wrapped.X_classifier[torch.as_tensor(rows)], labels)
    return wrapped


def constraint_chance(model, spec: dict):
    """`chance(X)`: the probability that a measured result at each row of X meets the
    constraint `spec` (`at_least`, `at_most`: either may be None), from `model`'s
    predictive normal (mean and total variance, the noise included: it is the measurement
    that must clear the limits)."""
    def chance(X: Tensor) -> Tensor:
        pred = model.predict(X)
        sd = (pred.epistemic_var + pred.noise_var).clamp_min(1e-24).sqrt()
        p = torch.ones_like(pred.mean)
        if spec["at_most"] is not None:
            p = torch.special.ndtr((spec["at_most"] - pred.mean) / sd)
        if spec["at_least"] is not None:
            p = p - torch.special.ndtr((spec["at_least"] - pred.mean) / sd)
        return p.clamp_min(0.0)

    return chance


def describe(wrapped: FeasibilityWeighted, p_picks: Tensor, selection_note: str | None
             ) -> dict:
    """What the cycle log says about the weighting: the experiments it learnt from, the
    rule, and the chance of success of each pick."""
    how = {"log": "log P(success) added to the score",
           "product": "score multiplied by P(success)",
           "signed": "score multiplied by P(success) where positive, divided where negative"}
    return {"failed": wrapped.n_failed, "succeeded": wrapped.n_ok,
            "classifier": "gp_classifier" if wrapped.classifier is not None else None,
            "constraints": [text for text, _ in wrapped.constraints] or None,
            "rule": ("the chance alone: no measured candidate meets the constraints yet"
                     if wrapped.chance_only else how[wrapped.rule]),
            "selection": selection_note,
            "p_success_of_picks": [round(float(v), 4) for v in p_picks]}



def constraint_chances(specs: dict, X: Tensor, gp_params: dict, obs) -> tuple:
    """`(text, chance)` per outcome constraint among `specs` with a measured value in `obs`
    (columns candidate_id, target, value): a GP with the settings `gp_params` (the target
    model's) fitted over the same features `X`, so that its chance reads the same rows."""
    from designloop.surrogates import make_surrogate
    from designloop.surrogates.base import fit_with_domain
    from designloop.surrogates.gp_classifier import GPClassifier

    out = []
    for name, spec in specs.items():
        if spec["goal"] != "constraint" or obs is None or "target" not in obs:
            continue
        mine = obs[obs["target"] == name]
        if mine.empty:
            continue  # nothing measured yet: it cannot shape the picks
        rows = torch.tensor(mine["candidate_id"].to_numpy(dtype=np.int64))
        y = torch.tensor(as_numbers(mine, specs)["value"].to_numpy())
        if spec.get("label") is not None:  # a class: a GP classifier of it against the rest
            if len(set(y.tolist())) < 2:
                continue  # one answer so far: nothing to tell candidates apart by
            out.append((limits_text(name, spec),
                        class_chance(GPClassifier(n_classes=2, seed=gp_params.get("seed", 0))
                                     .fit(X[rows], y.long()))))
            continue
        model = fit_with_domain(make_surrogate("gp", **gp_params), X[rows], y, domain=X)
        out.append((limits_text(name, spec), constraint_chance(model, spec)))
    return tuple(out)


def class_chance(classifier):
    """`chance(X)`: a two-class classifier's closed-form chance of class 1 (see
    `FeasibilityWeighted.p_success`)."""
    def chance(X: Tensor) -> Tensor:
        mean, var = classifier.latent(X)
        return torch.sigmoid((mean[:, 1] - mean[:, 0])
                             / torch.sqrt(1.0 + math.pi * var.sum(1) / 8.0))

    return chance
