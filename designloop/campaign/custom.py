"""The user's own surrogates (their classes, or any scikit-learn estimator) and acquisition
functions in a campaign: the names the log keeps for them ("custom:<name>"), and the
objects a reopened campaign needs passed again."""

from __future__ import annotations

from designloop.errors import InputError

CUSTOM = "custom:"


def surrogate_name(obj, task: str) -> tuple[str, dict]:
    """Registry name and parameters of a surrogate object, or 'custom:<Class>' for one of the
    user's own classes or a scikit-learn estimator (which must then be passed again when the
    campaign is reopened)."""
    from designloop.surrogates.estimator import as_surrogate

    if not (hasattr(obj, "fit") and hasattr(obj, "predict")):
        raise InputError(f"surrogate must be a name or an object with fit and predict, got {obj!r}")
    does = getattr(as_surrogate(obj), "task", task)
    if does != task:
        raise InputError(f"the surrogate {type(obj).__name__} does {does}, but the "
                         f"campaign's task is {task}")
    from designloop.surrogates import SURROGATES

    for name, cls in SURROGATES.items():
        if type(obj) is cls:
            return name, dict(obj.get_params(deep=False))
    return CUSTOM + type(obj).__name__, {}


def acquisition_name(fn) -> str:
    """Registry name of an acquisition function, or 'custom:<name>' for the user's own."""
    if not callable(fn):
        raise InputError(f"acquisition must be a name or a function, got {fn!r}")
    from designloop.acquisition import ACQUISITIONS

    for name, registered in ACQUISITIONS.items():
        if fn is registered:
            return name
    return CUSTOM + getattr(fn, "__name__", type(fn).__name__)


def custom_objects(cfg, surrogate, acquisition) -> tuple:
    """The user's own surrogate (a scikit-learn estimator wrapped as `EstimatorSurrogate`)
    and acquisition objects a reopened campaign needs (None for registered ones); InputError
    when the campaign uses one that was not passed again."""
    if cfg.custom_surrogate and surrogate is not None:  # (reading the log needs no torch)
        from designloop.surrogates.estimator import as_surrogate

        surrogate = as_surrogate(surrogate, cfg.seed)
    else:
        surrogate = None
    acquisition = acquisition if cfg.custom_acquisition else None
    for name, obj, what in ((cfg.surrogate, surrogate, "surrogate"),
                            (cfg.acquisition, acquisition, "acquisition")):
        if name.startswith(CUSTOM) and obj is None:
            raise InputError(
                f"this campaign uses the {what} {name[len(CUSTOM):]!r} of your own making; "
                f"pass it again: Campaign.open(path, {what}=...)")
    return surrogate, acquisition

