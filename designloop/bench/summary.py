"""Reading a simulation: the metric that matters per problem, a summary table per strategy
(final value and area under the learning curve, winner marked) and learning-curve plots."""

from __future__ import annotations

import numpy as np
import pandas as pd

from designloop.errors import InputError

# metric -> True when larger is better, False when smaller is, None when neither: best_so_far
# depends on the goal, and a coverage is best at its nominal level (NOMINAL)
DIRECTION = {"best_so_far": None, "simple_regret": False, "top1_found": True,
             "top1_fraction": True, "accuracy": True, "rmse": False, "nll": False,
             "ece": False, "brier": False, "coverage90": None, "fit_seconds": False,
             "suggest_seconds": False, "failed_fraction": False, "hypervolume": True,
             "hv_regret": False, "hv_fraction": True}
# metric -> the value that is best: an interval's coverage should match its level, neither
# more (too wide) nor less (overconfident)
NOMINAL = {"coverage90": 0.9}
# what a simulated run reports: every run, optimisation runs, and the surrogate's quality
RUN_METRICS = ("fit_seconds", "suggest_seconds")
OPTIMISATION_METRICS = ("best_so_far", "simple_regret", "top1_found", "top1_fraction", "value")
SEVERAL_METRICS = ("hv_fraction", "hv_regret", "hypervolume")  # several targets
MODEL_METRICS = {"regression": ("rmse", "nll", "coverage90"),
                 "classification": ("accuracy", "ece", "nll", "brier")}


def metrics_for(task: str, goal: str, several: bool = False,
                can_fail: bool = False) -> tuple[str, ...]:
    """The metrics a simulation of a problem with this task and goal can report (the model
    metrics only when the surrogate is scored, see `simulate`'s `metrics`); `several`: a
    problem of several targets, `can_fail`: one whose experiments can fail."""
    if several:
        return (*SEVERAL_METRICS, "suggest_seconds")
    optimising = task == "regression" and goal != "explore"
    return (*(OPTIMISATION_METRICS if optimising else ()), *MODEL_METRICS[task], *RUN_METRICS,
            *(("failed_fraction",) if can_fail else ()))


def default_metric(results: pd.DataFrame) -> str:
    """simple_regret (known optimum), else top1_found, else the share of the hypervolume
    (several targets), else accuracy or rmse."""
    for name in ("simple_regret", "top1_found", "hv_fraction", "accuracy", "rmse",
                 "best_so_far"):
        if name in results.columns and results[name].notna().any():
            return name
    raise InputError("the results hold no metric to summarise")


def _larger_is_better(results: pd.DataFrame, metric: str) -> bool:
    direction = DIRECTION.get(metric)
    if direction is not None:
        return direction
    if metric == "best_so_far" and "value" in results.columns:
        # maximisation when best_so_far never decreases
        return bool((results.groupby(["strategy", "seed"])["best_so_far"].diff().dropna() >= 0)
                    .all())
    return True


def _check_metric(results: pd.DataFrame, metric: str) -> None:
    """InputError naming the metrics the results hold when they hold no values of `metric`."""
    if metric not in results.columns or not results[metric].notna().any():
        held = [c for c in (*OPTIMISATION_METRICS, *DIRECTION)
                if c in results.columns and results[c].notna().any()]
        raise InputError(f"the results hold no metric {metric!r}; they hold "
                         f"{', '.join(dict.fromkeys(held)) or 'none'}")


def curves(results: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Mean, standard deviation and count of `metric` per strategy and n_observed."""
    grouped = results.groupby(["strategy", "n_observed"], sort=False)[metric]
    return grouped.agg(["mean", "std", "count"]).reset_index()


def summarize(results: pd.DataFrame, metric: str | None = None) -> pd.DataFrame:
    """Per strategy: mean and sd over seeds of the final metric and of the normalised area
    under the learning curve; `winner` marks the best final mean (for a coverage, the one
    closest to its nominal level)."""
    metric = metric or default_metric(results)
    _check_metric(results, metric)
    final = results.sort_values("n_observed").groupby(["strategy", "seed"]).tail(1)

    def auc(run: pd.DataFrame) -> float:
        x, y = run["n_observed"].to_numpy(float), run[metric].to_numpy(float)
        if len(x) < 2:
            return float(y[0])
        return float(np.trapezoid(y, x) / (x[-1] - x[0]))

    areas = results.groupby(["strategy", "seed"]).apply(auc, include_groups=False)
    areas = areas.rename("auc").reset_index()
    order = list(dict.fromkeys(results["strategy"]))
    table = pd.DataFrame({
        "strategy": order,
        "final_mean": [final.loc[final.strategy == s, metric].mean() for s in order],
        "final_sd": [final.loc[final.strategy == s, metric].std(ddof=1) for s in order],
        "auc_mean": [areas.loc[areas.strategy == s, "auc"].mean() for s in order],
        "auc_sd": [areas.loc[areas.strategy == s, "auc"].std(ddof=1) for s in order],
        "seeds": [final.loc[final.strategy == s, "seed"].nunique() for s in order],
    })
    if metric in NOMINAL:
        best = (table["final_mean"] - NOMINAL[metric]).abs().idxmin()
    elif _larger_is_better(results, metric):
        best = table["final_mean"].idxmax()
    else:
        best = table["final_mean"].idxmin()
    table["winner"] = table.index == best
    table.attrs["metric"] = metric
    return table


def plot_curves(results: pd.DataFrame, metric: str | None = None, ax=None, title: str = ""):
    """Learning curves (mean and a 95% band over seeds) per strategy; returns the Figure."""
    if ax is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(6.4, 4.2), dpi=120)
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    metric = metric or default_metric(results)
    _check_metric(results, metric)
    data = curves(results, metric)
    for strategy, part in data.groupby("strategy", sort=False):
        x, mean = part["n_observed"].to_numpy(), part["mean"].to_numpy()
        half = 1.96 * part["std"].fillna(0).to_numpy() / np.sqrt(part["count"].to_numpy())
        ax.plot(x, mean, marker="o", markersize=3, label=strategy)
        ax.fill_between(x, mean - half, mean + half, alpha=0.2)
    ax.set_xlabel("experiments measured")
    ax.set_ylabel(metric.replace("_", " "))
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig
