"""Checks that a prediction carries what an acquisition needs, with errors that say which
surrogates provide it (the lists come from `designloop.registry`)."""

from __future__ import annotations

from designloop import registry
from designloop.errors import AcquisitionError
from designloop.prediction import ClassificationPrediction, RegressionPrediction


def require_classification(pred, name: str) -> ClassificationPrediction:
    """Return `pred` if it is a ClassificationPrediction with at least the committee members
    the acquisition `name` needs (its spec's `min_members`)."""
    if not isinstance(pred, ClassificationPrediction):
        surrogates = registry.quoted(registry.surrogates_for(registry.CLASSIFICATION))
        examples = registry.quoted(registry.acquisitions_for(registry.REGRESSION)[:4])
        raise AcquisitionError(
            f"acquisition '{name}' scores class probabilities and needs a ClassificationPrediction "
            f"from {surrogates} (task='classification'); got {type(pred).__name__}. For a "
            f"regression target use {examples}."
        )
    min_members = registry.ACQUISITIONS[name].min_members
    if pred.n_members < min_members:
        committees = registry.quoted(
            registry.surrogates_for(registry.CLASSIFICATION, committee=True))
        raise AcquisitionError(
            f"acquisition '{name}' needs a committee (probs with S >= {min_members} members) "
            f"from {committees}, which give several members or posterior draws; got "
            f"S = {pred.n_members}"
        )
    return pred


def require_regression(pred, name: str) -> RegressionPrediction:
    """Return `pred` if it is a RegressionPrediction."""
    if not isinstance(pred, RegressionPrediction):
        surrogates = registry.quoted(registry.surrogates_for(registry.REGRESSION))
        examples = registry.quoted(registry.acquisitions_for(registry.CLASSIFICATION)[:4])
        raise AcquisitionError(
            f"acquisition '{name}' needs a mean and a variance (a RegressionPrediction) from "
            f"{surrogates} (task='regression'); got {type(pred).__name__}. For a "
            f"classification target use {examples}."
        )
    return pred


def require_goal(goal: str, name: str) -> float:
    """Sign that turns `goal` into maximisation: +1 for 'maximize', -1 for 'minimize'."""
    if goal == "maximize":
        return 1.0
    if goal == "minimize":
        return -1.0
    explore = registry.quoted(
        [n for n in registry.acquisitions_for(registry.REGRESSION, optimises=False)
         if n != "random"][:2])
    raise AcquisitionError(
        f"acquisition '{name}' optimises: goal must be 'maximize' or 'minimize', got {goal!r}. "
        f"To explore, use {explore}."
    )
