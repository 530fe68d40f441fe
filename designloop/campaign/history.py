"""Reading a campaign's log as tables: the history of every cycle, the best result, and a
status summary."""

from __future__ import annotations

import html
import json

import numpy as np
import pandas as pd

from designloop.campaign.filters import ruled_out
from designloop.campaign.matching import ID
from designloop.campaign.objectives import (
    constrained,
    feasible_means,
    hypervolume,
    limits_text,
    means_by_target,
    optimised,
    oriented,
    pareto_mask,
    scalarised,
    target_means,
)
from designloop.errors import InputError


def _measured(campaign) -> pd.DataFrame:
    """Per measured candidate: the mean (or the labels) of its successful measurements,
    their count, and, once any experiment has failed, how many of its experiments failed."""
    every = campaign.store.observations(failed=True)
    obs = every[~every["failed"]]
    if campaign.config.targets:  # the mean of each target
        out = target_means_partial(obs, campaign.config.targets)
    elif campaign.config.task == "regression":
        out = obs.assign(value=obs["value"].astype(float)).groupby(ID)["value"].agg(
            measured_mean="mean", replicates="count")
    else:
        out = obs.groupby(ID)["value"].agg(
            measured=lambda v: ",".join(sorted(set(map(str, v)))), replicates="count")
    if every["failed"].any():
        failures = every[every["failed"]].groupby(ID).size().rename("failed")
        out = out.join(failures, how="outer")
        out["replicates"] = out["replicates"].fillna(0).astype(int)
        out["failed"] = out["failed"].fillna(0).astype(int)
    return out


def _retracted(campaign) -> pd.Series:
    """Number of retracted measurements per candidate (see `Campaign.forget`)."""
    every = campaign.store.observations(retracted=True, failed=True)
    return every[every["retracted_at"].notna()].groupby(ID).size()


def history_frame(campaign) -> pd.DataFrame:
    """One row per suggestion: cycle metadata, prediction, status and what was measured
    (the mean and count of the measurements in force, and how many were retracted)."""
    cycles = campaign.store.cycles()
    sugg = campaign.store.suggestions()
    if sugg.empty:
        return pd.DataFrame(columns=["cycle", "created_at", "kind", "surrogate", "acquisition",
                                     ID, "rank", "score", "status"])
    cycles["encoding"] = cycles["record"].map(lambda r: r.encoding)
    cycles["settings"] = cycles["record"].map(
        lambda r: json.dumps(r.surrogate_params or {}, sort_keys=True))
    df = sugg.merge(cycles.drop(columns=["record"]), on="cycle", how="left")
    pred = pd.json_normalize(df["prediction"].tolist()).add_prefix("predicted_")
    df = pd.concat([df.drop(columns=["prediction"]), pred], axis=1)
    df = df.merge(_measured(campaign), left_on=ID, right_index=True, how="left")
    df["retracted"] = df[ID].map(_retracted(campaign)).fillna(0).astype(int)
    # a candidate column named like one of these keeps its values under "<name>_candidate"
    df = df.merge(campaign.candidates, on=ID, how="left", suffixes=("", "_candidate"))
    front = ["cycle", "created_at", "kind", "surrogate", "acquisition", "encoding", ID, "rank",
             "score", "status"]
    return df[front + [c for c in df.columns if c not in front]]


def target_means_partial(obs: pd.DataFrame, specs: dict) -> pd.DataFrame:
    """Per measured candidate of a campaign of several targets: each target's mean (empty
    where not measured yet), as columns `measured_<target>`, and the experiments' count."""
    if obs.empty:
        return pd.DataFrame(columns=[*(f"measured_{t}" for t in specs), "replicates"])
    means = means_by_target(obs, specs).add_prefix("measured_")
    means["replicates"] = obs.groupby([ID, "target"]).size().groupby(level=0).max()
    return means


def _feasible_means(campaign) -> pd.DataFrame:
    return feasible_means(campaign.config.targets, campaign.store.observations())


