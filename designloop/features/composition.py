"""Chemical formulas ("Al(NiB)2", "Fe0.7Cr0.2Ni0.1") to element fractions, so that
composition tables can be used as numeric candidate features."""

from __future__ import annotations

import re

import pandas as pd

from designloop.errors import InputError

_TOKEN = re.compile(r"([A-Z][a-z]?)|(\()|(\))|(\d+\.?\d*|\.\d+)")


def parse_formula(formula: str) -> dict[str, float]:
    """Element -> amount for a formula with nested parentheses and decimal amounts."""
    text = formula.replace(" ", "")
    # each level holds [element, amount] pairs; a number multiplies the item before it
    stack: list[list[list]] = [[]]
    pos = 0
    last: list | None = None  # the item a following number applies to
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise InputError(f"cannot read the formula {formula!r} at {text[pos:]!r}")
        element, opening, closing, number = m.groups()
        pos = m.end()
        if element:
            last = [element, 1.0]
            stack[-1].append(last)
        elif opening:
            stack.append([])
            last = None
        elif closing:
            if len(stack) == 1:
                raise InputError(f"unbalanced parentheses in the formula {formula!r}")
            group = _flatten(stack.pop())
            last = ["(group)", group]
            stack[-1].append(last)
        else:
            if last is None:
                raise InputError(f"a number without an element in the formula {formula!r}")
            if last[0] == "(group)":
                last[1] = [[el, a * float(number)] for el, a in last[1]]
            else:
                last[1] = float(number)
            last = None
    if len(stack) != 1 or not stack[0]:
        raise InputError(f"cannot read the formula {formula!r}")
    return dict(_flatten(stack[0]))


def _flatten(items: list[list]) -> list[list]:
    """[element, amount] pairs with groups expanded and repeated elements summed."""
    totals: dict[str, float] = {}
    for name, amount in items:
        pairs = amount if name == "(group)" else [[name, amount]]
        for el, a in pairs:
            totals[el] = totals.get(el, 0.0) + a
    return [[el, a] for el, a in totals.items()]


def element_fractions(formulas) -> pd.DataFrame:
    """One column per element that occurs, holding its atomic fraction (rows sum to 1)."""
    rows = []
    for f in formulas:
        amounts = parse_formula(str(f))
        total = sum(amounts.values())
        rows.append({el: a / total for el, a in amounts.items()})
    return pd.DataFrame(rows).fillna(0.0)
