"""The `designloop` command: a thin layer over Campaign for people with CSV files.

Every user mistake is printed as one line, `error: ...`, with exit status 2, and nothing is
written.

The commands live in `designloop.cli.commands` (the campaign), `designloop.cli.predict` and
`designloop.cli.bench`, registered on the one Typer app of `designloop.cli.app`; `main` is
the entry point.
"""

from __future__ import annotations

import typer
from rich.markup import escape

from designloop.cli import bench, commands, options, predict  # noqa: F401  (they register commands)
from designloop.cli.app import app
from designloop.cli.output import err
from designloop.errors import DesignloopError, InputError


def main() -> None:
    """Entry point: run the app, turning designloop errors into one line and exit 2."""
    try:
        app(standalone_mode=False)
    except DesignloopError as exc:
        err.print(f"[bold red]error:[/bold red] {escape(str(exc))}", highlight=False,
                  soft_wrap=True, emoji=False)
        raise SystemExit(2 if isinstance(exc, InputError) else 1) from None
    except typer.Abort:
        raise SystemExit(1) from None
    except Exception as exc:
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            raise SystemExit(exc.exit_code) from None
        raise
