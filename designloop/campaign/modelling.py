"""The model step of a campaign: fit the surrogate to what was measured, score the pool,
pick the batch and describe the picks (prediction, conformal interval or set,
extrapolation flag).

Its inputs are explicit: a `ModelSetup` (configuration, encoder, acquisition function, the
user's own surrogate if any, the last classifier choice) and the observations. It writes
what it did into a `CycleRecord`. `Campaign.suggest`, `Campaign.score_candidates` and the
simulations call it; none of it needs a Campaign.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from designloop import acquisition as acq
from designloop.batch.dispatch import choose_selection, select_batch
from designloop.batch.greedy import greedy_conditional, shrinks_with_variance
from designloop.campaign.encoding_choice import choose_encoding
from designloop.campaign.surrogate_choice import AUTO, choose_classifier, classifier, needs_choice
from designloop.errors import InputError
from designloop.prediction import RegressionPrediction
from designloop.records import CycleRecord
from designloop.registry import is_exact_gp
from designloop.surrogates import make_surrogate
from designloop.surrogates.base import fit_with_domain
from designloop.trust.calibration import MIN_OBSERVATIONS, calibrate
from designloop.trust.calibration import warnings as calibration_warnings
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
SCREEN_MIN_POOL = 20_000  # candidates; below this a full prediction costs little anyway


@dataclass(frozen=True)
class ModelSetup:
    """What the model step needs from a campaign, and nothing more.

    Attributes:
        config: the campaign's CampaignConfig.
        encoder: the fitted Encoder of the candidate table.
        acquisition: the acquisition function (registered or the user's own).
        surrogate: the user's own surrogate object, or None for a registered one.
        last_choice: the latest logged classifier choice (`CycleRecord.surrogate_choice`)
            of a `surrogate="auto"` campaign, or None.
    """

    config: object
    encoder: object
    acquisition: Callable[..., Tensor]
    surrogate: object | None = None
    last_choice: dict | None = None


def no_model_reason(task: str, obs) -> str | None:
    """Why no model can be fitted to the observations `obs` yet ("nothing measured",
    "one class"), or None when one can."""
    if obs.empty:
        return "nothing measured"
    if task == "classification" and obs["value"].astype(str).nunique() < 2:
        return "one class"
    return None


@dataclass
class Fitted:
    """A surrogate fitted to a campaign's observations."""

    model: object
    X: Tensor  # (N, d) features of every candidate
    rows: np.ndarray  # (n,) candidate index of each observation (replicates repeat)
    y: Tensor  # (n,) values or class codes
    classes: list[str] | None
    params: dict
    oof: object = None  # out-of-fold predictions, when diagnostics ran


def observed(task: str, obs) -> tuple[np.ndarray, Tensor, list[str] | None]:
    """Observation rows, targets (class codes for classification) and the class names."""
    rows = np.array(obs["candidate_id"], dtype=np.int64)
    if task == "classification":
        labels = obs["value"].astype(str)
        classes = sorted(set(labels))
        return rows, torch.tensor([classes.index(v) for v in labels]), classes
    return rows, torch.tensor(obs["value"].astype(float).to_numpy()), None


def features(setup: ModelSetup, rows, y, record: CycleRecord, fits: dict | None = None
             ) -> tuple[Tensor, str | None]:
    """Candidate features under the configured (or, for "auto", chosen) SMILES encoding;
    `fits` receives the GPs fitted to choose it (see `choose_encoding`)."""
    cfg, encoder = setup.config, setup.encoder
    encoding = None
    if encoder.has_smiles:
        if cfg.smiles_encoding == "auto":
            gp_params = ({k: v for k, v in cfg.surrogate_params.items()
                          if k not in ("kernel", "seed")} if cfg.surrogate == "gp" else {})
            encoding, why = choose_encoding(encoder, torch.as_tensor(rows), y,
                                            cfg.task, len(set(np.asarray(rows).tolist())),
                                            cfg.seed, fits, gp_params)
            record.encoding_reason = why.get("encoding_reason")
            record.encoding_scores = why.get("encoding_scores")
        else:
            encoding = cfg.smiles_encoding
        record.encoding = encoding
    return encoder.features(encoding), encoding


def fit(setup: ModelSetup, obs, record: CycleRecord, diagnostics: bool) -> Fitted:
    """Fit the campaign's surrogate; record fit time, settings and (optionally)
    diagnostics."""
    cfg = setup.config
    rows, y, classes = observed(cfg.task, obs)
    record.classes = classes
    fits: dict = {}
    X, encoding = features(setup, rows, y, record, fits)
    params = dict(cfg.surrogate_params)  # a GP's prior is stored when the campaign is made
    if cfg.surrogate == "gp" and "kernel" not in params:
        params["kernel"] = setup.encoder.default_kernel(encoding)
    params.setdefault("seed", cfg.seed)
    start = time.perf_counter()
    custom = setup.surrogate
    # the GP that chose the encoding is the one asked for when no GP setting was given
    chosen = fits.get(encoding) if cfg.surrogate == "gp" and custom is None else None
    if chosen is not None and chosen.get_params() == make_surrogate("gp", **params).get_params():
        model = chosen
    elif custom is not None:
        model = fit_on_pool(custom, X, rows, y)
    elif cfg.surrogate == AUTO:
        name = _classifier_name(setup, X, rows, y, len(classes), record)
        params.pop("seed")
        model = fit_on_pool(classifier(name, len(classes), cfg.seed, **params), X, rows, y)
    else:
        model = fit_on_pool(make_surrogate(cfg.surrogate, **params), X, rows, y)
    record.fit_seconds = round(time.perf_counter() - start, 4)
    if hasattr(model, "get_params"):
        record.surrogate_params = dict(model.get_params())
    fitted = Fitted(model, X, rows, y, classes, params)
    if diagnostics and hasattr(model, "clone"):
        diag, fitted.oof = calibrate(model, X[rows], y.numpy(), seed=cfg.seed, domain=X)
        if diag:
            record.diagnostics = diag
            record.warnings = calibration_warnings(diag)
    return fitted


def fit_on_pool(model, X: Tensor, rows, y: Tensor):
    """`model` fitted to the observations `X[rows]`, `y`; models that use it are also given
    the whole pool `X` as their domain (`GPRegressor`'s `input_scaling`, `LabelSpreading`)."""
    return fit_with_domain(model, X[rows], y, domain=X)


def _classifier_name(setup: ModelSetup, X: Tensor, rows, y: Tensor, n_classes: int,
                     record: CycleRecord) -> str:
    """The classifier of an "auto" campaign over the pool `X`, labels `y` of `X[rows]`:
    chosen again by cross-validation when the labels have grown enough since the last
    choice (recorded), else the last one."""
    n_unique = len(np.unique(rows))
    last = setup.last_choice
    if not needs_choice(last, n_unique):
        record.surrogate_choice = {**last, "reason": f"kept from n = {last['n']}"}
        return last["chosen"]
    name, why = choose_classifier(X[rows], y, n_classes, n_unique, setup.config.seed,
                                  domain=X)
    record.surrogate_choice = why["surrogate_choice"]
    return name


def _full_width(probs: np.ndarray, classes) -> np.ndarray:
    out = np.zeros((probs.shape[0], len(classes)))
    out[:, : probs.shape[1]] = probs
    return out


def context(setup: ModelSetup, fitted: Fitted, available: np.ndarray, rng,
            record: CycleRecord | None = None) -> dict:
    """Keyword arguments for the acquisition over the candidates `available`: its
    parameters, the goal, the generator, the features, the model and, when optimising,
    `best_f` (also recorded)."""
    cfg = setup.config
    out = dict(cfg.acquisition_params)
    out.update(goal=cfg.goal, rng=rng, X=fitted.X[available], model=fitted.model)
    if cfg.goal in ("maximize", "minimize"):
        out["best_f"] = incumbent(fitted, cfg.goal, cfg.incumbent)
        if record is not None:
            record.best_f, record.incumbent = out["best_f"], cfg.incumbent
    return out


def incumbent(fitted: Fitted, goal: str, kind: str = "posterior") -> float:
    """The value improvement acquisitions try to beat: the best measured value
    ("observed"), or the surrogate's best mean at the measured candidates ("posterior").

    The posterior incumbent does not chase a lucky measurement: with noisy results the best
    observed value sits above what the model believes is reachable, and expected
    improvement over it rewards variance alone. It is the plug-in form of noisy expected
    improvement (Picheny et al., "A benchmark of kriging-based infill criteria for noisy
    optimization", Struct. Multidisc. Optim. 2013), as BayBE and BoTorch's qLogNEI use.
    """
    if kind == "observed":
        values = fitted.y
    else:
        rows = torch.as_tensor(np.unique(fitted.rows))
        values = fitted.model.predict(fitted.X[rows]).mean
    return float(values.max() if goal == "maximize" else values.min())


def score(setup: ModelSetup, fitted: Fitted, available: np.ndarray, rng,
          record: CycleRecord | None = None):
    """Prediction, acquisition scores `(len(available),)` and the acquisition context."""
    pred = fitted.model.predict(fitted.X[available])
    ctx = context(setup, fitted, available, rng, record)
    scores = torch.as_tensor(setup.acquisition(pred, **ctx), dtype=torch.float64)
    if scores.shape != (len(available),):
        raise InputError(f"the acquisition function returned shape {tuple(scores.shape)}; it "
                         f"must return one score per candidate ({len(available)},)")
    return pred, scores, ctx


def screens(setup: ModelSetup, fitted: Fitted, method: str, n_available: int) -> bool:
    """Whether the batch is picked by screening the pool (`greedy_conditional` without a
    prediction of every candidate): an exact GP with enough observations, a built-in
    acquisition whose scores only fall as the variance does, top-k or greedy selection, and
    a pool large enough for the greedy to be lazy. The picks are those of the full path."""
    model = fitted.model
    return (is_exact_gp(model) and method in ("top_k", "greedy")
            and n_available >= SCREEN_MIN_POOL and model.screens()
            and shrinks_with_variance(setup.acquisition))


def describe(setup: ModelSetup, fitted: Fitted, pred, available, local,
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
    bounds = _conformal(fitted, picks, sub, pred, local)
    if bounds is not None:
        record.conformal_level = CONFORMAL_LEVEL
        for row, b in zip(rows, bounds, strict=True):
            row.update(b)
    if sub is not None:  # an interval not yet finite is left empty
        for row in rows:
            for key in ("interval_lo", "interval_hi"):
                value = row.get(key)
                if value is None or not np.isfinite(value):
                    row[key] = None
    return rows


def _conformal(fitted: Fitted, picks, sub, pred, local):
    model = fitted.model
    if is_exact_gp(model) and len(fitted.rows) >= MIN_OBSERVATIONS:
        lo, hi = gp_jackknife_plus(model, fitted.X[picks], CONFORMAL_LEVEL)
        return [{"interval_lo": float(a), "interval_hi": float(b)}
                for a, b in zip(lo, hi, strict=True)]
    if fitted.oof is None:
        return None
    y = fitted.y.numpy()
    if isinstance(pred, RegressionPrediction):  # split conformal on out-of-fold predictions
        q = split_conformal_quantile(y, *fitted.oof, level=CONFORMAL_LEVEL)
        lo, hi = split_conformal_interval(sub, q)
        return [{"interval_lo": float(a), "interval_hi": float(b)}
                for a, b in zip(lo, hi, strict=True)]
    threshold = lac_threshold(_full_width(fitted.oof, fitted.classes), y, CONFORMAL_LEVEL)
    sets = lac_sets(pred.mean_probs[torch.as_tensor(np.asarray(local))], threshold,
                    never_empty=True)
    return [{"prediction_set": "|".join(c for c, inside in zip(fitted.classes, row.tolist(),
                                                                strict=False) if inside)}
            for row in sets]


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


def pick(setup: ModelSetup, obs, measured, excluded, k: int, rng, record: CycleRecord,
         n_candidates: int) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """The model step of `suggest`: fit, score the candidates neither measured nor pending,
    pick `k` of them with the batch rule, and describe the picks.

    Returns:
        `(k,)` candidate ids, `(k,)` the score of each pick, and per pick its prediction
        (see `describe`).
    """
    cfg = setup.config
    fitted = fit(setup, obs, record, cfg.diagnostics)
    available = np.setdiff1d(np.arange(n_candidates), excluded)
    method = choose_selection(cfg, fitted.model, None, k)
    if screens(setup, fitted, method, len(available)):
        # exact picks without predicting every candidate: see greedy_conditional
        record.selection, record.screened = method, True
        ctx = context(setup, fitted, available, rng, record)
        ctx = {key: v for key, v in ctx.items() if key != "rng"}
        local, picked = greedy_conditional(fitted.model, fitted.X[available], k,
                                           setup.acquisition, rng=rng, **ctx)
        picks = available[local]
        pred = fitted.model.predict(fitted.X[picks])
        return picks, picked.numpy(), describe(setup, fitted, pred, picks, np.arange(k), record)
    pred, scores, ctx = score(setup, fitted, available, rng, record)
    record.selection = method = choose_selection(cfg, fitted.model, pred, k)
    local, picked_scores = select_batch(
        method, k=k, scores=scores, pred=pred, model=fitted.model, X=fitted.X,
        available=available, excluded=excluded, measured=measured,
        X_obs=fitted.X[fitted.rows], y_obs=fitted.y, acquisition=setup.acquisition,
        context=ctx, rng=rng, seed=cfg.seed,
        surrogate_factory=lambda: (fitted.model.clone() if hasattr(fitted.model, "clone")
                                   else make_surrogate(cfg.surrogate, **fitted.params)))
    return (available[local], picked_scores,
            describe(setup, fitted, pred, available, local, record))
