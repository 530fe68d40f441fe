"""designloop: choose the next experiments.

Surrogates that know what they do not know give a Prediction over a pool of candidates;
acquisition functions score it; selection picks the batch.
"""

from designloop.acquisition import ACQUISITIONS, get_acquisition
from designloop.campaign import Campaign
from designloop.encoding import Encoder
from designloop.errors import (
    AcquisitionError,
    CalibrationWarning,
    DesignloopError,
    InputError,
    NotFittedError,
    SurrogateFitError,
)
from designloop.prediction import ClassificationPrediction, RegressionPrediction
from designloop.problems import make_problem
from designloop.selection import maximin, top_k
from designloop.simulate import simulate
from designloop.store import Store
from designloop.surrogates import (
    SURROGATES,
    BootstrapCommittee,
    DeepEnsemble,
    GPClassifier,
    GPRegressor,
    MCDropout,
    RandomForest,
    make_surrogate,
)

__version__ = "0.1.0"

__all__ = [
    "ACQUISITIONS",
    "SURROGATES",
    "AcquisitionError",
    "BootstrapCommittee",
    "CalibrationWarning",
    "Campaign",
    "Encoder",
    "ClassificationPrediction",
    "DeepEnsemble",
    "GPClassifier",
    "GPRegressor",
    "MCDropout",
    "RandomForest",
    "DesignloopError",
    "InputError",
    "NotFittedError",
    "RegressionPrediction",
    "SurrogateFitError",
    "get_acquisition",
    "make_problem",
    "make_surrogate",
    "simulate",
    "Store",
    "maximin",
    "top_k",
]
