"""Command-line options that say what to optimise and where: several targets
(`--target NAME:max`, `--objective`) and the filter on the candidates (`--where`, the
`where` command)."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
import typer

from designloop.campaign.objectives import parse_target_option
from designloop.cli.app import Db, app
from designloop.cli.output import say
from designloop.errors import InputError


def what_is_optimised(status: dict, target: str | None) -> str:
    """The targets (and constraints) of a new campaign, for the line `init` prints."""
    what = (f"targets {status['targets']}, objective {status['objective']}"
            if status.get("objective") else
            f"target '{target or status.get('targets')}' ({status['task']}, "
            f"{status['goal']})")
    if "constraints" in status:
        what += f", constraints {status['constraints']}"
    return what


def one_target(given: list[str], table: pd.DataFrame) -> str:
    """The one target of one-shot mode (several targets need a campaign file)."""
    if len(given) > 1 or (":" in given[0] and given[0] not in table.columns):
        raise InputError("one-shot mode takes one --target column; for several targets "
                         "create a campaign: designloop init lab.db --candidates ... "
                         "--target yld:max --target ton:max")
    return given[0]


def target_options(given: list[str], objective: str | None, table: pd.DataFrame,
                   roles: dict) -> tuple[str | None, dict | None]:
    """The target of `init`, or its several targets: one --target is a column name; several
    (or one with --objective) are NAME:max / NAME:min[:LOWER:UPPER[:WEIGHT]] each."""
    if len(given) == 1 and objective is None and ":" in given[0] \
            and given[0] not in table.columns:
        raise InputError(f"--target {given[0]!r}: NAME:max or NAME:min is for several targets;"
                         f" for one, give --target NAME --goal max (or min)")
    target, targets = _targets(given, objective)
    for name in [target] if targets is None else list(targets):
        if name not in table.columns and name in roles:
            raise InputError(f"--target {name} is also given a feature role")
    return target, targets


def _targets(given: list[str], objective: str | None) -> tuple[str | None, dict | None]:
    """One --target (a column name, or NAME:max / NAME:min, which sets nothing else), or
    several as a targets dict."""
    if len(given) == 1 and objective is None:
        return given[0], None
    names = [parse_target_option(text) for text in given]
    seen = [n for n, _ in names]
    twice = sorted({n for n in seen if seen.count(n) > 1})
    if twice:
        raise InputError(f"--target names {twice} more than once; give each target once")
    if len(names) < 2:
        raise InputError("--objective combines several targets: repeat --target, e.g. "
                         "--target yield:max --target cost:min")
    return None, dict(names)


WHERE_HELP = ("Only suggest candidates that satisfy this, e.g. \"temperature <= 120 and "
               "solvent != 'DMF'\" (comparisons, in [...], and/or/not; `column name` in "
               "backticks)")



@app.command()
def where(
    db: Db,
    expression: Annotated[str | None, typer.Argument(help=WHERE_HELP)] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Lift the filter: every candidate may be suggested again")] = False,
) -> None:
    """Rule candidates out of the suggestions by a filter on their columns, change the
    filter, or lift it. The filter is logged, and applies from the next suggest on.

    Example: designloop where lab.db "temperature <= 120 and solvent != 'DMF'"
    """
    from designloop.cli.commands import open_campaign

    if (expression is None) == (not clear):
        raise InputError("give a filter expression, or --clear to lift the filter (not both)")
    campaign = open_campaign(db)
    allowed = campaign.restrict(None if clear else expression)
    what = "No filter" if clear else f"Filter {expression.strip()!r}"
    say(f"{what}: {allowed} of {len(campaign.candidates)} candidates may be suggested.")
