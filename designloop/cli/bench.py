"""The benchmark command: many strategies x seeds on a problem or the user's own table,
on local processes or a Dask cluster."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from designloop.cli.app import app
from designloop.cli.output import IMAGE_SUFFIXES, check_output, err, out, say, summary_table
from designloop.errors import InputError
from designloop.names import spelled


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
def benchmark(
    problem: Annotated[str | None, typer.Option(help="Problem name (see --help of designloop.bench.problems) e.g. hartmann6, suzuki, breast_cancer")] = None,
    strategies: Annotated[str | None, typer.Option(help="Comma-separated: acquisition, acquisition@surrogate or acquisition@surrogate/selection, e.g. random,max-variance,ei (default random,ei; for several targets default,random)")] = None,
    seeds: Annotated[int, typer.Option(help="Number of seeds per strategy")] = 5,
    budget: Annotated[int, typer.Option(help="Measurements per campaign")] = 30,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Experiments per cycle")] = 1,
    n_initial: Annotated[int | None, typer.Option("--n-initial", help="Initial design size")] = None,
    n_candidates: Annotated[int, typer.Option("--n-candidates", help="Pool size for test functions and synthetic sets")] = 2000,
    noise: Annotated[float, typer.Option(help="Observation noise sd for test functions")] = 0.0,
    lookup: Annotated[Path | None, typer.Option(help="Your own CSV as a lookup table")] = None,
    target: Annotated[list[str] | None, typer.Option(help="With --lookup: the measured column; for several targets repeat it as NAME:max / NAME:min (strategies: default, pareto, desirability, random)")] = None,
    goal: Annotated[str, typer.Option(help="With --lookup: maximize | minimize (also maximise/max, minimise/min)")] = "maximize",
    task: Annotated[str, typer.Option(help="With --lookup: regression | classification")] = "regression",
    fail_below: Annotated[float | None, typer.Option("--fail-below", help="Experiments whose true value is below this fail (the oracle answers 'failed'), e.g. 0.05 for yields under 5% given as fractions")] = None,
    n_jobs: Annotated[int, typer.Option("--n-jobs", help="Local processes")] = 1,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address, e.g. tcp://10.0.0.5:8786")] = None,
    metric: Annotated[str | None, typer.Option(help="Metric to summarise (default: by problem)")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="results.csv (resumable) or .parquet")] = None,
    plot: Annotated[Path | None, typer.Option(help="Save learning curves as PNG")] = None,
) -> None:
    """Compare strategies on a benchmark problem over many seeds.

    Example: designloop benchmark --problem hartmann6 --strategies random,max-variance,ei --seeds 10 --budget 50 --batch-size 4 --n-jobs 2 -o results.csv --plot curves.png

    Several targets: designloop benchmark --lookup reactions.csv --target yld:max --target ton:max --strategies default,desirability,random --batch-size 3 --budget 24

    Failed experiments: designloop benchmark --problem buchwald_hartwig --fail-below 0.05 --strategies default,random --batch-size 3
    """
    from designloop.bench.simulate import simulate
    from designloop.bench.summary import MODEL_METRICS, metrics_for, plot_curves, summarize

    check_output(output, (".csv", ".parquet"))
    check_output(plot, IMAGE_SUFFIXES, "--plot")
    prob = _benchmark_problem(problem, lookup, target or [], goal, task, n_candidates, noise)
    prob = _failing(prob, fail_below)
    strategies = strategies or ("default,random" if prob.targets else "random,ei")
    score_model = None  # simulate's default: the surrogate is scored when exploring
    if metric is not None:
        reported = metrics_for(prob.task, prob.goal, several=bool(prob.targets),
                               can_fail=prob.fail_below is not None)
        if metric not in reported:
            kind = ("several targets" if prob.targets else f"{prob.task}, goal {prob.goal}")
            raise InputError(f"--metric {metric} is not reported for {prob.name} ({kind}); "
                             f"choose one of {', '.join(reported)}")
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
    out.print(summary_table(table, f"{prob.name}: {table.attrs['metric']} after {budget} "
                                    f"experiments, {seeds} seeds"))
    if output is not None:
        say(f"Wrote {output} ({len(results)} rows)")
    if plot is not None:
        plot_curves(results, table.attrs["metric"], title=prob.name).savefig(plot)
        say(f"Saved {plot}")


def _benchmark_problem(problem, lookup, target, goal, task, n_candidates, noise):
    """The problem of `designloop benchmark`: a named one or the user's lookup table."""
    from designloop.bench.problems import make_problem, problem_from_csv

    if (problem is None) == (lookup is None):
        raise InputError("give either --problem NAME or --lookup FILE.csv --target COLUMN")
    if lookup is not None:
        if not target:
            raise InputError("--lookup needs --target, the measured column")
        task = spelled(task)
        if task not in ("regression", "classification"):
            raise InputError(f"--task must be regression or classification, got {task!r}")
        if len(target) > 1:
            if task != "regression":
                raise InputError("several --target columns are regression targets; leave "
                                 "out --task classification")
            return problem_from_csv(lookup, targets=_goals(target))
        target, goal = _one_target(lookup, target[0], goal)
        return problem_from_csv(lookup, target[0],
                                "explore" if task == "classification" else goal, task)
    if target:
        raise InputError("--target goes with --lookup FILE.csv; a named --problem knows its "
                         "target")
    params = {"n_candidates": n_candidates, "noise_std": noise} if problem.lower().startswith(
        ("branin", "hartmann", "ackley", "levy", "rosenbrock")) else (
        {"n_candidates": n_candidates} if problem.lower() in ("moons", "circles") else {})
    return make_problem(problem, **params)


def _goals(given: list[str]) -> dict[str, str]:
    """The several targets of `--target NAME:max --target NAME:min` (goals only: bounds and
    weights are settings of a campaign, not of the benchmark)."""
    from designloop.cli.options import _targets

    specs = _targets(given, None)[1]
    bounded = [name for name, spec in specs.items() if len(spec) > 1]
    if bounded:
        raise InputError(f"--target {bounded[0]}: the benchmark takes NAME:max or NAME:min; "
                         "bounds and weights are set on a campaign (designloop init)")
    return {name: spec["goal"] for name, spec in specs.items()}


def _failing(prob, fail_below: float | None):
    """The problem with experiments below `fail_below` failing (`--fail-below`)."""
    import dataclasses
    import math

    if fail_below is None:
        return prob
    if not math.isfinite(fail_below):
        raise InputError(f"--fail-below must be a finite number, got {fail_below}")
    if prob.task != "regression" or prob.targets:
        raise InputError("--fail-below is for one regression target: a class or several "
                         "targets cannot fail by a threshold")
    if prob.goal == "minimize":
        raise InputError("--fail-below makes low results fail, which suits a target to "
                         "maximize (or to explore), not one to minimize")
    return dataclasses.replace(prob, fail_below=float(fail_below))


def _one_target(lookup: Path, text: str, goal: str) -> tuple[list[str], str]:
    """One `--target`: a column of the lookup table as it is, else NAME:max / NAME:min
    (InputError when `--goal` says otherwise)."""
    from designloop.io import read_table
    from designloop.names import canonical

    name, _, direction = text.rpartition(":")
    if not name or text in read_table(lookup, "lookup").columns:
        return [text], goal
    direction = canonical(direction, ("maximize", "minimize"), "goal")
    given = canonical(goal, ("maximize", "minimize", "explore"), "goal")
    if given not in ("maximize", direction):  # --goal left at its default, or agreeing
        raise InputError(f"--target {text} says {direction}, --goal says {goal}; give one")
    return [name], direction
