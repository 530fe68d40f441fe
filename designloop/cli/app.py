"""The Typer application every command registers on."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    add_completion=False, no_args_is_help=True, rich_markup_mode="rich",
    help="Choose the next experiments. Typical loop:\n\n"
         "  designloop init lab.db --candidates candidates.csv --target yield --goal maximize\n\n"
         "  designloop suggest lab.db -n 4 -o next.csv   (run them, fill in the yield column)\n\n"
         "  designloop observe lab.db next.csv\n\n"
         "  designloop status lab.db",
)
Db = Annotated[Path, typer.Argument(help="Campaign file (SQLite), e.g. lab.db")]
