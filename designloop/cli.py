"""The `designloop` command: a thin layer over Campaign for people with CSV files.

Every user mistake is printed as one line, `error: ...`, with exit status 2, and nothing is
written.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from designloop import acquisition as acq
from designloop.campaign import Campaign
from designloop.errors import DesignloopError, InputError
from designloop.io import read_table
from designloop.names import spelled
from designloop.store import Store

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


def _show(df: pd.DataFrame, title: str, max_rows: int = 30) -> None:
    table = Table(title=title, show_lines=False, header_style="bold")
    for col in df.columns:
        table.add_column(str(col), overflow="fold", min_width=min(len(str(col)), 12))
    for _, row in df.head(max_rows).iterrows():
        table.add_row(*[_fmt(v) for v in row])
    out.print(table)
    if len(df) > max_rows:
        out.print(f"... {len(df) - max_rows} more rows")


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, float | np.floating):
        return f"{v:.4g}"
    text = str(v)
    return text if len(text) <= 24 else text[:23] + "…"


def _open(db: Path) -> Campaign:
    if not db.exists():
        raise InputError(f"campaign file {db} does not exist; create it with: designloop init {db}"
                         " --candidates FILE --target COLUMN")
    return Campaign.open(Store(db))


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
    surrogate: Annotated[str | None, typer.Option(help="gp | gp_classifier | ensemble | mc_dropout | forest | auto (classification default: chosen by cross-validation)")] = None,
    acquisition: Annotated[str | None, typer.Option(help="See: designloop acquisitions (short names: ei, log-ei, pi, ucb, variance, ...)")] = None,
    encoding: Annotated[str, typer.Option(help="SMILES encoding: auto | onehot | morgan | descriptors")] = "auto",
    morgan_radius: Annotated[int, typer.Option(help="Morgan fingerprint radius")] = 2,
    morgan_bits: Annotated[int, typer.Option(help="Morgan fingerprint length")] = 1024,
    morgan_counts: Annotated[bool, typer.Option(help="Count fingerprints (MinMax kernel) instead of bits")] = False,
    batch_size: Annotated[int, typer.Option("--batch-size", "-n", help="Suggestions per cycle")] = 1,
    selection: Annotated[str, typer.Option(help="Batch selection: auto | top_k | greedy | kriging_believer | qlognei | qucb | batch_bald | diverse | density")] = "auto",
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
    try:
        campaign = Campaign(
            table, target=target, task=task, goal=goal, surrogate=surrogate,
            acquisition=acquisition, batch_size=batch_size, seed=seed, store=Store(db),
            roles=roles, smiles_encoding=encoding, ignore=_columns(ignore), source=str(candidates),
            fingerprint={"morgan_radius": morgan_radius, "morgan_bits": morgan_bits,
                         "morgan_counts": morgan_counts},
            selection=selection, initial_design=initial, incumbent=incumbent,
        )
    except BaseException:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        raise
    _show(campaign.encoder.describe(), f"Columns of {candidates.name} (check the roles)")
    s = campaign.status()
    out.print(f"Created {db}: {s['candidates']} candidates, target '{target}' ({s['task']}, {s['goal']}), "
              f"surrogate {s['surrogate']}, acquisition {s['acquisition']}, "
              f"{s['measured']} already measured.")
    out.print(f"Next: designloop suggest {db} -n {batch_size} -o next.csv")


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
    if db is None:
        if candidates is None or target is None:
            raise InputError("give a campaign file, or --candidates and --target for one-shot mode")
        campaign = Campaign(read_table(candidates, "candidates"), target=target, task=task,
                            goal=goal, seed=seed, source=str(candidates))
        if results is not None:
            campaign.observe(read_table(results, "results"), source=str(results))
    else:
        if candidates or results or target:
            raise InputError("--candidates/--results/--target are for one-shot mode; the "
                             f"campaign in {db} already has them (use observe to add results)")
        campaign = _open(db)
    with err.status("Fitting the surrogate and scoring candidates..."):
        picks = campaign.suggest(n)
    first = ["candidate_id", "rank", "score", "predicted_mean", "predicted_sd", "interval_lo",
             "interval_hi", "prediction_set", "ood_score",
             *[c for c in picks.columns if c.startswith("prob_")]]
    shown = [c for c in first if c in picks.columns] + [
        c for c in campaign.config.feature_columns if c in picks.columns]
    _show(picks[shown], f"Suggestions, cycle {int(picks['cycle'].iloc[0])}")
    info = campaign.store.cycles().iloc[-1]["info"]
    for warning in info.get("warnings", []):
        out.print(f"[bold yellow]warning:[/bold yellow] {warning}")
    flagged = picks.get("extrapolation")
    if flagged is not None and flagged.any():
        ids = picks.loc[flagged, "candidate_id"].tolist()
        out.print(f"note: candidate(s) {ids} lie outside what has been measured "
                  f"(extrapolation by {info.get('ood_method')}); their predictions are less certain")
    for key in ("reason", "encoding", "selection"):
        if key in info:
            why = f" ({info['encoding_reason']})" if key == "encoding" and "encoding_reason" in info else ""
            out.print(f"{key}: {info[key]}{why}")
    if output is not None:
        picks.to_csv(output, index=False)
        out.print(f"Wrote {output}: fill in '{campaign.config.target}', then "
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
    out.print(f"Recorded {count} result(s) from {results}{note}.")
    _print_status(campaign)


def _print_status(campaign: Campaign) -> None:
    table = Table(show_header=False, box=None)
    for k, v in campaign.status().items():
        table.add_row(f"[bold]{k}[/bold]", _fmt(v))
    out.print(table)


@app.command()
def status(db: Db) -> None:
    """Show the campaign: counts, pending suggestions, best so far, calibration.

    Example: designloop status lab.db
    """
    _print_status(_open(db))


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
    campaign = _open(db)
    if observations:
        frame = campaign.observations(retracted=True)
        front = ["id", "candidate_id", campaign.config.target, "created_at", "source",
                 "retracted_at", "reason"]
        frame = frame[front + [c for c in frame.columns if c not in front]]
    else:
        frame = campaign.history()
    if output is not None:
        frame.to_csv(output, index=False)
        out.print(f"Wrote {output} ({len(frame)} rows)")
    elif csv:
        frame.to_csv(sys.stdout, index=False)
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
            out.print(f"retracted at {row['retracted_at']}: observation {row['id']}, candidate "
                      f"{row['candidate_id']} = {row[campaign.config.target]} from "
                      f"{row['source']}{why}", highlight=False)


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
    if ids:
        try:
            chosen = [int(i) for i in _columns(ids)]
        except ValueError:
            raise InputError(f"--ids must be whole numbers separated by commas, got {ids!r}") from None
    out.print(f"Released {campaign.release(chosen)} pending suggestion(s).")


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
    out.print(f"Retracted {count} measurement(s); they stay in {db}, marked retracted.")
    _print_status(campaign)


@app.command()
def benchmark(
    problem: Annotated[str | None, typer.Option(help="Problem name (see --help of designloop.problems) e.g. hartmann6, suzuki, breast_cancer")] = None,
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
    from designloop.problems import make_problem, problem_from_csv
    from designloop.simulate import simulate
    from designloop.summary import plot_curves, summarize

    if (problem is None) == (lookup is None):
        raise InputError("give either --problem NAME or --lookup FILE.csv --target COLUMN")
    if lookup is not None:
        if target is None:
            raise InputError("--lookup needs --target, the measured column")
        task = spelled(task)
        if task not in ("regression", "classification"):
            raise InputError(f"--task must be regression or classification, got {task!r}")
        prob = problem_from_csv(lookup, target, "explore" if task == "classification" else goal,
                                task)
    else:
        params = {"n_candidates": n_candidates, "noise_std": noise} if problem.lower().startswith(
            ("branin", "hartmann", "ackley", "levy", "rosenbrock")) else (
            {"n_candidates": n_candidates} if problem.lower() in ("moons", "circles") else {})
        prob = make_problem(problem, **params)
    if output is not None and output.suffix not in (".csv", ".parquet"):
        raise InputError(f"--output must end in .csv or .parquet, got {output}")
    client = None
    executor = None
    if scheduler:
        from dask.distributed import Client

        client = Client(scheduler)
        executor = client.get_executor()
    try:
        results = simulate(prob, strategies, seeds=seeds, budget=budget, batch_size=batch_size,
                           n_initial=n_initial, executor=executor, n_jobs=n_jobs, output=output,
                           progress=True)
    finally:
        if client is not None:
            client.close()
    table = summarize(results, metric)
    rich_table = Table(title=f"{prob.name}: {table.attrs['metric']} after {budget} experiments, "
                             f"{seeds} seeds", header_style="bold")
    for col in ("strategy", "final (mean +- sd)", "area under curve (mean +- sd)", ""):
        rich_table.add_column(col)
    for _, row in table.iterrows():
        rich_table.add_row(row["strategy"], f"{row['final_mean']:.4g} +- {row['final_sd']:.2g}",
                           f"{row['auc_mean']:.4g} +- {row['auc_sd']:.2g}",
                           "[bold green]winner[/bold green]" if row["winner"] else "")
    out.print(rich_table)
    if output is not None:
        out.print(f"Wrote {output} ({len(results)} rows)")
    if plot is not None:
        plot_curves(results, table.attrs["metric"], title=prob.name).savefig(plot)
        out.print(f"Saved {plot}")


@app.command()
def report(
    db: Db,
    output: Annotated[Path, typer.Option("-o", "--output", help="HTML file to write")] = Path("report.html"),
) -> None:
    """Write the campaign report: progress, calibration, latest suggestions, map, log.

    Example: designloop report lab.db -o report.html
    """
    campaign = _open(db)
    with err.status("Building the report..."):
        campaign.report(output)
    out.print(f"Wrote {output}")


@app.command()
def acquisitions() -> None:
    """List the acquisition functions with their meaning.

    Example: designloop acquisitions
    """
    table = Table(header_style="bold")
    table.add_column("name")
    table.add_column("meaning")
    for name in acq.ACQUISITIONS:
        table.add_row(name.replace("_", "-"), acq.describe(name))
    out.print(table)


def main() -> None:
    """Entry point: run the app, turning designloop errors into one line and exit 2."""
    try:
        app(standalone_mode=False)
    except DesignloopError as exc:
        # escaped: a message such as "pip install 'designloop[chem]'" is not rich markup
        err.print(f"[bold red]error:[/bold red] {escape(str(exc))}", highlight=False,
                  soft_wrap=True)
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