def pareto_rows(campaign) -> pd.DataFrame:
    """The non-dominated measured candidates of a campaign of several targets (among those
    meeting the outcome constraints)."""
    specs = campaign.config.targets
    if len(optimised(specs)) < 2:
        raise InputError("pareto_front() needs a campaign of several targets to optimise "
                         "(targets=)")
    means = _feasible_means(campaign)
    front = means[pareto_mask(oriented(optimised(specs), means))] if len(means) else means
    rows = campaign.candidates.set_index(ID).loc[front.index]
    return rows.join(front).reset_index()


def best_row(campaign) -> pd.Series:
    cfg = campaign.config
    if cfg.targets and cfg.objective == "pareto":
        raise InputError("with several targets there is no single best: see pareto_front()")
    if cfg.objective == "desirability":
        return _most_desirable(campaign)
    if cfg.targets:  # one target to optimise, among the candidates meeting the constraints
        means = _feasible_means(campaign)
        if means.empty:
            raise InputError("no measured candidate meets every outcome constraint yet")
        column = means[cfg.target]
        cid = int(column.idxmax() if cfg.goal == "maximize" else column.idxmin())
        row = campaign.candidates.loc[campaign.candidates[ID] == cid].iloc[0].copy()
        for name, value in means.loc[cid].items():
            row[name] = float(value)
        return row
    if cfg.goal not in ("maximize", "minimize"):
        raise InputError("best() needs a campaign with goal maximize or minimize")
    measured = _measured(campaign).dropna(subset=["measured_mean"])
    if measured.empty:
        raise InputError("nothing measured yet: observe results first"
                         if not len(campaign.store.observations(failed=True))
                         else "every experiment so far failed: there is no best result yet")
    col = measured["measured_mean"]
    cid = int(col.idxmax() if cfg.goal == "maximize" else col.idxmin())
    row = campaign.candidates.loc[campaign.candidates[ID] == cid].iloc[0].copy()
    row[cfg.target] = float(col[cid])
    row["replicates"] = int(measured.loc[cid, "replicates"])
    return row


def _most_desirable(campaign) -> pd.Series:
    cfg = campaign.config
    obs = campaign.store.observations()
    values, _ = scalarised(optimised(cfg.targets), obs)
    values = values[values["candidate_id"].isin(_feasible_means(campaign).index)]
    if values.empty:
        raise InputError("no candidate has a value for every target (and meets the "
                         "constraints) yet")
    top = values.loc[values["value"].idxmax()]
    cid = int(top["candidate_id"])
    row = campaign.candidates.loc[campaign.candidates[ID] == cid].iloc[0].copy()
    for name, value in target_means(obs, optimised(cfg.targets)).loc[cid].items():
        row[name] = float(value)
    row["desirability"] = float(top["value"])
    return row


def _several(campaign, obs: pd.DataFrame) -> dict:
    """The status lines of a campaign of several targets."""
    cfg = campaign.config
    goals, limits = optimised(cfg.targets), constrained(cfg.targets)
    out = {"targets": ", ".join(f"{n} ({s['goal']})" for n, s in goals.items()),
           "objective": cfg.objective or None, "complete": len(target_means(obs, goals))}
    if limits:
        out["constraints"] = ", ".join(limits_text(n, s) for n, s in limits.items())
        out["meeting constraints"] = len(_feasible_means(campaign))
    if cfg.objective == "pareto":
        out["pareto front"] = len(pareto_rows(campaign)) if out["complete"] else 0
        out["hypervolume"] = hypervolume(cfg.targets, obs)
    elif cfg.objective == "desirability" and len(_feasible_means(campaign)):
        out["best desirability"] = float(_most_desirable(campaign)["desirability"])
    elif not cfg.objective and len(_feasible_means(campaign)):
        out["best"] = float(best_row(campaign)[cfg.target])
    return out


