"""The campaign report: one self-contained HTML file (images embedded) with progress,
calibration, the latest suggestions with their uncertainty and extrapolation flags, a 2-D
map of the candidates coloured by acquisition score, and the log."""

from __future__ import annotations

import base64
import html
from io import BytesIO

import numpy as np
import torch
from matplotlib.figure import Figure

from designloop.campaign.objectives import (
    feasible_means,
    optimised,
    oriented,
    pareto_mask,
    target_means,
)

SECTIONS = ("Summary", "Progress", "Calibration", "Latest suggestions", "Map of candidates",
            "Log")


def _png(fig: Figure) -> str:
    buffer = BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="plot" src="data:image/png;base64,{data}"/>'


def _figure() -> tuple[Figure, object]:
    fig = Figure(figsize=(6.0, 3.8), dpi=110)
    return fig, fig.add_subplot()


def _front(campaign, obs, ax) -> None:
    """Several targets: the first two targets of every complete candidate, coloured by the
    cycle of its suggestion (0: known before the first), and the Pareto front of what was
    measured (among the candidates meeting every constraint) as it stood after each cycle,
    the last in red."""
    specs = optimised(campaign.config.targets)
    first, second = list(specs)[:2]
    means = target_means(obs, specs)
    if means.empty:
        ax.text(0.5, 0.5, "no candidate has every target measured yet", ha="center")
        return
    found = _measured_in_cycle(campaign)
    cycle = np.array([found.get(c, 0) for c in means.index], dtype=float)
    points = ax.scatter(means[first], means[second], c=cycle, s=25, cmap="viridis")
    ax.figure.colorbar(points, ax=ax, label="cycle")
    feasible = feasible_means(campaign.config.targets, obs)
    last = int(cycle.max())
    for c in sorted(set(cycle.astype(int).tolist())):
        upto = feasible[[found.get(i, 0) <= c for i in feasible.index]]
        if upto.empty:
            continue
        front = upto[pareto_mask(oriented(specs, upto))].sort_values(first)
        final = c == last
        ax.step(front[first], front[second], "-", where="post", lw=2 if final else 1,
                color="crimson" if final else points.cmap(points.norm(c)),
                alpha=1.0 if final else 0.5, label="Pareto front" if final else None)
    ax.set_xlabel(f"{first} ({specs[first]['goal']})")
    ax.set_ylabel(f"{second} ({specs[second]['goal']})")
    if ax.get_legend_handles_labels()[1]:
        ax.legend(frameon=False)


def _measured_in_cycle(campaign) -> dict:
    """Per measured candidate, the number of cycles logged before its first measurement
    (0: known before the first suggestion)."""
    cycles = campaign.store.cycles()
    obs = campaign.store.observations().drop_duplicates("candidate_id")
    stamps = np.sort(cycles["created_at"].astype(str).to_numpy())
    return {int(c): int(np.searchsorted(stamps, str(when), side="right"))
            for c, when in zip(obs["candidate_id"], obs["created_at"], strict=True)}


def _progress(campaign) -> str:
    cfg = campaign.config
    obs = campaign.store.observations()
    if obs.empty:
        failed = int(campaign.store.observations(failed=True)["failed"].sum())
        return (f"<p>Every experiment so far failed ({failed}).</p>" if failed
                else "<p>Nothing measured yet.</p>")
    fig, ax = _figure()
    several = len(optimised(cfg.targets)) > 1
    if cfg.targets and not several:  # one target to optimise, constraints beside it
        obs = obs[obs["target"] == cfg.target]
    if several:
        _front(campaign, obs, ax)
    elif cfg.task == "regression" and cfg.goal != "explore":
        values = obs["value"].astype(float).to_numpy()
        best = np.maximum.accumulate(values) if cfg.goal == "maximize" else \
            np.minimum.accumulate(values)
        ax.plot(np.arange(1, len(values) + 1), values, "o", alpha=0.4, label="measured")
        ax.plot(np.arange(1, len(values) + 1), best, "-", lw=2, label="best so far")
        ax.set_xlabel("measurement")
        ax.set_ylabel(cfg.target)
        ax.legend(frameon=False)
    else:
        cycles = campaign.store.cycles()
        rows = [(r.n_observed, r.record.diagnostics) for r in cycles.itertuples()
                if r.record.diagnostics]
        if not rows:
            return "<p>Model quality appears after enough measurements.</p>"
        key = "coverage90" if cfg.task == "regression" else "accuracy"
        other = "rmse" if cfg.task == "regression" else "ece"
        ax.plot([n for n, _ in rows], [d[key] for _, d in rows], "o-", label=f"{key} (CV)")
        ax.plot([n for n, _ in rows], [d[other] for _, d in rows], "s--", label=f"{other} (CV)")
        ax.set_xlabel("measured candidates")
        ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    return _png(fig)


