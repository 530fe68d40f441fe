"""Reading and writing the user's tables.

Reading: CSV files with a BOM, `;` separators or stray spaces in the headers are read as
meant; a missing, empty or unreadable file is an InputError naming it. Writing: a CSV file
appears whole or not at all, and no text cell in it runs as a spreadsheet formula.
"""

from __future__ import annotations

import csv
import os
import re
import tempfile
from pathlib import Path

import pandas as pd

from designloop.errors import InputError

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


def read_table(path: str | Path, what: str = "table") -> pd.DataFrame:
    """Read a CSV (comma, semicolon or tab separated) into a DataFrame.

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
    try:
        df = pd.read_csv(path, sep=sep, encoding="utf-8-sig", skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{what} file {path} is not a readable CSV table: {exc}") from None
    df.columns = [str(c).strip() for c in df.columns]
    if len(df) == 0:
        raise InputError(f"{what} file {path} has a header but no data rows")
    for col in df.columns:
        if df[col].dtype == object or pd.api.types.is_string_dtype(df[col]):
            df[col] = df[col].map(lambda v: v.strip() if isinstance(v, str) else v)
    return df


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
