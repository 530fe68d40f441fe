"""The `designloop` command: a thin layer over Campaign for people with CSV files.

Every user mistake is printed as one line, `error: ...`, with exit status 2, and nothing is
written.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from designloop import registry
from designloop.campaign.campaign import Campaign
from designloop.campaign.io import read_table, write_table
from designloop.campaign.store import Store
from designloop.errors import DesignloopError, InputError
from designloop.names import spelled

app = typer.Typer(
    add_completion=False, no_args_is_help=True, rich_markup_mode="rich",
    help="Choose the next experiments. Typical loop:\n\n"
         "  designloop init lab.db --candidates candidates.csv --target yield --goal maximize\n\n"
         "  designloop suggest lab.db -n 4 -o next.csv   (run them, fill in the yield column)\n\n"
         "  designloop observe lab.db next.csv\n\n"
         "  designloop status lab.db",
)
out = Console()
err = Console(stderr=True)

Db = Annotated[Path, typer.Argument(help="Campaign file (SQLite), e.g. lab.db")]


def _columns(text: str | None) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()] if text else []


def _say(text: str) -> None:
    """Print a message of plain text: brackets in names, SMILES and paths stay as written."""
    out.print(text, markup=False, emoji=False)


def _show(df: pd.DataFrame, title: str, max_rows: int = 30, keep: int | None = None,
          elsewhere: str = "") -> None:
    """Print `df` as a table; with `keep`, the columns after the first `keep` that do not fit
    the terminal's width are left out, from the right, and named below the table with where
    else to see them (`elsewhere`)."""
    cells = {col: [_fmt(v) for v in df[col].head(max_rows)] for col in df.columns}
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
        _say(f"(too narrow to show {', '.join(map(str, hidden))}: widen the terminal"
             f"{elsewhere})")


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, float | np.floating):
        return f"{v:.4g}"
    text = str(v)
    return text if len(text) <= 24 else text[:23] + "…"


IMAGE_SUFFIXES = (".png", ".pdf", ".svg", ".svgz", ".jpg", ".jpeg", ".tif", ".tiff", ".eps",
                  ".ps")


def _check_output(path: Path | None, suffixes: tuple[str, ...], option: str = "-o",
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


def _write(frame: pd.DataFrame, path: Path, what: str) -> None:
    """Write `frame` as CSV to `path`; a failure to write is one line naming the file."""
    try:
        write_table(frame, path)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}; {what}") from None


def _check_target(table: pd.DataFrame, target: str, path: Path) -> None:
    """Refuse a candidate table whose `target` column is filled in on every row: nothing
    would be left to suggest, and such a column is most likely a feature given as the
    target by mistake."""
    if target not in table.columns:
        return
    values = table[target]
    if (values.notna() & values.astype(str).str.strip().ne("")).all():
        raise InputError(
            f"{path}: the target column '{target}' is filled in on every row ({len(table)} "
            f"candidates), so nothing is left to suggest; if '{target}' is a feature, give "
            "the column the lab measures with --target (a new name is added as an empty "
            "column)")


def _percent(p: float) -> str:
    """A probability as a whole percentage ("<1%" and ">99%" at the ends, never 0 or 100)."""
    if p is None or np.isnan(p):
        return ""
    return "<1%" if 0 < p < 0.005 else ">99%" if 0.995 <= p < 1 else f"{p:.0%}"


def _open(db: Path, readonly: bool = False) -> Campaign:
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
    target: Annotated[str, typer.Option("--target", "-t", help="Column the lab measures")],
    goal: Annotated[str, typer.Option(help="explore | maximize | minimize (also maximise/max, minimise/min)")] = "explore",
    task: Annotated[str, typer.Option(help="regression | classification")] = "regression",
    smiles: Annotated[str | None, typer.Option(help="Comma-separated SMILES columns (else inferred)")] = None,
    categorical: Annotated[str | None, typer.Option(help="Comma-separated categorical columns")] = None,
    numeric: Annotated[str | None, typer.Option(help="Comma-separated numeric columns")] = None,
    ignore: Annotated[str | None, typer.Option(help="Comma-separated columns that are not features")] = None,
    surrogate: Annotated[str | None, typer.Option(help=_SURROGATE_HELP)] = None,
    acquisition: Annotated[str | None, typer.Option(help="See: designloop acquisitions (short names: ei, log-ei, pi, ucb, variance, ...)")] = None,
    encoding: Annotated[str, typer.Option(help="SMILES encoding: auto | onehot | morgan | descriptors")] = "auto",
    morgan_radius: Annotated[int, typer.Option(help="Morgan fingerprint radius")] = 2,
    morgan_bits: Annotated[int, typer.Option(help="Morgan fingerprint length")] = 1024,
    morgan_counts: Annotated[bool, typer.Option(help="Count fingerprints (MinMax kernel) instead of bits")] = False,
    batch_size: Annotated[int, typer.Option("--batch-size", "-n", help="Suggestions per cycle")] = 1,
    selection: Annotated[str, typer.Option(help=_SELECTION_HELP)] = "auto",
    initial: Annotated[str | None, typer.Option(help="Initial design: random | maximin | kmeans (default: random to optimise, kmeans to explore or classify)")] = None,
    incumbent: Annotated[str, typer.Option(help="Best so far for EI/PI: posterior (the model's best mean at the measured candidates) | observed (the best measured value)")] = "posterior",
    seed: Annotated[int, typer.Option(help="Same seed, same suggestions")] = 0,
) -> None:
    """Create a campaign file from a candidate table.

    Example: designloop init lab.db --candidates reactions.csv --target yield --goal maximize
    """
    if db.exists():
        raise InputError(f"{db} already exists; choose a new file name or continue it with "
                         f"designloop suggest {db}")
    table = read_table(candidates, "candidates")
    roles = {c: "smiles" for c in _columns(smiles)}
    roles.update({c: "categorical" for c in _columns(categorical)})
    roles.update({c: "numeric" for c in _columns(numeric)})
    missing = [c for c in [*roles, *_columns(ignore)] if c not in table.columns]
    if missing:
        raise InputError(f"{candidates}: no column(s) {missing}; its columns are "
                         f"{list(table.columns)}")
    if target not in table.columns and target in roles:
        raise InputError(f"--target {target} is also given a feature role")
    store = Store(db, create=True)  # exclusively: of two inits of one file, one gets an error
    try:
        campaign = Campaign(
            table, target=target, task=task, goal=goal, surrogate=surrogate,
            acquisition=acquisition, batch_size=batch_size, seed=seed, store=store,
            roles=roles, smiles_encoding=encoding, ignore=_columns(ignore), source=str(candidates),
            fingerprint={"morgan_radius": morgan_radius, "morgan_bits": morgan_bits,
                         "morgan_counts": morgan_counts},
            selection=selection, initial_design=initial, incumbent=incumbent,
        )
        _check_target(table, target, candidates)  # after the settings and values are checked
        _show(campaign.encoder.describe(), f"Columns of {candidates.name} (check the roles)")
        s = campaign.status()
    except BaseException:
        store.discard()  # removes the file this command created, never another one
        raise
    _say(f"Created {db}: {s['candidates']} candidates, target '{target}' ({s['task']}, {s['goal']}), "
         f"surrogate {s['surrogate']}, acquisition {s['acquisition']}, "
         f"{s['measured']} already measured.")
    _say(f"Next: designloop suggest {db} -n {batch_size} -o next.csv")


@app.command()
def suggest(
    db: Annotated[Path | None, typer.Argument(help="Campaign file; omit for one-shot mode")] = None,
    n: Annotated[int | None, typer.Option("-n", "--n", help="How many experiments")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write the suggestions as CSV")] = None,
    candidates: Annotated[Path | None, typer.Option(help="One-shot: candidate CSV")] = None,
    results: Annotated[Path | None, typer.Option(help="One-shot: results so far (CSV)")] = None,
    target: Annotated[str | None, typer.Option(help="One-shot: the measured column")] = None,
    goal: Annotated[str, typer.Option(help="One-shot: explore | maximize | minimize (also maximise/max, minimise/min)")] = "explore",
    task: Annotated[str, typer.Option(help="One-shot: regression | classification")] = "regression",
    seed: Annotated[int, typer.Option(help="One-shot: seed")] = 0,
) -> None:
    """Suggest the next experiments (logged as pending until observed).

    Examples: designloop suggest lab.db -n 4 -o next.csv;
    one-shot, no campaign file: designloop suggest --candidates c.csv --results r.csv --target yield -n 4
    """
    _check_output(output, (".csv",), db=db)
    if db is None:
        if candidates is None or target is None:
            raise InputError("give a campaign file, or --candidates and --target for one-shot mode")
        table = read_table(candidates, "candidates")
        campaign = Campaign(table, target=target, task=task, goal=goal, seed=seed,
                            source=str(candidates))
        _check_target(table, target, candidates)
        if results is not None:
            campaign.observe(read_table(results, "results"), source=str(results))
    else:
        if candidates or results or target:
            raise InputError("--candidates/--results/--target are for one-shot mode; the "
                             f"campaign in {db} already has them (use observe to add results)")
        campaign = _open(db)
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
    from designloop.campaign.modelling import CONFORMAL_LEVEL, INTERVAL_MIN_RESULTS

    table = picks.copy()
    interval = f"{CONFORMAL_LEVEL:.0%} interval"
    if "interval_lo" in table:
        measured = len(campaign.store.observations())
        missing = "n/a" + (f" (needs {INTERVAL_MIN_RESULTS} results)"
                           if measured < INTERVAL_MIN_RESULTS else "")
        table[interval] = [f"{_fmt(lo)} to {_fmt(hi)}" if np.isfinite(lo) and np.isfinite(hi)
                           else missing for lo, hi in zip(table.interval_lo, table.interval_hi,
                                                          strict=True)]
    if "p_improve" in table:
        table["p_improve"] = table["p_improve"].map(_percent)
    # the experiment first (its id and conditions), then what the model says about it
    after = ["rank", "p_improve", "predicted_mean", "predicted_sd", interval, "prediction_set",
             *[c for c in table.columns if str(c).startswith("prob_")], "score", "ood_score"]
    shown = ["candidate_id", *[c for c in campaign.config.feature_columns if c in table],
             *[c for c in after if c in table]]
    _show(table[shown], f"Suggestions, cycle {int(picks['cycle'].iloc[0])}",
          keep=shown.index("rank") + 1,
          elsewhere=f", or see {output}" if output else ", or write them all with -o next.csv")
    cycles = campaign.store.cycles()
    record = cycles.loc[cycles["cycle"] == int(picks["cycle"].iloc[0]), "record"].iloc[0]
    for warning in record.warnings:
        out.print(f"[bold yellow]warning:[/bold yellow] {escape(warning)}", emoji=False)
    flagged = picks.get("extrapolation")
    if flagged is not None and flagged.any():
        ids = picks.loc[flagged, "candidate_id"].tolist()
        _say(f"note: candidate(s) {ids} lie outside what has been measured "
             f"(extrapolation by {record.ood_method}); their predictions are less certain")
    for key in ("reason", "encoding", "selection"):
        if getattr(record, key) is not None:
            why = f" ({record.encoding_reason})" if key == "encoding" and record.encoding_reason else ""
            _say(f"{key}: {getattr(record, key)}{why}")
    if output is not None:
        _write(picks, output, "the suggestions were not logged")
        _say(f"Wrote {output}: fill in '{campaign.config.target}', then "
             f"designloop observe {db or '<campaign>'} {output}")


@app.command()
def observe(
    db: Db,
    results: Annotated[Path, typer.Argument(help="CSV with the measured target")],
    replicates: Annotated[bool, typer.Option("--replicates", help="Also record rows that repeat a recorded measurement exactly (true replicates that came out identical)")] = False,
) -> None:
    """Record measured results (matched by candidate_id, or by the feature columns).

    A row that repeats a recorded measurement exactly (same candidate, same value) is
    refused, so that a file observed twice is not counted twice; a new value for a measured
    candidate is kept as a replicate.

    Example: designloop observe lab.db next.csv
    """
    campaign = _open(db)
    table = read_table(results, "results")
    count = campaign.observe(table, source=str(results), allow_replicates=replicates)
    skipped = len(table) - count
    note = f"; {skipped} row(s) without a value left as they were" if skipped else ""
    _say(f"Recorded {count} result(s) from {results}{note}.")
    _print_status(campaign)


def _print_status(campaign: Campaign) -> None:
    table = Table(show_header=False, box=None)
    for k, v in campaign.status().items():
        table.add_row(Text(str(k), style="bold"), Text(_fmt(v)))
    out.print(table)


@app.command()
def status(db: Db) -> None:
    """Show the campaign: counts, pending suggestions, best so far, calibration.

    Example: designloop status lab.db
    """
    _print_status(_open(db, readonly=True))


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
    _check_output(output, (".csv",), db=db)
    campaign = _open(db, readonly=True)
    if observations:
        frame = campaign.observations(retracted=True)
        front = ["id", "candidate_id", campaign.config.target, "created_at", "source",
                 "retracted_at", "reason"]
        frame = frame[front + [c for c in frame.columns if c not in front]]
    else:
        frame = campaign.history()
    if output is not None:
        _write(frame, output, "nothing was written")
        _say(f"Wrote {output} ({len(frame)} rows)")
    elif csv:
        write_table(frame, sys.stdout)
    elif observations:
        _show(frame, f"Measurements in {db}", max_rows=200)
    else:
        cols = ["cycle", "kind", "acquisition", "candidate_id", "rank", "score", "status"]
        extra = [c for c in frame.columns if c in ("measured_mean", "measured", "predicted_mean")]
        _show(frame[cols + extra], f"History of {db}")
        gone = campaign.observations(retracted=True)
        gone = gone[gone["retracted_at"].notna()]
        for row in gone.to_dict("records"):
            why = f" ({row['reason']})" if row["reason"] else ""
            _say(f"retracted at {row['retracted_at']}: observation {row['id']}, candidate "
                 f"{row['candidate_id']} = {row[campaign.config.target]} from "
                 f"{row['source']}{why}")


@app.command()
def release(
    db: Db,
    ids: Annotated[str | None, typer.Option(help="Comma-separated candidate ids (default: all)")] = None,
) -> None:
    """Release pending suggestions so they can be suggested again.

    Example: designloop release lab.db --ids 12,40
    """
    campaign = _open(db)
    chosen = None
    if ids is not None:  # an empty --ids (an empty shell variable) never means all
        try:
            chosen = [int(i) for i in _columns(ids)]
        except ValueError:
            raise InputError(f"--ids must be whole numbers separated by commas, got {ids!r}") from None
        if not chosen:
            raise InputError(f"--ids needs at least one candidate id, got {ids!r}; leave "
                             "--ids out to release every pending suggestion")
    _say(f"Released {campaign.release(chosen)} pending suggestion(s).")


def _dask_client(address: str):
    """A Dask client connected to the scheduler at `address`; InputError in one line when
    Dask is missing or the scheduler cannot be reached (within Dask's connect timeout,
    `distributed.comm.timeouts.connect`)."""
    try:
        from dask.distributed import Client
    except ImportError:
        raise InputError("--scheduler needs Dask: pip install 'designloop[dask]'") from None
    try:
        client = Client(address)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot reach the Dask scheduler at {address} ({exc}); start one with "
                         f"'dask scheduler' and workers with 'dask worker {address}', or check "
                         "the address") from None
    if not client.scheduler_info().get("workers"):
        err.print(f"note: no workers have joined the scheduler at {address} yet; the runs start "
                  f"when one does (start one with: dask worker {address})", highlight=False)
    return client


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
    campaign = _open(db)
    if (ids is None) == (observation is None):
        raise InputError("give --id CANDIDATE_IDS or --observation OBSERVATION_IDS (one of the two)")
    text = ids if ids is not None else observation
    what = "--id" if ids is not None else "--observation"
    try:
        chosen = [int(i) for i in _columns(text)]
    except ValueError:
        raise InputError(f"{what} must be whole numbers separated by commas, got {text!r}") from None
    if ids is not None:
        count = campaign.forget(candidate_ids=chosen, reason=reason)
    else:
        count = campaign.forget(observation_ids=chosen, reason=reason)
    _say(f"Retracted {count} measurement(s); they stay in {db}, marked retracted.")
    _print_status(campaign)


@app.command()
def benchmark(
    problem: Annotated[str | None, typer.Option(help="Problem name (see --help of designloop.bench.problems) e.g. hartmann6, suzuki, breast_cancer")] = None,
    strategies: Annotated[str, typer.Option(help="Comma-separated: acquisition, acquisition@surrogate or acquisition@surrogate/selection, e.g. random,max-variance,ei")] = "random,ei",
    seeds: Annotated[int, typer.Option(help="Number of seeds per strategy")] = 5,
    budget: Annotated[int, typer.Option(help="Measurements per campaign")] = 30,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Experiments per cycle")] = 1,
    n_initial: Annotated[int | None, typer.Option("--n-initial", help="Initial design size")] = None,
    n_candidates: Annotated[int, typer.Option("--n-candidates", help="Pool size for test functions and synthetic sets")] = 2000,
    noise: Annotated[float, typer.Option(help="Observation noise sd for test functions")] = 0.0,
    lookup: Annotated[Path | None, typer.Option(help="Your own CSV as a lookup table")] = None,
    target: Annotated[str | None, typer.Option(help="With --lookup: the measured column")] = None,
    goal: Annotated[str, typer.Option(help="With --lookup: maximize | minimize (also maximise/max, minimise/min)")] = "maximize",
    task: Annotated[str, typer.Option(help="With --lookup: regression | classification")] = "regression",
    n_jobs: Annotated[int, typer.Option("--n-jobs", help="Local processes")] = 1,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address, e.g. tcp://10.0.0.5:8786")] = None,
    metric: Annotated[str | None, typer.Option(help="Metric to summarise (default: by problem)")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="results.csv (resumable) or .parquet")] = None,
    plot: Annotated[Path | None, typer.Option(help="Save learning curves as PNG")] = None,
) -> None:
    """Compare strategies on a benchmark problem over many seeds.

    Example: designloop benchmark --problem hartmann6 --strategies random,max-variance,ei --seeds 10 --budget 50 --batch-size 4 --n-jobs 2 -o results.csv --plot curves.png
    """
    from designloop.bench.simulate import simulate
    from designloop.bench.summary import MODEL_METRICS, metrics_for, plot_curves, summarize

    _check_output(output, (".csv", ".parquet"))
    _check_output(plot, IMAGE_SUFFIXES, "--plot")
    prob = _benchmark_problem(problem, lookup, target, goal, task, n_candidates, noise)
    score_model = None  # simulate's default: the surrogate is scored when exploring
    if metric is not None:
        reported = metrics_for(prob.task, prob.goal)
        if metric not in reported:
            raise InputError(f"--metric {metric} is not reported for {prob.name} ({prob.task}, "
                             f"goal {prob.goal}); choose one of {', '.join(reported)}")
        score_model = True if metric in MODEL_METRICS[prob.task] else None
    client = None
    executor = None
    if scheduler:
        client = _dask_client(scheduler)
        executor = client.get_executor()
    try:
        results = simulate(prob, strategies, seeds=seeds, budget=budget, batch_size=batch_size,
                           n_initial=n_initial, executor=executor, n_jobs=n_jobs, output=output,
                           metrics=score_model, progress=True)
    finally:
        if client is not None:
            client.close()
    table = summarize(results, metric)
    out.print(_summary_table(table, f"{prob.name}: {table.attrs['metric']} after {budget} "
                                    f"experiments, {seeds} seeds"))
    if output is not None:
        _say(f"Wrote {output} ({len(results)} rows)")
    if plot is not None:
        plot_curves(results, table.attrs["metric"], title=prob.name).savefig(plot)
        _say(f"Saved {plot}")


def _benchmark_problem(problem, lookup, target, goal, task, n_candidates, noise):
    """The problem of `designloop benchmark`: a named one or the user's lookup table."""
    from designloop.bench.problems import make_problem, problem_from_csv

    if (problem is None) == (lookup is None):
        raise InputError("give either --problem NAME or --lookup FILE.csv --target COLUMN")
    if lookup is not None:
        if target is None:
            raise InputError("--lookup needs --target, the measured column")
        task = spelled(task)
        if task not in ("regression", "classification"):
            raise InputError(f"--task must be regression or classification, got {task!r}")
        return problem_from_csv(lookup, target,
                                "explore" if task == "classification" else goal, task)
    params = {"n_candidates": n_candidates, "noise_std": noise} if problem.lower().startswith(
        ("branin", "hartmann", "ackley", "levy", "rosenbrock")) else (
        {"n_candidates": n_candidates} if problem.lower() in ("moons", "circles") else {})
    return make_problem(problem, **params)


def _summary_table(table: pd.DataFrame, title: str) -> Table:
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


@app.command()
def report(
    db: Db,
    output: Annotated[Path, typer.Option("-o", "--output", help="HTML file to write")] = Path("report.html"),
) -> None:
    """Write the campaign report: progress, calibration, latest suggestions, map, log.

    Example: designloop report lab.db -o report.html
    """
    _check_output(output, (".html", ".htm"), db=db)
    campaign = _open(db, readonly=True)
    with err.status("Building the report..."):
        campaign.report(output)
    _say(f"Wrote {output}")


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


if __name__ == "__main__":
    main()