def _calibration(campaign) -> str:
    cycles = campaign.store.cycles()
    diag = next((r.diagnostics for r in reversed(cycles["record"].tolist())
                 if r.diagnostics), None)
    if not diag:
        return "<p>Calibration is checked once at least 5 results are in.</p>"
    fig, ax = _figure()
    if "calibration_curve" in diag:
        nominal, observed = zip(*diag["calibration_curve"], strict=True)
        ax.plot([0, 1], [0, 1], "k:", label="ideal")
        ax.plot(nominal, observed, "o-", label=f"{diag['method']} ({diag['n']} results)")
        ax.set_xlabel("nominal interval coverage")
        ax.set_ylabel("observed coverage")
        text = (f"90% intervals covered {diag['coverage90']:.0%} of held-out results; "
                f"RMSE {diag['rmse']:.4g}; NLL {diag['nll']:.3g}.")
    else:
        conf, acc, count = zip(*diag["reliability"], strict=True)
        ax.plot([0, 1], [0, 1], "k:", label="ideal")
        ax.scatter(conf, acc, s=[20 + 4 * c for c in count], label="bins (size = count)")
        ax.set_xlabel("confidence")
        ax.set_ylabel("accuracy")
        text = (f"Accuracy {diag['accuracy']:.1%}, ECE {diag.get('ece', float('nan')):.3f} "
                f"({diag['method']}, {diag['n']} results).")
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    warnings = cycles["record"].iloc[-1].warnings
    notes = "".join(f"<p class='warning'>Warning: {html.escape(w)}</p>" for w in warnings)
    return f"<p>{html.escape(text)}</p>{notes}{_png(fig)}"


def _latest(campaign) -> str:
    hist = campaign.history()
    if hist.empty:
        return "<p>No suggestions yet.</p>"
    last = hist[hist["cycle"] == hist["cycle"].max()]
    cols = [c for c in ["candidate_id", "rank", "score", "status", "predicted_mean",
                        "predicted_sd", "predicted_ood_score", "predicted_extrapolation",
                        *[c for c in last.columns if c.startswith("predicted_prob_")],
                        *campaign.config.feature_columns[:6]] if c in last.columns]
    return last[cols].to_html(index=False, float_format=lambda v: f"{v:.4g}", border=0)


def _map(campaign) -> str:
    X = campaign.encoder.features(_last_encoding(campaign))
    centred = X - X.mean(0)
    _, _, V = torch.linalg.svd(centred, full_matrices=False)
    xy = (centred @ V[:2].T).numpy() if V.shape[0] >= 2 else np.column_stack(
        [centred[:, 0].numpy(), np.zeros(len(X))])
    scored = campaign.score_candidates()
    fig, ax = _figure()
    if scored is not None:
        ids = scored["candidate_id"].to_numpy()
        points = ax.scatter(xy[ids, 0], xy[ids, 1], c=scored["score"], s=10, cmap="viridis")
        fig.colorbar(points, ax=ax, label=f"{campaign.config.acquisition} score")
    else:
        ax.scatter(xy[:, 0], xy[:, 1], s=8, c="lightgray", label="candidates")
    every = campaign.store.observations(failed=True)
    measured = every.loc[~every["failed"], "candidate_id"].unique()
    if len(measured):
        ax.scatter(xy[measured, 0], xy[measured, 1], marker="x", c="black", s=30,
                   label="measured")
    failed = every.loc[every["failed"], "candidate_id"].unique()
    if len(failed):
        ax.scatter(xy[failed, 0], xy[failed, 1], marker="x", c="red", s=30, label="failed")
    pending = campaign.store.pending()
    if pending:
        ax.scatter(xy[pending, 0], xy[pending, 1], facecolors="none", edgecolors="red", s=60,
                   label="pending suggestions")
    ax.set_xlabel("principal component 1")
    ax.set_ylabel("principal component 2")
    ax.legend(frameon=False, fontsize=8)
    return _png(fig)


def _last_encoding(campaign):
    if not campaign.encoder.has_smiles:
        return None
    chosen = [r.encoding for r in campaign.store.cycles()["record"] if r.encoding]
    return chosen[-1] if chosen else "morgan"


def _log(campaign, max_rows: int = 200) -> str:
    hist = campaign.history()
    cols = [c for c in ["cycle", "created_at", "kind", "surrogate", "acquisition", "encoding",
                        "candidate_id", "rank", "score", "status", "measured_mean", "measured",
                        "replicates"] if c in hist.columns]
    note = f"<p>First {max_rows} of {len(hist)} rows.</p>" if len(hist) > max_rows else ""
    return note + hist[cols].head(max_rows).to_html(index=False, border=0,
                                                    float_format=lambda v: f"{v:.4g}")


def build_report(campaign) -> str:
    """The report as one HTML document."""
    status = campaign.status()
    summary = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                      for k, v in status.items())
    body = {
        "Summary": f"<table>{summary}</table>",
        "Progress": _progress(campaign),
        "Calibration": _calibration(campaign),
        "Latest suggestions": _latest(campaign),
        "Map of candidates": _map(campaign),
        "Log": _log(campaign),
    }
    sections = "".join(f"<section><h2>{name}</h2>{body[name]}</section>" for name in SECTIONS)
    style = ("body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}"
             "table{border-collapse:collapse;font-size:0.85em}td,th{padding:2px 8px;"
             "text-align:left;border-bottom:1px solid #ddd}.warning{color:#a60}")
    title = f"designloop campaign: {campaign.config.target} ({campaign.config.goal})"
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
            f"</title><style>{style}</style></head><body><h1>{html.escape(title)}</h1>"
            f"{sections}</body></html>")


class Report:
    """A rendered report: shows itself in a notebook, `save(path)` writes the HTML file."""

    def __init__(self, text: str):
        self.html = text

    def _repr_html_(self) -> str:
        return self.html

    def save(self, path) -> None:
        from pathlib import Path

        Path(path).write_text(self.html, encoding="utf-8")


