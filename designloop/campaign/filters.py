"""Known constraints: a filter on the candidate table, such as
`temperature <= 120 and solvent != 'DMF'`.

A candidate the filter rules out is never suggested (it stays in the table, and a result
for it is still recorded). The expression is parsed, never run as code: it may compare
columns with numbers, text or other columns (`<`, `<=`, `>`, `>=`, `==`, `!=`, chained as
in `20 <= time <= 60`), test membership (`base in ['K2CO3', 'Cs2CO3']`, `not in`), and
combine these with `and`, `or`, `not` and parentheses. A column whose name is not a Python
word goes in backticks: `` `Aryl halide` != 'none' ``. A candidate with a missing value in
a column the filter names never passes it.
"""

from __future__ import annotations

import ast
import operator
import re

import numpy as np
import pandas as pd

from designloop.errors import InputError

_COMPARE = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
            ast.GtE: operator.ge, ast.Eq: operator.eq, ast.NotEq: operator.ne}
# quoted text (left alone) or a backticked column name (replaced by a placeholder)
_TOKENS = re.compile(r"""('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|`([^`]*)`""")
MAX_LENGTH = 2000  # characters; a filter is a line, not a program
HELP = ("comparisons of columns with numbers or 'text' (<, <=, >, >=, ==, !=), "
        "`in [...]`, combined with and, or, not and parentheses; put a column name with "
        "spaces in backticks")


def candidate_mask(expression: str, candidates: pd.DataFrame, where: str = "filter"
                   ) -> np.ndarray:
    """`(N,)` booleans: the candidates that satisfy `expression` (see the module docstring).

    Raises:
        InputError: naming the expression when it does not parse, uses anything but the
            operations above, names a column the table lacks, or compares a column with a
            value of another kind.
    """
    if not isinstance(expression, str) or not expression.strip():
        raise InputError(f"{where}: the filter is empty; give an expression such as "
                         "\"temperature <= 120\"")
    if len(expression) > MAX_LENGTH:
        raise InputError(f"{where}: the filter is {len(expression)} characters long; keep it "
                         f"under {MAX_LENGTH}")
    names: dict[str, str] = {}

    def placeholder(match: re.Match) -> str:
        if match.group(1) is not None:  # quoted text stays as it is
            return match.group(1)
        key = f"__column_{len(names)}"
        names[key] = match.group(2)
        return key

    text = _TOKENS.sub(placeholder, expression.strip())
    frame = candidates.drop(columns=["candidate_id"], errors="ignore")
    used: set[str] = set()
    try:
        tree = ast.parse(text, mode="eval")
        result = _evaluate(tree.body, frame, names, expression, where, used)
    except SyntaxError as exc:
        raise InputError(f"{where}: cannot parse {expression!r} ({exc.msg}); use {HELP}") \
            from None
    except (RecursionError, MemoryError):
        raise InputError(f"{where}: {expression!r} is nested too deeply; simplify it") \
            from None
    if not isinstance(result, pd.Series) or result.dtype != bool:
        raise InputError(f"{where}: {expression!r} is not a condition (a comparison, or "
                         f"several joined with and/or); use {HELP}")
    # a candidate whose value is missing in a column the filter names never passes
    known = frame[sorted(used)].notna().all(axis=1) if used else True
    return (result & known).to_numpy(dtype=bool)


