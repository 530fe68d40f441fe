"""What each suggestion comes with: the model's prediction (mean and sd, or class
probabilities), a conformal interval or prediction set, the extrapolation flag and, when
optimising, the chance of beating the best so far; and, when experiments have failed, the
classifier's chance of success (`designloop.campaign.feasibility`)."""

from __future__ import annotations

import numpy as np
import torch

from designloop import acquisition as acq
from designloop.campaign.feasibility import FeasibilityWeighted
from designloop.prediction import RegressionPrediction
from designloop.records import CycleRecord
from designloop.registry import is_exact_gp
from designloop.trust.calibration import MIN_OBSERVATIONS
from designloop.trust.conformal import (
    gp_jackknife_plus,
    lac_sets,
    lac_threshold,
    min_results,
    split_conformal_interval,
    split_conformal_quantile,
)
from designloop.trust.ood import ood_scores

CONFORMAL_LEVEL = 0.9
# results needed before a suggestion's conformal interval is finite (9 at the 0.9 level)
INTERVAL_MIN_RESULTS = max(MIN_OBSERVATIONS, min_results(CONFORMAL_LEVEL))


def describe(setup, fitted, pred, available, local,
             record: CycleRecord) -> list[dict]:
    """Per pick: predicted mean/sd or class probabilities, a conformal 90% interval (None
    until INTERVAL_MIN_RESULTS results are in) or prediction set, the out-of-distribution
    score and flag, and, when optimising, `p_improve`: the model's probability that the
    candidate beats the best so far (the incumbent the acquisition uses)."""
    rows = [_prediction(pred, i, fitted.classes) for i in local]
    picks = available[local]
    sub = _subset(pred, local)
    goal = setup.config.goal
    if sub is not None and goal in ("maximize", "minimize") and record.best_f is not None:
        chance = acq.probability_of_improvement(sub, best_f=record.best_f, goal=goal)
        for row, p in zip(rows, chance.tolist(), strict=True):
            row["p_improve"] = float(p)
    scores, flags, method = ood_scores(fitted.model, fitted.X[picks], fitted.X[fitted.rows], sub)
    record.ood_method = method
    for row, s, f in zip(rows, scores, flags, strict=True):
        row["ood_score"] = float(s)
        row["extrapolation"] = bool(f)
    bounds = conformal(fitted, picks, pred, local)
    if bounds is not None:
        record.conformal_level = CONFORMAL_LEVEL
        for key, values in bounds.items():
            for row, value in zip(rows, values, strict=True):
                row[key] = value if key == "prediction_set" else float(value)
    if isinstance(setup.acquisition, FeasibilityWeighted):  # weighted by chances of success
        from designloop.campaign.feasibility import describe as feasibility

        chance = setup.acquisition.p_success(picks)
        for row, p in zip(rows, chance.tolist(), strict=True):
            row["p_success"] = float(p)
        note = (record.feasibility or {}).get("selection")
        record.feasibility = feasibility(setup.acquisition, chance, note)
    if sub is not None:  # an interval not yet finite is left empty
        for row in rows:
            for key in ("interval_lo", "interval_hi"):
                value = row.get(key)
                if value is None or not np.isfinite(value):
                    row[key] = None
    return rows


def conformal(fitted, picks, pred, local) -> dict | None:
    """Conformal 90% intervals (`interval_lo`, `interval_hi`: arrays) or prediction sets
    (`prediction_set`: the classes joined by "|") for the candidates `picks`, whose
    predictions are `pred[local]`; None while they cannot be computed."""
    model = fitted.model
    if is_exact_gp(model) and len(fitted.rows) >= MIN_OBSERVATIONS:
        lo, hi = gp_jackknife_plus(model, fitted.X[picks], CONFORMAL_LEVEL)
        return {"interval_lo": np.asarray(lo, dtype=float),
                "interval_hi": np.asarray(hi, dtype=float)}
    if fitted.oof is None:
        return None
    y = fitted.y.numpy()
    if isinstance(pred, RegressionPrediction):  # split conformal on out-of-fold predictions
        q = split_conformal_quantile(y, *fitted.oof, level=CONFORMAL_LEVEL)
        lo, hi = split_conformal_interval(_subset(pred, local), q)
        return {"interval_lo": np.asarray(lo, dtype=float),
                "interval_hi": np.asarray(hi, dtype=float)}
    threshold = lac_threshold(_full_width(fitted.oof, fitted.classes), y, CONFORMAL_LEVEL)
    sets = lac_sets(pred.mean_probs[torch.as_tensor(np.asarray(local))], threshold,
                    never_empty=True)
    return {"prediction_set": ["|".join(c for c, inside in zip(fitted.classes, row.tolist(),
                                                               strict=False) if inside)
                               for row in sets]}


def _prediction(pred, i: int, classes) -> dict:
    if isinstance(pred, RegressionPrediction):
        noise = pred.noise_var if pred.noise_var.dim() == 0 else pred.noise_var[i]
        return {"mean": float(pred.mean[i]),
                "sd": float((pred.epistemic_var[i] + noise).sqrt()),
                "epistemic_sd": float(pred.epistemic_var[i].sqrt())}
    probs = pred.mean_probs[i].tolist()
    return {f"prob_{c}": float(p) for c, p in zip(classes, probs, strict=False)}


def _subset(pred, idx):
    """The regression prediction restricted to candidates idx (None for classification)."""
    if not isinstance(pred, RegressionPrediction):
        return None
    idx = torch.as_tensor(np.asarray(idx, dtype=np.int64))
    noise = pred.noise_var if pred.noise_var.dim() == 0 else pred.noise_var[idx]
    return RegressionPrediction(pred.mean[idx], pred.epistemic_var[idx], noise)


def _full_width(probs: np.ndarray, classes) -> np.ndarray:
    out = np.zeros((probs.shape[0], len(classes)))
    out[:, : probs.shape[1]] = probs
    return out
