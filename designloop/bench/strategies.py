"""Named strategies for simulated campaigns: surrogate + acquisition + batch selection.

A strategy is written `acquisition[@surrogate][/selection]`, e.g. "bald", "ei",
"vote-entropy@forest", "max-variance/top_k"; short names expand to the acquisition names
of `designloop.ACQUISITIONS` ("ei" is log expected improvement; the aliases are those of
`designloop.names`, shared with Campaign and the command line). "default" is the Campaign
exactly as a new user gets it (no setting given). Any other Campaign setting goes in
`Strategy.options`, e.g. `Strategy("maximin-start", options={"initial_design": "maximin"})`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from designloop.acquisition import ACQUISITIONS
from designloop.errors import InputError
from designloop.names import ACQUISITION_ALIASES, normalise, spelled
from designloop.registry import SELECTIONS
from designloop.surrogates import SURROGATES

ALIASES = ACQUISITION_ALIASES  # the one table of designloop.names


@dataclass(frozen=True)
class Strategy:
    """One way of choosing experiments."""

    name: str
    acquisition: str | None = None  # None: the campaign's default for its task and goal
    surrogate: str | None = None
    selection: str = "auto"
    options: dict = field(default_factory=dict)  # further Campaign keyword arguments

    def campaign_kwargs(self) -> dict:
        """Keyword arguments for `Campaign` beyond the problem's own."""
        return {"surrogate": self.surrogate, "acquisition": self.acquisition,
                "selection": self.selection, **self.options}

    @classmethod
    def parse(cls, text: str) -> Strategy:
        name = text.strip()
        if name.lower() == "default":
            return cls(name="default")
        rest, _, selection = name.partition("/")
        acq, _, surrogate = rest.partition("@")
        acq = spelled(acq, "acquisition")
        if acq not in ACQUISITIONS:
            raise InputError(f"strategy {text!r}: unknown acquisition {acq!r}; choose one of "
                             f"{', '.join(ACQUISITIONS)} or {', '.join(ALIASES)}")
        surrogate = normalise(surrogate) or None
        if surrogate is not None and surrogate not in SURROGATES:
            raise InputError(f"strategy {text!r}: unknown surrogate {surrogate!r}; choose one "
                             f"of {', '.join(SURROGATES)}")
        selection = normalise(selection) or "auto"
        if selection not in SELECTIONS:
            raise InputError(f"strategy {text!r}: unknown selection {selection!r}; choose one "
                             f"of {', '.join(SELECTIONS)}")
        return cls(name=name, acquisition=acq, surrogate=surrogate, selection=selection)


def parse_strategies(texts) -> list[Strategy]:
    """Strategies from a comma-separated string or a list of names."""
    if isinstance(texts, str):
        texts = [t for t in texts.split(",") if t.strip()]
    strategies = [t if isinstance(t, Strategy) else Strategy.parse(t) for t in texts]
    names = [s.name for s in strategies]
    if len(set(names)) != len(names):
        raise InputError(f"strategies repeat a name: {names}")
    if not strategies:
        raise InputError("give at least one strategy, e.g. random,bald")
    return strategies
