"""What the campaign's model says about candidates, without logging anything.

- `predict`: for every candidate, or for the rows of any table, the prediction (mean and
  sd, or class probabilities), the conformal 90% interval or prediction set, the chance of
  beating the best so far (when optimising) and the extrapolation flag.
- `score_candidates`: the acquisition's score of every candidate not yet measured.

A table's rows are matched to the candidates (by `candidate_id`, or by their feature values)
and get exactly what `predict()` gives those candidates. Rows that are no candidate are
checked against the campaign's column roles, encoded together with the candidates (their
molecules, new categories and values included), and predicted by the model fitted again on
that encoding; the campaign itself does not change.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from designloop import registry
from designloop.campaign.matching import ID, comparable, match_rows
from designloop.campaign.objectives import for_model, measured_ids
from designloop.campaign.results import split_observations
from designloop.errors import InputError
from designloop.prediction import RegressionPrediction
from designloop.records import CycleRecord
from designloop.threads import step_threads

PREDICTION_COLUMNS = ("predicted_mean", "predicted_sd", "epistemic_sd", "p_improve",
                      "interval_lo", "interval_hi", "prediction_set", "p_success", "ood_score",
                      "extrapolation")


def _model_state(campaign, encoder=None, diagnostics: bool | None = None, log=None):
    """`(setup, fitted)`: the campaign's model fitted to its results as a suggest would fit
    it (on the features of `encoder`, default the campaign's; `diagnostics` default the
    campaign's setting, which the conformal intervals of models other than exact GPs need),
    its acquisition weighted by the chances of success and of meeting the constraints and
    its incumbent limited by them, as for a suggest; `log` is `split_observations` of the
    store when already read. InputError while no model can be fitted."""
    from dataclasses import replace

    from designloop.campaign import modelling

    cfg = campaign.config
    _, raw, failed_rows = log or split_observations(campaign.store)
    obs, _ = for_model(cfg, raw)
    reason = modelling.no_model_reason(cfg.task, obs, len(failed_rows))
    if reason:
        raise InputError(f"no model to predict with yet: {reason}")
    setup = campaign.model_setup()
    if encoder is not None:
        setup = replace(setup, encoder=encoder)
    n = len(encoder.table_) if encoder is not None else len(campaign.candidates)
    with step_threads(n, len(obs), registry.exact_gp_named(cfg.surrogate)):
        fitted = modelling.fit(setup, obs, CycleRecord(k=0, seed=cfg.seed),
                               cfg.diagnostics if diagnostics is None else diagnostics)
        setup = modelling.weighted_by_feasibility(setup, fitted, obs["candidate_id"],
                                                  failed_rows, raw)
        modelling.limit_incumbent(setup, fitted, raw)  # constraints limit the best so far
    return setup, fitted


def score_candidates(campaign) -> pd.DataFrame | None:
    """See `Campaign.score_candidates`."""
    from designloop.campaign import modelling, pareto
    from designloop.campaign.filters import ruled_out

    cfg = campaign.config
    log = split_observations(campaign.store)
    every, raw, failed_rows = log
    obs, _ = for_model(cfg, raw)
    if modelling.no_model_reason(cfg.task, obs, len(failed_rows)):
        return None
    available = np.setdiff1d(np.arange(len(campaign.candidates)),
                             [*measured_ids(cfg, every),
                              *ruled_out(campaign.store, campaign.candidates)[1]])
    if cfg.objective == "pareto":
        return pd.DataFrame({"candidate_id": available, "score": pareto.pool_scores(
            campaign.model_setup(), obs, available, failed_rows).numpy()})
    setup, fitted = _model_state(campaign, diagnostics=False, log=log)
    with step_threads(len(campaign.candidates), len(obs),
                      registry.exact_gp_named(cfg.surrogate)):
        _, scores, _ = modelling.score(setup, fitted, available,
                                       np.random.default_rng(cfg.seed))
    return pd.DataFrame({"candidate_id": available, "score": scores.numpy()})


def predict(campaign, table: pd.DataFrame | None = None,
            source: str = "table") -> pd.DataFrame:
    """See `Campaign.predict`."""
    cfg = campaign.config
    if cfg.objective:
        raise InputError("predict covers a campaign of one target; this one has the targets "
                         f"{list(cfg.targets)} ({cfg.objective})")
    if table is None:
        return pd.concat([campaign.candidates.reset_index(drop=True), pd.DataFrame(
            _columns(campaign, np.arange(len(campaign.candidates))))], axis=1)
    if not isinstance(table, pd.DataFrame) or table.empty:
        raise InputError(f"{source}: give a table with at least one row to predict")
    ids = match_rows(table, campaign.candidates, cfg.feature_columns, source, new_rows=True)
    out = table.reset_index(drop=True).drop(columns=[
        c for c in table.columns if c in PREDICTION_COLUMNS or str(c).startswith("prob_")])
    out[ID] = pd.array([int(i) if i >= 0 else None for i in ids], dtype="Int64")
    known, new = np.flatnonzero(ids >= 0), np.flatnonzero(ids < 0)
    parts = []
    if len(known):  # candidates: the campaign's own model, as predict() gives them
        parts.append(pd.DataFrame(_columns(campaign, ids[known]), index=known))
    if len(new):  # the others: encoded with the candidates, the model fitted on that
        encoder, rows = _with_new_rows(campaign, table, ids, source)
        parts.append(pd.DataFrame(_columns(campaign, rows, encoder), index=new))
    return pd.concat([out, pd.concat(parts).sort_index()], axis=1)


def _with_new_rows(campaign, table: pd.DataFrame, ids: np.ndarray, source: str):
    """`(encoder, rows)`: an encoder of the candidates followed by the rows of `table` that
    are no candidate (id -1), and those rows' indices in it."""
    from designloop.features.encoding import Encoder
    from designloop.io import unneutralise

    cfg = campaign.config
    roles = campaign.encoder.roles_  # the campaign's, not guessed again from a few rows
    # checked as the table stands, the candidates' rows filled with their values, so that
    # an error names the line in `source`
    given = table[cfg.feature_columns].reset_index(drop=True).astype(object)
    found, new = np.flatnonzero(ids >= 0), np.flatnonzero(ids < 0)
    given.iloc[found] = campaign.candidates[cfg.feature_columns].iloc[ids[found]].to_numpy()
    Encoder(roles=roles, **cfg.fingerprint).fit(given, cfg.feature_columns, source)
    rows = given.iloc[new].reset_index(drop=True)
    pool = campaign.candidates[cfg.feature_columns].reset_index(drop=True)
    for col in cfg.feature_columns:  # numbers as floats (never cut to a pool's integers)
        if roles[col] == "numeric":
            rows[col] = pd.to_numeric(rows[col]).astype(float)
        else:  # a value the pool holds, as the pool spells it (2.0 is the pool's "2")
            spelled = dict(zip(comparable(pool[col]), pool[col], strict=True))
            rows[col] = [spelled.get(key, value) for key, value in zip(
                comparable(rows[col]), rows[col].map(
                    lambda v: unneutralise(v) if isinstance(v, str) else v), strict=True)]
    union = pd.concat([pool.astype({c: float for c in cfg.feature_columns
                                    if roles[c] == "numeric"}), rows], ignore_index=True)
    encoder = Encoder(roles=roles, **cfg.fingerprint).fit(
        union, cfg.feature_columns, source, check_smiles=False)
    return encoder, len(pool) + np.arange(len(new))


def _columns(campaign, ids: np.ndarray, encoder=None) -> dict:
    """The prediction columns for the rows `ids` of the model's features (the candidates',
    or those of `encoder`)."""
    from designloop import acquisition as acq
    from designloop.campaign import modelling
    from designloop.campaign.feasibility import FeasibilityWeighted
    from designloop.campaign.pick_info import conformal
    from designloop.trust.ood import ood_scores

    cfg = campaign.config
    setup, fitted = _model_state(campaign, encoder)
    rows = torch.as_tensor(np.asarray(ids, dtype=np.int64))
    pred = fitted.model.predict(fitted.X[rows])
    cols: dict = {}
    if isinstance(pred, RegressionPrediction):
        cols["predicted_mean"] = pred.mean.detach().numpy()
        cols["predicted_sd"] = (pred.epistemic_var + pred.noise_var).sqrt().detach().numpy()
        cols["epistemic_sd"] = pred.epistemic_var.sqrt().detach().numpy()
        if cfg.goal in ("maximize", "minimize"):
            best_f = modelling.incumbent(fitted, cfg.goal, cfg.incumbent)
            cols["p_improve"] = acq.probability_of_improvement(
                pred, best_f=best_f, goal=cfg.goal).detach().numpy()
    else:
        probs = pred.mean_probs.detach().numpy()
        for j, name in enumerate(fitted.classes):
            cols[f"prob_{name}"] = probs[:, j]
    for key, values in (conformal(fitted, rows, pred, np.arange(len(ids))) or {}).items():
        cols[key] = values if key == "prediction_set" else np.where(  # NaN until finite
            np.isfinite(values), values, np.nan)
    if isinstance(setup.acquisition, FeasibilityWeighted):  # experiments have failed
        cols["p_success"] = setup.acquisition.p_success(rows).detach().numpy()
    scores, flags, _ = ood_scores(fitted.model, fitted.X[rows], fitted.X[fitted.rows],
                                  pred if isinstance(pred, RegressionPrediction) else None)
    cols["ood_score"], cols["extrapolation"] = scores, flags.astype(bool)
    return cols
