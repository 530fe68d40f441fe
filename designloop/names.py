"""The spellings designloop accepts for its named settings.

One table of aliases, used by `Campaign`, `CampaignConfig`, the command line and `simulate`
(strategy names), so that a name accepted in one place is accepted in all: case does not
matter, hyphens and spaces read as underscores ("max-variance" is "max_variance"), British
and short spellings of the goal are the goal ("maximise", "max"), and the short names of
acquisitions expand to their registered names ("ei" is log expected improvement, as in
BoTorch's recommendation of log-EI over plain EI; "expected_improvement" is plain EI).
"""

from __future__ import annotations

from designloop.errors import InputError

# the initial designs, here so that a stored configuration can be checked without importing
# the numerical libraries (the selections are in designloop.registry)
INITIAL_DESIGNS = ("random", "maximin", "kmeans")

GOAL_ALIASES = {
    "maximise": "maximize",
    "max": "maximize",
    "minimise": "minimize",
    "min": "minimize",
}

ACQUISITION_ALIASES = {
    "ei": "log_expected_improvement",
    "logei": "log_expected_improvement",
    "log_ei": "log_expected_improvement",
    "pi": "probability_of_improvement",
    "upper_confidence_bound": "ucb",
    "variance": "max_variance",
    "qbc": "vote_entropy",
    "lc": "least_confidence",
    "egl": "expected_gradient_length",
}

ALIASES = {"goal": GOAL_ALIASES, "acquisition": ACQUISITION_ALIASES,
           "initial_design": {"k_means": "kmeans", "max_min": "maximin"},
           "smiles_encoding": {"one_hot": "onehot", "fingerprints": "morgan"}}


def normalise(name):
    """`name` lower-cased, stripped, with hyphens and spaces as underscores; anything that is
    not text (an object, None) comes back unchanged."""
    if not isinstance(name, str):
        return name
    return "_".join(name.strip().lower().replace("-", " ").split())


def spelled(name, what: str | None = None):
    """The canonical spelling of `name`: normalised, then looked up in the aliases of `what`
    (a key of ALIASES; other settings have none). Whether the result is a valid
    choice is for the caller to check, with its own message."""
    key = normalise(name)
    return ALIASES.get(what, {}).get(key, key) if isinstance(key, str) else key


def canonical(name, choices, what: str) -> str:
    """`spelled(name, what)` if it is one of `choices`, else an InputError listing them and
    the aliases."""
    key = spelled(name, what)
    if key not in choices:
        aliases = ALIASES.get(what, {})
        also = f" (or {', '.join(aliases)})" if aliases else ""
        raise InputError(f"unknown {what} {name!r}; choose one of: {', '.join(choices)}{also}")
    return key
