"""Checks that a prediction carries what an acquisition needs, with errors that say which
surrogates provide it."""

from __future__ import annotations

from designloop.errors import AcquisitionError
from designloop.prediction import ClassificationPrediction, RegressionPrediction

REGRESSION_SURROGATES = "'gp', 'ensemble', 'mc_dropout' or 'forest' (task='regression')"
CLASSIFICATION_SURROGATES = (
    "'gp_classifier', 'ensemble', 'mc_dropout', 'forest' or 'label_spreading' "
    "(task='classification')"
)
COMMITTEE_SURROGATES = (
    "'ensemble', 'mc_dropout', 'forest', 'label_spreading' or 'gp_classifier', which give "
    "several members or "
    "posterior draws"
)


def require_classification(pred, name: str, min_members: int = 1) -> ClassificationPrediction:
    """Return `pred` if it is a ClassificationPrediction with at least `min_members` members."""
    if not isinstance(pred, ClassificationPrediction):
        raise AcquisitionError(
            f"acquisition '{name}' scores class probabilities and needs a ClassificationPrediction "
            f"from {CLASSIFICATION_SURROGATES}; got {type(pred).__name__}. For a regression "
            "target use 'max_variance', 'bald', 'ucb' or 'expected_improvement'."
        )
    if pred.n_members < min_members:
        raise AcquisitionError(
            f"acquisition '{name}' needs a committee (probs with S >= {min_members} members) "
            f"from {COMMITTEE_SURROGATES}; got S = {pred.n_members}"
        )
    return pred


def require_regression(pred, name: str) -> RegressionPrediction:
    """Return `pred` if it is a RegressionPrediction."""
    if not isinstance(pred, RegressionPrediction):
        raise AcquisitionError(
            f"acquisition '{name}' needs a mean and a variance (a RegressionPrediction) from "
            f"{REGRESSION_SURROGATES}; got {type(pred).__name__}. For a classification target "
            "use 'entropy', 'bald', 'margin' or 'least_confidence'."
        )
    return pred


def require_goal(goal: str, name: str) -> float:
    """Sign that turns `goal` into maximisation: +1 for 'maximize', -1 for 'minimize'."""
    if goal == "maximize":
        return 1.0
    if goal == "minimize":
        return -1.0
    raise AcquisitionError(
        f"acquisition '{name}' optimises: goal must be 'maximize' or 'minimize', got {goal!r}. "
        "To explore, use 'max_variance' or 'bald'."
    )
