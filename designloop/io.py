"""Reading the user's tables: CSV files with a BOM, `;` separators, decimal commas or stray
spaces in the headers are read as meant; a missing, empty or unreadable file, or one whose
numbers cannot be read without guessing, is an InputError naming it."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from designloop.errors import InputError

_GROUPED_NUMBER = re.compile(r"[+-]?\d{1,3}([.' \u00a0]\d{3})+(,\d+)?")


def read_table(path: str | Path, what: str = "table") -> pd.DataFrame:
    """Read a CSV (comma, semicolon or tab separated) into a DataFrame.

    In a semicolon or tab separated file, a column whose every cell is a number written with
    a decimal comma (`1,5`) is read as numbers; one that mixes decimal commas and points, or
    groups thousands (`1.234,5`), is refused naming a line of each.

    Args:
        path: the file.
        what: what the file is, for error messages ("candidates", "results").

    Raises:
        InputError: the file is missing, empty, or not a table.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{what} file {path} does not exist; check the path")
    if path.is_dir():
        raise InputError(f"{what} file {path} is a folder; give the CSV file inside it")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{what} file {path} is not UTF-8 text; save it as CSV (UTF-8)") from None
    if not text.strip():
        raise InputError(f"{what} file {path} is empty; it needs a header row and data rows")
    head = "\n".join(text.splitlines()[:20])
    try:
        sep = csv.Sniffer().sniff(head, delimiters=",;\t").delimiter
    except csv.Error:
        sep = ","
    header = [h.strip() for h in next(csv.reader([text.splitlines()[0]], delimiter=sep))]
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        raise InputError(f"{what} file {path} repeats the column(s) {repeated}; rename them")
    _check_field_counts(text, sep, len(header), f"{what} file {path}")
    try:
        df = pd.read_csv(path, sep=sep, encoding="utf-8-sig", skipinitialspace=True,
                         index_col=False)  # a trailing separator never shifts the columns
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{what} file {path} is not a readable CSV table: {exc}") from None
    df.columns = [str(c).strip() for c in df.columns]
    if len(df) == 0:
        raise InputError(f"{what} file {path} has a header but no data rows")
    for col in df.columns:
        if df[col].dtype == object or pd.api.types.is_string_dtype(df[col]):
            df[col] = df[col].map(lambda v: v.strip() if isinstance(v, str) else v)
            if sep != ",":  # a comma inside a `;` or tab separated cell: a decimal comma?
                df[col] = _decimal_commas(df[col], f"{what} file {path}")
    return df


def _check_field_counts(text: str, sep: str, n_header: int, where: str) -> None:
    """Refuse a data line with more cells than the header: pandas would silently turn the
    first column into the row labels and shift every value (`1,5` in a one-column file)."""
    lines = text.splitlines()
    if max((line.count(sep) for line in lines[1:]), default=0) <= lines[0].count(sep):
        return  # quick path: no line has more separators than the header (quoted or not)
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    next(reader, None)
    for row in reader:
        if len(row) > n_header and any(cell.strip() for cell in row[n_header:]):
            hint = (" If its numbers use decimal commas, separate the columns with ';'"
                    if sep == "," else "")
            raise InputError(
                f"{where}: line {reader.line_num} has {len(row)} cells but the header has "
                f"{n_header} column(s); give every row one cell per column.{hint}")


def _decimal_commas(series: pd.Series, where: str) -> pd.Series:
    """A text column whose every cell is a number written with a decimal comma (`1,5`, `-2`,
    `3,0e-4`) as float numbers; a column that mixes decimal commas with decimal points, or
    groups thousands (`1.234,5`), is refused rather than read as categories."""
    if not series.astype(str).str.contains(",", regex=False).any():
        return series
    filled = series.map(lambda v: isinstance(v, str) and v != "").to_numpy(dtype=bool)
    cells = series[filled].astype(str)
    comma = cells.str.contains(",", regex=False).to_numpy(dtype=bool)
    point = cells.str.contains(".", regex=False).to_numpy(dtype=bool)
    as_comma = pd.to_numeric(cells.str.replace(",", ".", regex=False), errors="coerce")
    number = as_comma.notna().to_numpy() & ~point
    if point.any():
        number |= pd.to_numeric(cells, errors="coerce").notna().to_numpy() & ~comma
    if number.all() and not point.any():
        out = pd.Series(np.nan, index=series.index, dtype=float)
        out[filled] = as_comma.to_numpy(dtype=float)
        return out
    if number.all():
        first, other = cells.index[comma][0], cells.index[point][0]
        raise InputError(
            f"{where}: column '{series.name}' mixes decimal commas (line {first + 2}: "
            f"{series[first]!r}) and decimal points (line {other + 2}: {series[other]!r}); "
            "write every number of the column the same way")
    rest = cells[~number]
    if rest.map(lambda v: bool(_GROUPED_NUMBER.fullmatch(v))).all():
        other = rest.index[0]
        raise InputError(
            f"{where}: column '{series.name}' groups thousands (line {other + 2}: "
            f"{series[other]!r}); save the file without thousands separators")
    return series
