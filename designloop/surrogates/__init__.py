"""Surrogate models that know what they do not know.

`SURROGATES` maps the names the command line uses to the classes; every class works with
default arguments and returns a Prediction from `predict`.
"""

from designloop.errors import InputError
from designloop.registry import SURROGATE_SPECS
from designloop.surrogates.base import Surrogate, SurrogateBase
from designloop.surrogates.committee import BootstrapCommittee
from designloop.surrogates.ensemble import DeepEnsemble, MCDropout
from designloop.surrogates.estimator import EstimatorSurrogate
from designloop.surrogates.forest import RandomForest
from designloop.surrogates.gp import GPRegressor
from designloop.surrogates.gp_classifier import GPClassifier
from designloop.surrogates.graph import LabelSpreading
from designloop.surrogates.kernels import MinMaxKernel, TanimotoKernel

# the classes of the specs in designloop.registry, in its order
SURROGATES: dict[str, type[SurrogateBase]] = {spec.name: spec.resolve()
                                              for spec in SURROGATE_SPECS}


def make_surrogate(name: str, **params) -> SurrogateBase:
    """An unfitted surrogate by name (snake_case or kebab-case) with the given parameters."""
    key = name.strip().lower().replace("-", "_")
    if key not in SURROGATES:
        raise InputError(f"unknown surrogate {name!r}; choose one of: {', '.join(SURROGATES)}")
    try:
        return SURROGATES[key](**params)
    except TypeError as exc:
        raise InputError(f"surrogate {key!r} does not take these parameters: {exc}") from None


__all__ = [
    "SURROGATES",
    "BootstrapCommittee",
    "DeepEnsemble",
    "EstimatorSurrogate",
    "GPClassifier",
    "GPRegressor",
    "LabelSpreading",
    "MCDropout",
    "MinMaxKernel",
    "RandomForest",
    "Surrogate",
    "SurrogateBase",
    "TanimotoKernel",
    "make_surrogate",
]