def _evaluate(node, frame: pd.DataFrame, names: dict, expression: str, where: str,
              used: set):
    def fail(what: str) -> InputError:
        return InputError(f"{where}: {expression!r}: {what}; use {HELP}")

    def value(n):
        return _evaluate(n, frame, names, expression, where, used)

    if isinstance(node, ast.BoolOp):
        parts = [_as_condition(value(v), fail) for v in node.values]
        out = parts[0]
        for part in parts[1:]:
            out = (out & part) if isinstance(node.op, ast.And) else (out | part)
        return out
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return ~_as_condition(value(node.operand), fail)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = value(node.operand)
        if not isinstance(inner, int | float) or isinstance(inner, bool):
            raise fail("a sign goes before a number only")
        return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.Compare):
        return _compare(node, value, fail)
    if isinstance(node, ast.Name):
        column = names.get(node.id, node.id)
        if node.id not in names and column in ("True", "False"):
            return column == "True"
        if column not in frame.columns:
            raise InputError(f"{where}: {expression!r} names the column {column!r}, which the "
                             f"candidates do not have (text values go in quotes: "
                             f"'{column}'); their columns are {list(frame.columns)}")
        used.add(column)
        return frame[column]
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float | str | bool):
        return node.value
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        items = [value(e) for e in node.elts]
        if any(isinstance(i, pd.Series) for i in items):
            raise fail("a list holds values, not columns")
        return items
    raise fail(f"{ast.unparse(node)!r} is not allowed here")


def _as_condition(part, fail) -> pd.Series:
    if not isinstance(part, pd.Series) or part.dtype != bool:
        raise fail("and, or and not join conditions, not values")
    return part


def _compare(node: ast.Compare, value, fail) -> pd.Series:
    out = None
    left = value(node.left)
    for op, right_node in zip(node.ops, node.comparators, strict=True):
        right = value(right_node)
        if isinstance(op, ast.In | ast.NotIn):
            if not isinstance(left, pd.Series) or not isinstance(right, list):
                raise fail("`in` tests a column against a list, as in base in ['K2CO3']")
            for item in right:
                _check_kinds(left, item, fail)
            part = left.isin(right)
            part = ~part if isinstance(op, ast.NotIn) else part
        elif type(op) in _COMPARE:
            if isinstance(left, list) or isinstance(right, list):
                raise fail("a list goes after `in`, not beside a comparison")
            if not (isinstance(left, pd.Series) or isinstance(right, pd.Series)):
                raise fail("a comparison needs a column on one side")
            _check_kinds(left, right, fail)
            try:
                part = _COMPARE[type(op)](left, right)
            except (TypeError, ValueError) as exc:
                raise fail(f"cannot compare these ({str(exc).splitlines()[0][:120]})") \
                    from None
        else:
            raise fail(f"the operator {type(op).__name__} is not allowed")
        part = part.fillna(False).astype(bool) if isinstance(part, pd.Series) else part
        out = part if out is None else (out & part)
        left = right
    return out


def _check_kinds(left, right, fail) -> None:
    """A numeric column compares with numbers (or numeric columns), any other with text."""
    def kind(side):
        if isinstance(side, pd.Series):
            return "number" if pd.api.types.is_numeric_dtype(side) else "text"
        if isinstance(side, bool):
            return "boolean"
        return "number" if isinstance(side, int | float) else "text"

    if kind(left) != kind(right):
        raise fail(f"it compares {kind(left)} with {kind(right)} (quote text, as in "
                   "solvent != 'DMF'; leave numbers bare)")


def checked(expression: str | None, candidates: pd.DataFrame, where: str = "filter"
            ) -> str | None:
    """The expression, stripped, once it is known to parse and to leave a candidate (None
    stays None: no filter)."""
    if expression is None:
        return None
    mask = candidate_mask(expression, candidates, where)
    if not mask.any():
        raise InputError(f"{where}: {expression!r} rules out all {len(mask)} candidates; "
                         "loosen it")
    return expression.strip()


def ruled_out(store, candidates: pd.DataFrame) -> tuple[str | None, list[int]]:
    """The filter in force in the campaign's `store` and the ids of the candidates it rules
    out (none without a filter)."""
    expression = store.candidate_filter()
    if expression is None:
        return None, []
    mask = candidate_mask(expression, candidates, f"{store.path}: the candidate filter")
    return expression, candidates["candidate_id"].to_numpy()[~mask].astype(int).tolist()
