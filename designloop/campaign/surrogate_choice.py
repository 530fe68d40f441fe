"""Choosing a classification surrogate per campaign, from the campaign's own labels.

No one classifier wins everywhere: a GP classifier is strong on a few smooth features and
weak on many (64 pixels of a digit), a deep ensemble the reverse, and a forest copes with
both. With `surrogate="auto"` (the default for classification) each candidate model is
scored by its cross-validated Brier score on the labels measured so far and the best one is
used. The choice is made again only when the labels have grown by half since it was last
made, so most cycles fit one model.

Why the Brier score and not the log loss: with a few dozen labels over many classes, the
log loss rewards the model that spreads its probability most evenly. On digits with 40
labels, the GP classifier is right on 30% of new images and the deep ensemble on 78%, yet
the GP classifier has the lower cross-validated log loss; the Brier score, bounded and just
as proper, ranks them as their accuracy does.
"""

from __future__ import annotations

import numpy as np
import torch

from designloop import registry
from designloop.errors import SurrogateFitError
from designloop.surrogates import make_surrogate
from designloop.surrogates.graph import affordable
from designloop.trust.calibration import cross_validated, fold_of

AUTO = registry.AUTO_SURROGATE
CLASSIFIERS = ("gp_classifier", "ensemble", "forest")
SEMI_SUPERVISED = "label_spreading"  # compared too when the pool is at hand and not too large
N_FOLDS = 5
REFRESH_GROWTH = 1.5  # re-choose once the labels have grown by this factor
DEFAULT_CLASSIFIER = "forest"  # until there are labels enough to compare the classifiers
MIN_LABELS = 10  # distinct candidates labelled before cross-validation can tell models apart
_MIN_PROB = 1e-6


def classifier(name: str, n_classes: int, seed: int, **params):
    """An unfitted classification surrogate by name, set for `n_classes` classes."""
    params = {**params, "seed": seed}
    if registry.SURROGATES[name].takes_task:  # models of either task
        params.setdefault("task", "classification")
    return make_surrogate(name, n_classes=n_classes, **params)


def log_loss(probs: np.ndarray, labels: np.ndarray) -> float:
    """Mean negative log probability of the true labels (probabilities floored at 1e-6)."""
    p = probs[np.arange(len(labels)), labels]
    return float(-np.log(np.clip(p, _MIN_PROB, 1.0)).mean())


def brier_score(probs: np.ndarray, labels: np.ndarray) -> float:
    """Mean squared distance between the predicted distribution and the one-hot truth
    (0 is perfect, 2 the worst; Brier 1950)."""
    truth = np.zeros_like(probs)
    truth[np.arange(len(labels)), labels] = 1.0
    return float(((probs - truth) ** 2).sum(1).mean())


def needs_choice(last: dict | None, n_unique: int) -> bool:
    """Whether to choose again: never chosen, the last choice was a default taken because
    nothing could be compared yet and labels have been added since, or the labels grew by
    REFRESH_GROWTH since."""
    if last is None:
        return True
    compared = "brier" in last
    return n_unique >= REFRESH_GROWTH * last["n"] or (not compared and n_unique > last["n"])


def choose_classifier(X: torch.Tensor, labels: torch.Tensor, n_classes: int, n_unique: int,
                      seed: int = 0, domain: torch.Tensor | None = None) -> tuple[str, dict]:
    """The classifier with the lowest cross-validated Brier score, and why.

    Args:
        X: `(n, d)` features of the labelled observations.
        labels: `(n,)` class codes 0..C-1.
        n_classes: C.
        n_unique: distinct candidates labelled (recorded with the choice).
        seed: seeds the folds and the models.
        domain: `(N, d)` the candidate pool; label spreading is compared only when it is
            given and its graph is affordable (`graph.affordable`).

    Returns:
        (surrogate name, a dict for the campaign log: the scores and the reason).
    """
    y = np.asarray(labels, dtype=np.int64)
    counts = np.bincount(y, minlength=n_classes)
    if n_unique < MIN_LABELS:
        return DEFAULT_CLASSIFIER, {"surrogate_choice": {
            "chosen": DEFAULT_CLASSIFIER, "n": int(n_unique),
            "reason": f"fewer than {MIN_LABELS} labelled candidates: too few to compare "
                      "classifiers by cross-validation"}}
    if (counts >= 2).sum() < 2:
        return DEFAULT_CLASSIFIER, {"surrogate_choice": {
            "chosen": DEFAULT_CLASSIFIER, "n": int(n_unique),
            "reason": "fewer than two labels of two classes: nothing to cross-validate"}}
    # a label its training fold never saw cannot be predicted by any model: those held-out
    # points would only reward the model that spreads its probability most evenly
    folds = fold_of(len(y), N_FOLDS, seed)
    seen = np.array([(y[folds != folds[i]] == y[i]).any() for i in range(len(y))])
    brier, logloss = {}, {}
    errors = {}
    names = [*CLASSIFIERS, *([SEMI_SUPERVISED] if domain is not None
                             and affordable(*domain.shape) else [])]
    for name in names:
        try:
            probs = cross_validated(classifier(name, n_classes, seed), X, y, N_FOLDS, seed,
                                    domain)
        except SurrogateFitError as exc:  # a model that cannot fit these labels loses
            brier[name], logloss[name], errors[name] = float("inf"), float("inf"), str(exc)[:200]
            continue
        full = np.zeros((len(y), n_classes))
        full[:, : probs.shape[1]] = probs
        brier[name] = round(brier_score(full[seen], y[seen]), 4)
        logloss[name] = round(log_loss(full[seen], y[seen]), 4)
    chosen = min(names, key=lambda name: brier[name])
    why = {"chosen": chosen, "n": int(n_unique), "brier": brier, "log_loss": logloss,
           "reason": f"lowest {N_FOLDS}-fold cross-validated Brier score"}
    if errors:
        why["errors"] = errors
    return chosen, {"surrogate_choice": why}
