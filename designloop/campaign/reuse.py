"""What a cycle takes over from the cycles before it, so that a cycle that adds a few
results costs about one short fit instead of several fits from scratch. (The classifier of a
`surrogate="auto"` campaign is kept the same way: `designloop.campaign.surrogate_choice`.)
This is for a campaign of one target; a Pareto campaign's GPs, one per target, start cold
and compare the encodings every cycle.

- **The SMILES encoding.** The leave-one-out comparison of encodings (for a library of
  molecules, `designloop.campaign.encoding_choice`) fits one GP per encoding. Below
  COMPARE_ALWAYS_BELOW measured candidates it runs every cycle: the fits are cheap, and a
  comparison on a few points is still volatile (keeping it for half as many again lost 0.25
  top-1% rows by 30 experiments on ESOL, 20 seeds, docs/benchmarks.md). From there it runs
  again only once the measured candidates have grown by REFRESH_GROWTH since the last
  comparison; in between the last choice is kept, and the cycle log says from when.
- **The GP hyper-parameters.** Each fit of the campaign's GP starts from the hyper-parameters
  the last fit ended with (logged with the cycle, table fits, so a new process starts warm),
  as long as the encoding is the same and the observations have grown by less than
  REFRESH_GROWTH since the last cold start. A few new results move the marginal likelihood's
  optimum a little, so L-BFGS needs a fraction of the steps. A warm fit that ends worse than
  a cold one begins is replaced by a cold one (`GPRegressor.fit`), and growth past
  REFRESH_GROWTH forces a cold start, so that early hyper-parameters, fitted on a handful of
  points, never stay for good. On exactly what the last fit saw (`data_digest`: the same
  observations, feature matrix and GP settings) its hyper-parameters are kept without
  fitting (`same_fit`): a repeated suggestion, a prediction or the report's scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

REFRESH_GROWTH = 1.5  # compare the encodings and start the GP cold again after this growth
COMPARE_ALWAYS_BELOW = 50  # measured candidates below which the encodings are compared always


@dataclass
class Earlier:
    """The work of earlier cycles a new one may reuse (from the campaign log).

    Attributes:
        encoding: the SMILES encoding chosen by the latest comparison of encodings.
        encoding_n: the measured candidates that comparison was made on (None: never
            compared).
        fit: the latest GP fit (`fit_entry`): its `encoding`, `n` observations, `cold_n`
            (observations at its last cold start), `start` ("cold", "warm" or why a warm
            start gave way), `from` (the hyper-parameters it started from, None for cold),
            `values` (those it ended with) and `data` (its `data_digest`).
        surrogate_choice: the latest classifier choice of a `surrogate="auto"` campaign
            (`CycleRecord.surrogate_choice`; see `designloop.campaign.surrogate_choice`).
    """

    encoding: str | None = None
    encoding_n: int | None = None
    fit: dict | None = None
    surrogate_choice: dict | None = None


def earlier(store, config) -> Earlier:
    """What the campaign log `store` of a campaign with settings `config` holds for the
    next cycle to reuse."""
    from designloop.features.encoding import SMILES_ENCODINGS
    from designloop.registry import AUTO_SURROGATE

    state = store.last_fit_state()
    encoding_n = state.get("encoding_n")
    if state.get("encoding") not in SMILES_ENCODINGS:  # damaged, or a newer version's
        encoding_n = None
    return Earlier(
        encoding=state.get("encoding") if isinstance(encoding_n, int) else None,
        encoding_n=encoding_n if isinstance(encoding_n, int) else None,
        fit=state.get("gp") if isinstance(state.get("gp"), dict) else None,
        surrogate_choice=(store.last_record_value("surrogate_choice")
                          if config.surrogate == AUTO_SURROGATE else None))


def note(record, **parts) -> None:
    """Add `parts` to what the cycle of `record` leaves for the next (`fit_state`)."""
    record.fit_state = {**(record.fit_state or {}), **parts}


def kept_encoding(last: Earlier | None, n_unique: int) -> str | None:
    """The encoding to keep without comparing again, or None to compare: from
    COMPARE_ALWAYS_BELOW measured candidates (`n_unique`) on, the last comparison's choice
    while they have grown by less than REFRESH_GROWTH since it (and not shrunk: results can
    be retracted)."""
    if last is None or last.encoding is None or not last.encoding_n or \
            n_unique < COMPARE_ALWAYS_BELOW:
        return None
    return last.encoding if last.encoding_n <= n_unique < REFRESH_GROWTH * last.encoding_n \
        else None


def warm_start(last: Earlier | None, encoding: str | None, n: int) -> tuple[dict | None, int]:
    """The hyper-parameters a GP fit on `n` observations under `encoding` starts from (None:
    a cold start), and the observations at the last cold start to log if it stays warm.

    - The same number of observations as the last fit (a suggestion asked for again after
      `release`, or the scores of the report): the start that fit used, so that the same
      data give the same model and the same suggestions.
    - More, but fewer than REFRESH_GROWTH times those at the last cold start: the
      hyper-parameters the last fit ended with.
    - Otherwise (nothing logged, another encoding, fewer observations than then after a
      retraction, or grown by REFRESH_GROWTH): a cold start.
    """
    fit = None if last is None else last.fit
    if not fit or fit.get("encoding") != encoding:
        return None, n
    then, cold = fit.get("n"), fit.get("cold_n")
    if not (isinstance(then, int) and isinstance(cold, int)):
        return None, n
    if n == then:
        start = fit.get("from")
        return (start, cold) if isinstance(start, dict) else (None, n)
    values = fit.get("values")
    if then < n < REFRESH_GROWTH * cold and isinstance(values, dict):
        return values, cold
    return None, n


def data_digest(rows, y, features: str = "", settings: dict | None = None) -> str:
    """A fingerprint of what a GP is fitted to: the observations (their candidates and
    values), the feature matrix (`features`, its `Encoder.feature_key`) and the GP's
    `settings`."""
    import hashlib
    import json

    rows = np.ascontiguousarray(np.asarray(rows, dtype=np.int64))
    values = np.ascontiguousarray(np.asarray(y, dtype=np.float64))
    context = json.dumps([features, settings or {}], sort_keys=True, default=repr)
    return hashlib.sha256(rows.tobytes() + values.tobytes() + context.encode()).hexdigest()


def same_fit(last: Earlier | None, encoding: str | None, digest: str) -> dict | None:
    """The last GP fit when it was made on exactly these observations (`data_digest`) under
    `encoding`: its hyper-parameters give the same model again without fitting (a
    suggestion asked for again after `release`, a prediction or the report's scores right
    after a suggestion); else None."""
    fit = None if last is None else last.fit
    if fit and fit.get("data") == digest and fit.get("encoding") == encoding and \
            isinstance(fit.get("values"), dict):
        return fit
    return None


def fit_entry(model, start: dict | None, cold_n: int, encoding: str | None, n: int,
              digest: str) -> dict:
    """What the next cycle needs of the GP `model` just fitted on `n` observations (with
    `data_digest` `digest`) under `encoding` from `start` (`warm_start`'s answer: the start
    and the observations at the last cold start), logged as `Earlier.fit`."""
    warm = model.fit_start_ == "warm"
    return {"encoding": encoding, "n": n, "cold_n": cold_n if warm else n,
            "start": model.fit_start_, "from": start, "values": model.hyperparameters_,
            "data": digest}
