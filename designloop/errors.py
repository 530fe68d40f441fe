"""Errors designloop raises: user mistakes are InputError, everything else says what failed.

The command-line interface prints an InputError in one line and exits with status 2.
"""

from __future__ import annotations


class DesignloopError(Exception):
    """Base class of every error designloop raises on purpose."""


class InputError(DesignloopError, ValueError):
    """The user's input is wrong: the message names where (file, column, row) and the fix."""


class AcquisitionError(InputError):
    """An acquisition function was asked of a prediction that lacks what it needs."""


class NotFittedError(DesignloopError, RuntimeError):
    """A surrogate was asked to predict before `fit` was called."""


class SurrogateFitError(DesignloopError, RuntimeError):
    """A surrogate could not be fitted (for example a GP whose kernel matrix is not positive
    definite even with added jitter). Never silently replaced by something else."""


class CalibrationWarning(UserWarning):
    """The surrogate's uncertainty is clearly miscalibrated on the campaign's own data."""
