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
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import Tensor

from designloop.batch.dispatch import choose_selection, select_batch
from designloop.batch.greedy import greedy_conditional, shrinks_with_variance
from designloop.campaign import reuse
from designloop.campaign.encoding_choice import features
from designloop.campaign.feasibility import FeasibilityWeighted
from designloop.campaign.pick_info import describe
from designloop.campaign.surrogate_choice import AUTO, choose_classifier, classifier, needs_choice
from designloop.errors import InputError
from designloop.records import CycleRecord
from designloop.registry import SELECTIONS, is_exact_gp
from designloop.surrogates import make_surrogate
from designloop.surrogates.base import fit_with_domain, shallow_params
from designloop.trust.calibration import calibrate
from designloop.trust.calibration import warnings as calibration_warnings

SCREEN_MIN_POOL = 20_000  # candidates; below this a full prediction costs little anyway


@dataclass(frozen=True)
class ModelSetup:
    """What the model step needs from a campaign, and nothing more.

    Attributes:
        config: the campaign's CampaignConfig.
        encoder: the fitted Encoder of the candidate table.
        acquisition: the acquisition function (registered or the user's own).
        surrogate: the user's own surrogate object, or None for a registered one.
        earlier: what earlier cycles left to reuse (`designloop.campaign.reuse`), or None.
    """

    config: object
    encoder: object
    acquisition: Callable[..., Tensor]
    surrogate: object | None = None
    earlier: reuse.Earlier | None = None


INITIAL_REASONS = {
    "random": "random candidates to start (initial design 'random')",
    "kmeans": "representative candidates, nearest the centres of k clusters (initial design "
              "'kmeans')",
    "maximin": "candidates spread as far apart as possible (initial design 'maximin')",
}


def no_model_reason(task: str, obs, n_failed: int = 0) -> str | None:
    """Why no model can be fitted to the successful observations `obs` yet ("nothing
    measured", "only failures", "one class"), or None when one can."""
    if obs.empty:
        return "only failures" if n_failed else "nothing measured"
    if task == "classification" and obs["value"].astype(str).nunique() < 2:
        return "one class"
    return None


def spread(setup: ModelSetup, reason: str, obs, measured, excluded, k: int, rng,
           record: CycleRecord) -> tuple[str, str, np.ndarray]:
    """Picks while no model can be fitted (`reason` from `no_model_reason`): the initial
    design, or candidates far from those measured. Returns the cycle's kind, the name of
    the rule and the picks."""
    from designloop.batch.diversity import initial_design
    from designloop.batch.selection import maximin

    cfg = setup.config
    X, _ = features(setup, np.zeros(0, dtype=np.int64), torch.zeros(0), record)
    if reason == "nothing measured":
        record.reason = f"nothing measured yet: {INITIAL_REASONS[cfg.initial_design]}"
        return "initial", cfg.initial_design, initial_design(X, k, cfg.initial_design,
                                                             exclude=excluded, rng=rng)
    if reason == "only failures":
        record.reason = (f"every experiment so far failed ({len(measured)} candidates); "
                         "candidates far from the failed ones are picked until one succeeds")
    else:
        record.reason = (
            f"only the class {str(obs['value'].iloc[0])!r} observed so far; a classifier "
            "needs two, so candidates far from the measured ones are picked until a second "
            "class appears")
    return "diversity", "maximin", maximin(X, k, exclude=excluded, rng=rng, anchors=measured)


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
    encoding: str | None = None  # the SMILES encoding of X
    incumbent_rows: np.ndarray | None = None  # candidates the incumbent may be (constraints)


