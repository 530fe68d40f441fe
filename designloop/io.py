"""Reading and writing the user's tables.

Reading: CSV files with a BOM, `;` separators, decimal commas or stray spaces in the headers
are read as meant; a missing, empty or unreadable file, or one whose numbers cannot be read
without guessing, is an InputError naming it. Writing: a CSV file appears whole or not at
all, and no text cell in it runs as a spreadsheet formula.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from designloop.errors import InputError

# larger numbers overflow float arithmetic once squared (variances, distances): refused
MAX_MAGNITUDE = 1e150


def out_of_range(values) -> np.ndarray:
    """Mask of the numbers no model can use: infinite, or larger than MAX_MAGNITUDE."""
    values = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.isinf(values) | (np.abs(values) > MAX_MAGNITUDE)


FORMULA_STARTS = ("=", "+", "@", "\t", "\r")
_NUMBER = re.compile(r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def neutralise(value):
    """A text cell made safe to open in a spreadsheet: text that starts with `=`, `+`,
    `@`, a tab, a carriage return, or `-` followed by something other than a number, gets a
    single quote in front, so Excel and its kind show it as text instead of running it as a
    formula (as OWASP advises against CSV injection). Anything else is returned unchanged.
    """
    if not isinstance(value, str) or not value:
        return value
    if value.startswith(FORMULA_STARTS) or (
            value.startswith("-") and len(value) > 1 and not _NUMBER.fullmatch(value[1:])):
        return "'" + value
    return value


def unneutralise(value):
    """Undo `neutralise`: the text as it was before its quote was added (text that
    `neutralise` did not change is returned unchanged)."""
    if isinstance(value, str) and value.startswith("'") and neutralise(value[1:]) == value:
        return value[1:]
    return value


def neutralise_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells and column names are `neutralise`d."""
    out = frame.rename(columns=neutralise)
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    return out

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
    text = _text(path.read_bytes(), f"{what} file {path}")
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


SAVE_AS_CSV = "save it as CSV UTF-8 (in Excel: File > Save As > CSV UTF-8)"
_WORKBOOKS = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")  # .xlsx (a zip), .xls
_UTF16 = (b"\xff\xfe", b"\xfe\xff")


def _text(raw: bytes, where: str) -> str:
    """The bytes of a table file as text; InputError saying what the file is instead (an
    Excel workbook, UTF-16 text, binary data, another encoding with the line of its first
    such byte) and how to save it as CSV."""
    if raw.startswith(_WORKBOOKS):
        raise InputError(f"{where} is an Excel workbook, not a CSV file; {SAVE_AS_CSV}")
    if raw.startswith(_UTF16):
        raise InputError(f"{where} is UTF-16 text (Excel's Unicode Text); {SAVE_AS_CSV}")
    if b"\x00" in raw:
        raise InputError(f"{where} is binary data, not a CSV table; {SAVE_AS_CSV}")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise InputError(f"{where} is not UTF-8 text (line {line} holds the byte "
                         f"0x{raw[exc.start]:02x}, as Latin-1 or Windows-1252 files do); "
                         f"{SAVE_AS_CSV}") from None


def write_table(frame: pd.DataFrame, path_or_buffer) -> None:
    """Write `frame` as CSV (no index) to a file path or an open text stream, its text
    cells `neutralise`d so that none runs as a formula when opened in a spreadsheet.

    A file is written to a temporary file beside it and then renamed, so a failure part
    way leaves the previous file (or none) in place.

    Args:
        frame: the table.
        path_or_buffer: a path, or a text stream such as `sys.stdout`.
    """
    frame = neutralise_table(frame)
    if not isinstance(path_or_buffer, str | os.PathLike):
        frame.to_csv(path_or_buffer, index=False)
        return
    path = Path(path_or_buffer)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                         dir=path.parent)
    try:
        with os.fdopen(handle, "w", newline="", encoding="utf-8") as stream:
            frame.to_csv(stream, index=False)
        os.chmod(temporary, _mode(path))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _mode(path: Path) -> int:
    """The permissions a file written at `path` gets: those of the file it replaces, or
    what the umask gives a new file."""
    if path.exists():
        return path.stat().st_mode & 0o7777
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask

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
