"""`designloop predict`: what the campaign's model says about every candidate, or about the
rows of any table, written as CSV; nothing is logged."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from designloop.cli.app import Db, app
from designloop.cli.commands import open_campaign
from designloop.cli.output import check_output, err, fmt, percent, say, show, write_frame
from designloop.io import read_table


@app.command()
def predict(
    db: Db,
    table: Annotated[Path | None, typer.Argument(
        help="CSV of rows to predict (candidate_id, or every feature column); omit for "
             "every candidate")] = None,
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", help="Write every row's prediction as CSV")] = None,
) -> None:
    """Predict every candidate, or the rows of a table, with the campaign's model: mean and
    sd (or class probabilities), 90% conformal interval (or set), chance of beating the
    best so far, extrapolation flag. Logs nothing.

    Examples: designloop predict lab.db -o predictions.csv;
    designloop predict lab.db new_conditions.csv -o predictions.csv
    """
    check_output(output, (".csv",), db=db)
    rows = None if table is None else read_table(table, "table")
    campaign = open_campaign(db, readonly=True)
    with err.status("Fitting the model and predicting..."):
        frame = campaign.predict(rows, source=str(table))
    shown = frame.copy()
    if "p_improve" in shown:
        shown["p_improve"] = shown["p_improve"].map(percent)
    if "interval_lo" in shown:
        shown["90% interval"] = [f"{fmt(lo)} to {fmt(hi)}" if np.isfinite(lo) else "n/a"
                                 for lo, hi in zip(shown.interval_lo, shown.interval_hi,
                                                   strict=True)]
    model = [c for c in ("p_improve", "predicted_mean", "predicted_sd", "90% interval",
                         "prediction_set", "extrapolation") if c in shown]
    model[1:1] = [c for c in shown.columns if str(c).startswith("prob_")]
    first = [c for c in ["candidate_id", *campaign.config.feature_columns] if c in shown]
    show(shown[first + model], f"Predictions, {len(frame)} row(s)", max_rows=20,
         keep=1, elsewhere=f", or see {output}" if output else
         ", or write them all with -o predictions.csv")
    if output is not None:
        write_frame(frame, output, "nothing else was changed")
        say(f"Wrote {output}: {len(frame)} row(s)")