def status_dict(campaign) -> dict:
    cfg = campaign.config
    every = campaign.store.observations(failed=True)
    obs = every[~every["failed"]]
    cycles = campaign.store.cycles()
    out = {
        "target": cfg.target,
        "task": cfg.task,
        "goal": cfg.goal,
        "surrogate": cfg.surrogate,
        "acquisition": cfg.acquisition,
        "candidates": len(campaign.candidates),
        "measured": int(every[ID].nunique()) if len(every) else 0,
        "measurements": len(every),
        "failed": int(every["failed"].sum()) or None,
        "retracted": int(_retracted(campaign).sum()) or None,
        "pending": len(campaign.store.pending()),
        "cycles": len(cycles),
    }
    expression, banned = ruled_out(campaign.store, campaign.candidates)
    if expression is not None:
        out["filter"] = expression
        out["candidates allowed"] = len(campaign.candidates) - len(banned)
    if len(cycles):
        last = cycles["record"].iloc[-1]
        out["last_encoding"] = last.encoding
        diag = next((r.diagnostics for r in reversed(cycles["record"].tolist())
                     if r.diagnostics), None)
        if diag:
            key = "coverage90" if "coverage90" in diag else "ece"
            out[f"calibration ({diag['method']} {key})"] = round(diag[key], 3)
        if last.warnings:
            out["warning"] = " ".join(last.warnings)
    if cfg.targets:
        del out["target"]
        if cfg.objective:
            del out["goal"]
        if cfg.objective == "pareto":
            out["acquisition"] = "expected_hypervolume_improvement"
        out.update(_several(campaign, obs))
    elif cfg.goal in ("maximize", "minimize") and len(obs):
        values = obs["value"].astype(float)
        out["best"] = float(values.max() if cfg.goal == "maximize" else values.min())
    return {k: v for k, v in out.items() if v is not None and not (
        isinstance(v, float) and np.isnan(v))}


def html_summary(campaign) -> str:
    """The notebook view of a campaign: its status, the best result and the latest
    suggestions, as HTML."""
    status = "".join(f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
                     f"<td>{html.escape(str(v))}</td></tr>"
                     for k, v in campaign.status().items())
    parts = [f"<div><b>designloop Campaign</b><table>{status}</table>"]
    hist = campaign.history()
    if len(hist):
        last = hist[hist["cycle"] == hist["cycle"].max()]
        cols = [c for c in ["candidate_id", "rank", "score", "status", "predicted_mean",
                            "predicted_sd", *campaign.config.feature_columns[:6]]
                if c in last.columns]
        parts.append(f"<p>Cycle {int(last['cycle'].iloc[0])} ({last['kind'].iloc[0]}, "
                     f"{html.escape(str(last['acquisition'].iloc[0]))}):</p>")
        parts.append(last[cols].to_html(index=False, float_format=lambda v: f"{v:.4g}"))
    parts.append("</div>")
    return "".join(parts)


def suggestion_table(candidates: pd.DataFrame, config, cycle: int, rows: list[dict]
                     ) -> pd.DataFrame:
    """The table `Campaign.suggest` returns: the picked candidates' rows with cycle, rank,
    score and prediction columns, and an empty target column to fill in."""
    ids = [r["candidate_id"] for r in rows]
    out = candidates.iloc[ids].reset_index(drop=True).copy()
    out.insert(1, "cycle", cycle)
    out.insert(2, "rank", [r["rank"] for r in rows])
    out.insert(3, "score", [r["score"] for r in rows])
    pred = pd.DataFrame([r["prediction"] for r in rows]).rename(
        columns={"mean": "predicted_mean", "sd": "predicted_sd"})
    pred = pred.drop(columns=["epistemic_sd"], errors="ignore")
    if "extrapolation" in pred:
        pred["extrapolation"] = pred["extrapolation"].astype(bool)
    for col in ("interval_lo", "interval_hi"):  # empty (NaN) until they can be computed
        if col in pred:
            pred[col] = pred[col].astype(float)
    out = pd.concat([out, pred], axis=1)
    for name in config.targets or [config.target]:  # to fill in
        out[name] = np.nan if config.task == "regression" else None
    return out
