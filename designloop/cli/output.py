"""What the command line prints and writes: tables that fit the terminal, plain messages,
checked output files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table
from rich.text import Text

from designloop.campaign.matching import filled
from designloop.errors import InputError
from designloop.io import write_table

out = Console()
err = Console(stderr=True)

def split_names(text: str | None) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()] if text else []


def say(text: str) -> None:
    """Print a message of plain text: brackets in names, SMILES and paths stay as written."""
    out.print(text, markup=False, emoji=False)


def show(df: pd.DataFrame, title: str, max_rows: int = 30, keep: int | None = None,
          elsewhere: str = "") -> None:
    """Print `df` as a table; with `keep`, the columns after the first `keep` that do not fit
    the terminal's width are left out, from the right, and named below the table with where
    else to see them (`elsewhere`)."""
    cells = {col: [fmt(v) for v in df[col].head(max_rows)] for col in df.columns}
    # width of a column whose header and cells fit on one line, with padding and border
    need = {col: 3 + max([len(str(col))] + [len(c) for c in cells[col]]) for col in df.columns}
    columns, hidden = list(df.columns), []
    while keep is not None and len(columns) > keep and \
            1 + sum(need[c] for c in columns) > out.width:
        hidden.insert(0, columns.pop())
    table = Table(title=Text(title), show_lines=False, header_style="bold")
    for col in columns:
        table.add_column(Text(str(col)), overflow="fold", min_width=min(len(str(col)), 12))
    for i in range(min(len(df), max_rows)):
        table.add_row(*[Text(cells[col][i]) for col in columns])
    out.print(table)
    if len(df) > max_rows:
        out.print(f"... {len(df) - max_rows} more rows")
    if hidden:
        say(f"(too narrow to show {', '.join(map(str, hidden))}: widen the terminal"
             f"{elsewhere})")


def fmt(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, float | np.floating):
        return f"{v:.4g}"
    text = str(v)
    return text if len(text) <= 24 else text[:23] + "…"


IMAGE_SUFFIXES = (".png", ".pdf", ".svg", ".svgz", ".jpg", ".jpeg", ".tif", ".tiff", ".eps",
                  ".ps")


def check_output(path: Path | None, suffixes: tuple[str, ...], option: str = "-o",
                  db: Path | None = None) -> None:
    """Fail at once, before any work is done or logged, when the file `path` could not be
    written: its folder is missing or read-only, it is a folder, its suffix is not one of
    `suffixes`, or it is the campaign file `db`."""
    if path is None:
        return
    if path.is_dir():
        raise InputError(f"{option} {path} is a folder; give a file name in it, e.g. "
                         f"{path / ('output' + suffixes[0])}")
    if db is not None and path.exists() and db.exists() and path.samefile(db):
        raise InputError(f"{option} {path} is the campaign file itself; choose another name")
    if path.suffix.lower() not in suffixes:
        raise InputError(f"{option} {path}: name the file with {' or '.join(suffixes)}, e.g. "
                         f"{path.with_suffix(suffixes[0])}")
    folder = path.parent
    if not folder.is_dir():
        raise InputError(f"{option} {path}: the folder {folder} does not exist; create it or "
                         "choose another folder")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise InputError(f"{option} {path}: no permission to write there; choose another "
                         "folder or file name")


def write_frame(frame: pd.DataFrame, path: Path, what: str) -> None:
    """Write `frame` as CSV to `path`; a failure to write is one line naming the file."""
    try:
        write_table(frame, path)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}; {what}") from None


def check_target(table: pd.DataFrame, target: str, path: Path) -> None:
    """Refuse a candidate table whose `target` column is filled in on every row: nothing
    would be left to suggest, and such a column is most likely a feature given as the
    target by mistake."""
    if target not in table.columns:
        return
    if filled(table[target]).all():
        raise InputError(
            f"{path}: the target column '{target}' is filled in on every row ({len(table)} "
            f"candidates), so nothing is left to suggest; if '{target}' is a feature, give "
            "the column the lab measures with --target (a new name is added as an empty "
            "column)")


def percent(p: float) -> str:
    """A probability as a whole percentage ("<1%" and ">99%" at the ends, never 0 or 100)."""
    if p is None or np.isnan(p):
        return ""
    return "<1%" if 0 < p < 0.005 else ">99%" if 0.995 <= p < 1 else f"{p:.0%}"


def summary_table(table: pd.DataFrame, title: str) -> Table:
    """A `summarize` table for the terminal, the winner marked."""
    rich_table = Table(title=Text(title), header_style="bold")
    for col in ("strategy", "final (mean +- sd)", "area under curve (mean +- sd)", ""):
        rich_table.add_column(col)
    for _, row in table.iterrows():
        rich_table.add_row(Text(str(row["strategy"])),
                           f"{row['final_mean']:.4g} +- {row['final_sd']:.2g}",
                           f"{row['auc_mean']:.4g} +- {row['auc_sd']:.2g}",
                           "[bold green]winner[/bold green]" if row["winner"] else "")
    return rich_table
