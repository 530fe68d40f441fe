"""The campaign commands: init, suggest, observe, status, history, release, forget, report
and acquisitions."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from designloop import registry
from designloop.campaign.campaign import Campaign
from designloop.campaign.store import Store
from designloop.cli.app import Db, app
from designloop.cli.options import WHERE_HELP as _WHERE_HELP
from designloop.cli.options import one_target, target_options, what_is_optimised
from designloop.cli.output import (
    check_output,
    check_target,
    err,
    fmt,
    out,
    percent,
    say,
    show,
    split_names,
    write_frame,
)
from designloop.errors import InputError
from designloop.io import read_table, write_table


def open_campaign(db: Path, readonly: bool = False) -> Campaign:
    """The campaign in `db`; `readonly` for commands that only read (the file is opened with
    SQLite's mode=ro, so they never create or change it)."""
    if not db.exists():
        raise InputError(f"campaign file {db} does not exist; create it with: designloop init {db}"
                         " --candidates FILE --target COLUMN")
    return Campaign.open(Store(db, readonly=readonly))


_SURROGATE_HELP = (" | ".join([*registry.SURROGATES, registry.AUTO_SURROGATE])
                   + " (classification default: chosen by cross-validation)")
_SELECTION_HELP = "Batch selection: " + " | ".join(registry.SELECTIONS)


@app.command()
def init(
    db: Db,
    candidates: Annotated[Path, typer.Option("--candidates", "-c", help="CSV, one row per candidate")],
    target: Annotated[list[str], typer.Option("--target", "-t", help="Column the lab measures; for several targets repeat it as NAME:max or NAME:min[:LOWER:UPPER[:WEIGHT]]")],
    goal: Annotated[str, typer.Option(help="explore | maximize | minimize (also maximise/max, minimise/min)")] = "explore",
    task: Annotated[str, typer.Option(help="regression | classification")] = "regression",
    smiles: Annotated[str | None, typer.Option(help="Comma-separated SMILES columns (else inferred)")] = None,
    categorical: Annotated[str | None, typer.Option(help="Comma-separated categorical columns")] = None,
    numeric: Annotated[str | None, typer.Option(help="Comma-separated numeric columns")] = None,
    ignore: Annotated[str | None, typer.Option(help="Comma-separated columns that are not features")] = None,
    surrogate: Annotated[str | None, typer.Option(help=_SURROGATE_HELP)] = None,
    acquisition: Annotated[str | None, typer.Option(help="See: designloop acquisitions (short names: ei, log-ei, pi, ucb, variance, ...)")] = None,
    encoding: Annotated[str, typer.Option(help="SMILES encoding: auto (Mordred for reaction components, else likelihood) | likelihood (the best leave-one-out fit each cycle) | onehot | morgan | descriptors (RDKit) | mordred")] = "auto",
    morgan_radius: Annotated[int, typer.Option(help="Morgan fingerprint radius")] = 2,
    morgan_bits: Annotated[int, typer.Option(help="Morgan fingerprint length")] = 1024,
    morgan_counts: Annotated[bool, typer.Option(help="Count fingerprints (MinMax kernel) instead of bits")] = False,
    batch_size: Annotated[int, typer.Option("--batch-size", "-n", help="Suggestions per cycle")] = 1,
    selection: Annotated[str, typer.Option(help=_SELECTION_HELP)] = "auto",
    initial: Annotated[str | None, typer.Option(help="Initial design: random | maximin | kmeans (default: random to optimise, kmeans to explore or classify)")] = None,
    incumbent: Annotated[str, typer.Option(help="Best so far for EI/PI: posterior (the model's best mean at the measured candidates) | observed (the best measured value)")] = "posterior",
    seed: Annotated[int, typer.Option(help="Same seed, same suggestions")] = 0,
    where: Annotated[str | None, typer.Option(help=_WHERE_HELP)] = None,
    objective: Annotated[str | None, typer.Option(help="Several targets: pareto (the trade-off, the default) | desirability (one compromise; give each target bounds)")] = None,
    constraint: Annotated[list[str] | None, typer.Option(help="An outcome that must clear a threshold, e.g. \"purity >= 0.95\" (a measured column; repeat for several)")] = None,
) -> None:
    """Create a campaign file from a candidate table.

    Example: designloop init lab.db --candidates reactions.csv --target yield --goal maximize
    """
    if db.exists():
        raise InputError(f"{db} already exists; choose a new file name or continue it with "
                         f"designloop suggest {db}")
    table = read_table(candidates, "candidates")
    roles = {c: "smiles" for c in split_names(smiles)}
    roles.update({c: "categorical" for c in split_names(categorical)})
    roles.update({c: "numeric" for c in split_names(numeric)})
    missing = [c for c in [*roles, *split_names(ignore)] if c not in table.columns]
    if missing:
        raise InputError(f"{candidates}: no column(s) {missing}; its columns are "
                         f"{list(table.columns)}")
    target, targets = target_options(target, objective, table, roles)
    store = Store(db, create=True)  # exclusively: of two inits of one file, one gets an error
    try:
        campaign = Campaign(
            table, target=target, task=task, goal=goal, surrogate=surrogate,
            acquisition=acquisition, batch_size=batch_size, seed=seed, store=store,
            roles=roles, smiles_encoding=encoding, ignore=split_names(ignore), source=str(candidates),
            fingerprint={"morgan_radius": morgan_radius, "morgan_bits": morgan_bits,
                         "morgan_counts": morgan_counts},
            selection=selection, initial_design=initial, incumbent=incumbent, where=where,
            targets=targets, objective=objective, constraints=constraint or None,
        )
        for name in [target] if targets is None else list(targets):  # after the settings
            check_target(table, name, candidates)
        show(campaign.encoder.describe(), f"Columns of {candidates.name} (check the roles)")
        s = campaign.status()
    except BaseException:
        store.discard()  # removes the file this command created, never another one
        raise
    say(f"Created {db}: {s['candidates']} candidates, {what_is_optimised(s, target)}, "
         f"surrogate {s['surrogate']}, acquisition {s['acquisition']}, "
         f"{s['measured']} already measured.")
    say(f"Next: designloop suggest {db} -n {batch_size} -o next.csv")


@app.command()
def suggest(
    db: Annotated[Path | None, typer.Argument(help="Campaign file; omit for one-shot mode")] = None,
    n: Annotated[int | None, typer.Option("-n", "--n", help="How many experiments")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write the suggestions as CSV")] = None,
    candidates: Annotated[Path | None, typer.Option(help="One-shot: candidate CSV")] = None,
    results: Annotated[Path | None, typer.Option(help="One-shot: results so far (CSV)")] = None,
    target: Annotated[list[str] | None, typer.Option(help="One-shot: the measured column (one; several targets need a campaign file)")] = None,
    goal: Annotated[str, typer.Option(help="One-shot: explore | maximize | minimize (also maximise/max, minimise/min)")] = "explore",
    task: Annotated[str, typer.Option(help="One-shot: regression | classification")] = "regression",
    seed: Annotated[int, typer.Option(help="One-shot: seed")] = 0,
) -> None:
    """Suggest the next experiments (logged as pending until observed).

    Examples: designloop suggest lab.db -n 4 -o next.csv;
    one-shot, no campaign file: designloop suggest --candidates c.csv --results r.csv --target yield -n 4
    """
    check_output(output, (".csv",), db=db)
    if db is None:
        if candidates is None or not target:
            raise InputError("give a campaign file, or --candidates and --target for one-shot mode")
        table = read_table(candidates, "candidates")
        target = one_target(target, table)
        campaign = Campaign(table, target=target, task=task, goal=goal, seed=seed,
                            source=str(candidates))
        check_target(table, target, candidates)
        if results is not None:
            campaign.observe(read_table(results, "results"), source=str(results))
    else:
        if candidates or results or target:
            raise InputError("--candidates/--results/--target are for one-shot mode; the "
                             f"campaign in {db} already has them (use observe to add results)")
        campaign = open_campaign(db)
    with err.status("Fitting the surrogate and scoring candidates..."):
        picks = campaign.suggest(n)
    try:
        _deliver(campaign, picks, db, output)
    except BaseException:  # the suggestions did not reach the user: the log is as before
        campaign.store.discard_cycle(int(picks["cycle"].iloc[0]))
        raise


def _deliver(campaign: Campaign, picks: pd.DataFrame, db: Path | None,
             output: Path | None) -> None:
    """Show the suggestions, with their notes, and write them to `output`."""
    from designloop.campaign.pick_info import CONFORMAL_LEVEL, INTERVAL_MIN_RESULTS

    table = picks.copy()
    interval = f"{CONFORMAL_LEVEL:.0%} interval"
    if "interval_lo" in table:
        measured = len(campaign.store.observations())  # results with values
        missing = "n/a" + (f" (needs {INTERVAL_MIN_RESULTS} results)"
                           if measured < INTERVAL_MIN_RESULTS else "")
        table[interval] = [f"{fmt(lo)} to {fmt(hi)}" if np.isfinite(lo) and np.isfinite(hi)
                           else missing for lo, hi in zip(table.interval_lo, table.interval_hi,
                                                          strict=True)]
    if "p_improve" in table:
        table["p_improve"] = table["p_improve"].map(percent)
    # the experiment first (its id and conditions), then what the model says about it
    after = ["rank", "p_improve", "predicted_mean", "predicted_sd", interval, "prediction_set",
             *[c for c in table.columns if str(c).startswith("prob_")], "score", "ood_score"]
    shown = ["candidate_id", *[c for c in campaign.config.feature_columns if c in table],
             *[c for c in after if c in table]]
    show(table[shown], f"Suggestions, cycle {int(picks['cycle'].iloc[0])}",
          keep=shown.index("rank") + 1,
          elsewhere=f", or see {output}" if output else ", or write them all with -o next.csv")
    cycles = campaign.store.cycles()
    record = cycles.loc[cycles["cycle"] == int(picks["cycle"].iloc[0]), "record"].iloc[0]
    for warning in record.warnings:
        out.print(f"[bold yellow]warning:[/bold yellow] {escape(warning)}", emoji=False)
    flagged = picks.get("extrapolation")
    if flagged is not None and flagged.any():
        ids = picks.loc[flagged, "candidate_id"].tolist()
        say(f"note: candidate(s) {ids} lie outside what has been measured "
             f"(extrapolation by {record.ood_method}); their predictions are less certain")
    for key in ("reason", "encoding", "selection"):
        if getattr(record, key) is not None:
            why = f" ({record.encoding_reason})" if key == "encoding" and record.encoding_reason else ""
            say(f"{key}: {getattr(record, key)}{why}")
    if output is not None:
        write_frame(picks, output, "the suggestions were not logged")
        fill = "', '".join(campaign.config.targets or [campaign.config.target])
        say(f"Wrote {output}: fill in '{fill}', then "
             f"designloop observe {db or '<campaign>'} {output}")


@app.command()
def observe(
    db: Db,
    results: Annotated[Path, typer.Argument(help="CSV with the measured target")],
    replicates: Annotated[bool, typer.Option("--replicates", help="Also record rows that repeat a recorded measurement exactly (true replicates that came out identical)")] = False,
    feasible: Annotated[str | None, typer.Option("--feasible", metavar="COLUMN", help="A 0/1 column of the results: 0 marks an experiment that failed (gave nothing to measure)")] = None,
) -> None:
    """Record measured results (matched by candidate_id, or by the feature columns).

    An experiment that failed (gave nothing to measure) is recorded by writing failed in
    its target cell, or 0 in the column named by --feasible. Failed candidates are not
    suggested again, and once some experiments have failed and some worked, the picks are
    weighted by the chance of success.

    A row that repeats a recorded measurement exactly (same candidate, same value) is
    refused, so that a file observed twice is not counted twice; a new value for a measured
    candidate is kept as a replicate.

    Example: designloop observe lab.db next.csv
    """
    campaign = open_campaign(db)
    table = read_table(results, "results")
    count = campaign.observe(table, source=str(results), allow_replicates=replicates,
                             feasible=feasible)
    skipped = len(table) - count
    note = f"; {skipped} row(s) without a value left as they were" if skipped else ""
    say(f"Recorded {count} result(s) from {results}{note}.")
    _print_status(campaign)


def _print_status(campaign: Campaign) -> None:
    table = Table(show_header=False, box=None)
    for k, v in campaign.status().items():
        table.add_row(Text(str(k), style="bold"), Text(fmt(v)))
    out.print(table)


@app.command()
def status(db: Db) -> None:
    """Show the campaign: counts, pending suggestions, best so far, calibration.

    Example: designloop status lab.db
    """
    _print_status(open_campaign(db, readonly=True))


@app.command()
def history(
    db: Db,
    csv: Annotated[bool, typer.Option("--csv", help="Print CSV to standard output")] = False,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write CSV to a file")] = None,
    observations: Annotated[bool, typer.Option("--observations", help="List every measurement instead (with its observation id, and when it was retracted)")] = False,
) -> None:
    """Every suggestion of every cycle, with what came back.

    Example: designloop history lab.db --csv > history.csv
    """
    check_output(output, (".csv",), db=db)
    campaign = open_campaign(db, readonly=True)
    if observations:
        frame = campaign.observations(retracted=True)
        front = ["id", "candidate_id", *(["target", "value"] if campaign.config.targets
                                          else [campaign.config.target]),
                 "created_at", "source", "retracted_at", "reason"]
        frame = frame[front + [c for c in frame.columns if c not in front]]
    else:
        frame = campaign.history()
    if output is not None:
        write_frame(frame, output, "nothing was written")
        say(f"Wrote {output} ({len(frame)} rows)")
    elif csv:
        write_table(frame, sys.stdout)
    elif observations:
        show(frame, f"Measurements in {db}", max_rows=200)
    else:
        cols = ["cycle", "kind", "acquisition", "candidate_id", "rank", "score", "status"]
        extra = [c for c in frame.columns if c in ("measured_mean", "measured", "predicted_mean")
                 or c.startswith("measured_")]
        show(frame[cols + extra], f"History of {db}")
        gone = campaign.observations(retracted=True)
        gone = gone[gone["retracted_at"].notna()]
        for row in gone.to_dict("records"):
            why = f" ({row['reason']})" if row["reason"] else ""
            say(f"retracted at {row['retracted_at']}: observation {row['id']}, candidate "
                 f"{row['candidate_id']} = "
                 f"{row['value' if campaign.config.targets else campaign.config.target]} from "
                 f"{row['source']}{why}")


@app.command()
def release(
    db: Db,
    ids: Annotated[str | None, typer.Option(help="Comma-separated candidate ids (default: all)")] = None,
) -> None:
    """Release pending suggestions so they can be suggested again.

    Example: designloop release lab.db --ids 12,40
    """
    campaign = open_campaign(db)
    chosen = None
    if ids is not None:  # an empty --ids (an empty shell variable) never means all
        try:
            chosen = [int(i) for i in split_names(ids)]
        except ValueError:
            raise InputError(f"--ids must be whole numbers separated by commas, got {ids!r}") from None
        if not chosen:
            raise InputError(f"--ids needs at least one candidate id, got {ids!r}; leave "
                             "--ids out to release every pending suggestion")
    say(f"Released {campaign.release(chosen)} pending suggestion(s).")


@app.command()
def forget(
    db: Db,
    ids: Annotated[str | None, typer.Option("--id", "--ids", help="Comma-separated candidate ids (as in the suggestions): every measurement of these candidates")] = None,
    observation: Annotated[str | None, typer.Option("--observation", help="Comma-separated observation ids (the id column of: designloop history DB --observations): single measurements")] = None,
    reason: Annotated[str, typer.Option(help="Why, kept in the log")] = "",
) -> None:
    """Retract wrong measurements: they stay in the campaign file, marked retracted with the
    time and reason, and no longer count (history lists them).

    --id takes candidate ids and retracts every measurement of those candidates;
    --observation takes observation ids and retracts single measurements (one replicate).

    Example: designloop forget lab.db --id 12 --reason "wrong vial"
    """
    campaign = open_campaign(db)
    if (ids is None) == (observation is None):
        raise InputError("give --id CANDIDATE_IDS or --observation OBSERVATION_IDS (one of the two)")
    text = ids if ids is not None else observation
    what = "--id" if ids is not None else "--observation"
    try:
        chosen = [int(i) for i in split_names(text)]
    except ValueError:
        raise InputError(f"{what} must be whole numbers separated by commas, got {text!r}") from None
    if ids is not None:
        count = campaign.forget(candidate_ids=chosen, reason=reason)
    else:
        count = campaign.forget(observation_ids=chosen, reason=reason)
    say(f"Retracted {count} measurement(s); they stay in {db}, marked retracted.")
    _print_status(campaign)


@app.command()
def report(
    db: Db,
    output: Annotated[Path, typer.Option("-o", "--output", help="HTML file to write")] = Path("report.html"),
) -> None:
    """Write the campaign report: progress, calibration, latest suggestions, map, log.

    Example: designloop report lab.db -o report.html
    """
    check_output(output, (".html", ".htm"), db=db)
    campaign = open_campaign(db, readonly=True)
    with err.status("Building the report..."):
        campaign.report(output)
    say(f"Wrote {output}")


@app.command()
def acquisitions() -> None:
    """List the acquisition functions with their meaning.

    Example: designloop acquisitions
    """
    table = Table(header_style="bold")
    table.add_column("name")
    table.add_column("meaning")
    for name, meaning in registry.MEANINGS.items():
        table.add_row(name.replace("_", "-"), Text(meaning))
    out.print(table)