def observed(task: str, obs) -> tuple[np.ndarray, Tensor, list[str] | None]:
    """Observation rows, targets (class codes for classification) and the class names."""
    rows = np.array(obs["candidate_id"], dtype=np.int64)
    if task == "classification":
        labels = obs["value"].astype(str)
        classes = sorted(set(labels))
        return rows, torch.tensor([classes.index(v) for v in labels]), classes
    return rows, torch.tensor(obs["value"].astype(float).to_numpy()), None


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
    begin, cold_n, same = None, len(y), None  # cold, unless the last fit leaves a start
    digest = (reuse.data_digest(rows, y, setup.encoder.feature_key(encoding), params)
              if cfg.surrogate == "gp" and custom is None else None)
    if chosen is not None and chosen.get_params(deep=False) == make_surrogate(
            "gp", **params).get_params(deep=False):
        model = chosen
    elif custom is not None:
        model = fit_on_pool(custom, X, rows, y)
    elif cfg.surrogate == AUTO:
        name = _classifier_name(setup, X, rows, y, len(classes), record)
        params.pop("seed")
        model = fit_on_pool(classifier(name, len(classes), cfg.seed, **params), X, rows, y)
    elif cfg.surrogate == "gp":  # from where the last cycle's fit ended, when it can
        same = reuse.same_fit(setup.earlier, encoding, digest)
        begin, cold_n = reuse.warm_start(setup.earlier, encoding, len(y))
        model = fit_on_pool(make_surrogate("gp", **params), X, rows, y,
                            start=begin if same is None else same["values"],
                            refit=same is None)
    else:
        model = fit_on_pool(make_surrogate(cfg.surrogate, **params), X, rows, y)
    if cfg.surrogate == "gp" and custom is None:
        kept = getattr(model, "fit_start_", None) == "kept"
        reuse.note(record, gp=same if kept else reuse.fit_entry(
            model, begin, cold_n, encoding, len(y), digest))
    record.fit_seconds = round(time.perf_counter() - start, 4)
    if hasattr(model, "get_params"):
        record.surrogate_params = shallow_params(model)
    fitted = Fitted(model, X, rows, y, classes, params, encoding=encoding)
    if diagnostics and hasattr(model, "clone"):
        diag, fitted.oof = calibrate(model, X[rows], y.numpy(), seed=cfg.seed, domain=X)
        if diag:
            record.diagnostics = diag
            record.warnings = calibration_warnings(diag)
    return fitted


def fit_on_pool(model, X: Tensor, rows, y: Tensor, **fit_params):
    """`model` fitted to the observations `X[rows]`, `y` (and `fit_params`); models that use
    it are also given the whole pool `X` as their domain (`GPRegressor`'s `input_scaling`,
    `LabelSpreading`)."""
    return fit_with_domain(model, X[rows], y, domain=X, **fit_params)


def _classifier_name(setup: ModelSetup, X: Tensor, rows, y: Tensor, n_classes: int,
                     record: CycleRecord) -> str:
    """The classifier of an "auto" campaign over the pool `X`, labels `y` of `X[rows]`:
    chosen again by cross-validation when the labels have grown enough since the last
    choice (recorded), else the last one."""
    n_unique = len(np.unique(rows))
    last = setup.earlier.surrogate_choice if setup.earlier is not None else None
    if not needs_choice(last, n_unique):
        record.surrogate_choice = {**last, "reason": f"kept from n = {last['n']}"}
        return last["chosen"]
    name, why = choose_classifier(X[rows], y, n_classes, n_unique, setup.config.seed,
                                  domain=X)
    record.surrogate_choice = why["surrogate_choice"]
    return name


