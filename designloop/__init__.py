"""designloop: choose the next experiments.

Surrogates that know what they do not know give a Prediction over a pool of candidates;
acquisition functions score it; selection picks the batch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from designloop.errors import (
    AcquisitionError,
    CalibrationWarning,
    DesignloopError,
    InputError,
    NotFittedError,
    SurrogateFitError,
)

if TYPE_CHECKING:  # for type checkers and the API reference; at run time, see __getattr__
    from designloop.acquisition import ACQUISITIONS, get_acquisition
    from designloop.batch.selection import maximin, top_k
    from designloop.bench.problems import make_problem
    from designloop.bench.simulate import simulate
    from designloop.campaign.campaign import Campaign
    from designloop.campaign.store import Store
    from designloop.features.encoding import Encoder
    from designloop.prediction import ClassificationPrediction, RegressionPrediction
    from designloop.surrogates import (
        SURROGATES,
        BootstrapCommittee,
        DeepEnsemble,
        EstimatorSurrogate,
        GPClassifier,
        GPRegressor,
        LabelSpreading,
        MCDropout,
        RandomForest,
        make_surrogate,
    )

# the rest is imported when first used, so that `import designloop` (and the command line)
# does not load PyTorch before it is needed
_LAZY = {
    "ACQUISITIONS": "designloop.acquisition",
    "get_acquisition": "designloop.acquisition",
    "Campaign": "designloop.campaign.campaign",
    "Encoder": "designloop.features.encoding",
    "ClassificationPrediction": "designloop.prediction",
    "RegressionPrediction": "designloop.prediction",
    "make_problem": "designloop.bench.problems",
    "simulate": "designloop.bench.simulate",
    "maximin": "designloop.batch.selection",
    "top_k": "designloop.batch.selection",
    "Store": "designloop.campaign.store",
    "SURROGATES": "designloop.surrogates",
    "BootstrapCommittee": "designloop.surrogates",
    "DeepEnsemble": "designloop.surrogates",
    "EstimatorSurrogate": "designloop.surrogates",
    "GPClassifier": "designloop.surrogates",
    "GPRegressor": "designloop.surrogates",
    "LabelSpreading": "designloop.surrogates",
    "MCDropout": "designloop.surrogates",
    "RandomForest": "designloop.surrogates",
    "make_surrogate": "designloop.surrogates",
}


def __getattr__(name: str):
    """The public names of `__all__` that live in heavier modules, imported on first use."""
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'designloop' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The module's names, the lazily imported ones included."""
    return sorted({*globals(), *_LAZY})


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
    "EstimatorSurrogate",
    "GPClassifier",
    "GPRegressor",
    "LabelSpreading",
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