def context(setup: ModelSetup, fitted: Fitted, available: np.ndarray, rng,
            record: CycleRecord | None = None) -> dict:
    """Keyword arguments for the acquisition over the candidates `available`: its
    parameters, the goal, the generator, the features, the model and, when optimising,
    `best_f` (also recorded)."""
    cfg = setup.config
    out = dict(cfg.acquisition_params)
    out.update(goal=cfg.goal, rng=rng, X=fitted.X[available], model=fitted.model)
    if isinstance(setup.acquisition, FeasibilityWeighted):  # chances read per candidate
        out["candidate_rows"] = torch.tensor(np.asarray(available, dtype=np.int64))
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
    With outcome constraints only the candidates that meet them count
    (`Fitted.incumbent_rows`).
    """
    allowed = fitted.incumbent_rows
    if allowed is not None and not np.isin(fitted.rows, allowed).any():
        allowed = None  # no candidate meets the constraints: only their chance is scored
    if kind == "observed":
        values = fitted.y if allowed is None else fitted.y[np.isin(fitted.rows, allowed)]
    else:
        rows = np.unique(fitted.rows)
        rows = torch.as_tensor(rows if allowed is None else rows[np.isin(rows, allowed)])
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


def pick(setup: ModelSetup, obs, measured, excluded, k: int, rng, record: CycleRecord,
         n_candidates: int, failed_rows=None, every=None
         ) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """The model step of `suggest`: fit, score the candidates neither measured nor pending,
    pick `k` of them with the batch rule, and describe the picks. With failed experiments
    (`failed_rows`, the candidate of each), the scores are weighted by a classifier's chance
    of success, and with outcome constraints by the chance of meeting them, modelled on
    `every` (the observations of every target; `designloop.campaign.feasibility`).

    Returns:
        `(k,)` candidate ids, `(k,)` the score of each pick, and per pick its prediction
        (see `describe`).
    """
    cfg = setup.config
    fitted = fit(setup, obs, record, cfg.diagnostics)
    available = np.setdiff1d(np.arange(n_candidates), excluded)
    setup = weighted_by_feasibility(setup, fitted, obs["candidate_id"].to_numpy(), failed_rows,
                                    every)
    limit_incumbent(setup, fitted, every)
    method = per_candidate(setup, fitted, choose_selection(cfg, fitted.model, None, k), record)
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
    record.selection = method = per_candidate(
        setup, fitted, choose_selection(cfg, fitted.model, pred, k), record)
    local, picked_scores = select_batch(
        method, k=k, scores=scores, pred=pred, model=fitted.model, X=fitted.X,
        available=available, excluded=excluded, measured=measured,
        X_obs=fitted.X[fitted.rows], y_obs=fitted.y, acquisition=setup.acquisition,
        context=ctx, rng=rng, seed=cfg.seed,
        surrogate_factory=lambda: (fitted.model.clone() if hasattr(fitted.model, "clone")
                                   else make_surrogate(cfg.surrogate, **fitted.params)))
    return (available[local], picked_scores,
            describe(setup, fitted, pred, available, local, record))


def weighted_by_feasibility(setup: ModelSetup, fitted: Fitted, ok_rows, failed_rows,
                            every=None) -> ModelSetup:
    """The setup with its acquisition weighted by the chance of success, once experiments
    have failed (`ok_rows`, `failed_rows`: the candidate of each successful and each failed
    experiment), and by the chance of meeting each outcome constraint measured in `every`
    (the observations of every target); unchanged until then."""
    from designloop.campaign.feasibility import constraint_chances, weighted

    constraints = constraint_chances(setup.config.targets, fitted.X,
                                     constraint_gp_params(setup, fitted.encoding), every)
    if (failed_rows is None or len(failed_rows) == 0) and not constraints:
        return setup
    return replace(setup, acquisition=weighted(setup.acquisition, fitted.X,
                                               np.asarray(ok_rows, dtype=np.int64),
                                               failed_rows, setup.config.seed, constraints,
                                               classifier_features(setup.encoder, fitted.X)))


def classifier_features(encoder, X: Tensor) -> Tensor:
    """The pool's features the classifier of success reads: for reaction components (see
    `encoding_choice.COMPONENT_MAX_MOLECULES`) one molecule a column, one-hot, since a
    failure is mostly down to a reagent (on Buchwald-Hartwig, with Mordred descriptors 10.6%
    of its picks failed, with one-hot 6.9%); else the target model's features `X`, which
    carry a failure over to similar molecules of a library."""
    from designloop.campaign.encoding_choice import COMPONENT_MAX_MOLECULES

    if encoder.has_smiles and encoder.most_molecules() <= COMPONENT_MAX_MOLECULES:
        return encoder.features("onehot")
    return X


def per_candidate(setup: ModelSetup, fitted: Fitted, method: str, record: CycleRecord) -> str:
    """The batch rule, which must score candidates one by one when the acquisition is
    weighted by feasibility (a joint batch score has no place for the weight); the record
    says so, and what the weighting was."""
    from designloop.campaign.feasibility import PER_CANDIDATE_RULE, FeasibilityWeighted

    weighted = setup.acquisition
    if not isinstance(weighted, FeasibilityWeighted):
        return method
    note = None
    if method in PER_CANDIDATE_RULE and (not SELECTIONS[method].exact_gp
                                         or is_exact_gp(fitted.model)):
        new = PER_CANDIDATE_RULE[method]
        new = new if new != "greedy" or is_exact_gp(fitted.model) else "top_k"
        note = (f"'{method}' scores the batch jointly, which a chance of success per "
                f"candidate cannot weight; '{new}' was used")
        method = new
    record.feasibility = {"selection": note}
    return method


def constraint_gp_params(setup: ModelSetup, encoding: str | None) -> dict:
    """The settings of an outcome constraint's GP: the kernel and prior that suit the
    features under `encoding` (or those the campaign's GP was given), the campaign's seed;
    never the target model's noise, which is in the target's units."""
    cfg = setup.config
    given = cfg.surrogate_params if cfg.surrogate == "gp" else {}
    return {"kernel": given.get("kernel") or setup.encoder.default_kernel(encoding),
            "prior": given.get("prior") or setup.encoder.default_prior(), "seed": cfg.seed}


def limit_incumbent(setup: ModelSetup, fitted: Fitted, every) -> None:
    """With outcome constraints, the best so far is taken among the measured candidates
    that meet them; while none does, the picks are scored by the chance of meeting them
    alone (Gelbart, Snoek & Adams 2014)."""
    from designloop.campaign.feasibility import FeasibilityWeighted
    from designloop.campaign.objectives import constrained, feasible_means

    specs = setup.config.targets
    if not constrained(specs) or every is None:
        return
    weighted = setup.acquisition if isinstance(setup.acquisition, FeasibilityWeighted) \
        else None
    if weighted is None or not weighted.constraints:
        return  # no constraint measured yet: it shapes nothing
    fitted.incumbent_rows = feasible_means(specs, every).index.to_numpy(dtype=np.int64)
    weighted.chance_only = not np.isin(fitted.rows, fitted.incumbent_rows).any()
