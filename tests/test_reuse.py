"""A cycle reuses the last one's work: the GP starts from the hyper-parameters the last fit
ended with (fewer likelihood evaluations, the same optimum), falls back to a cold start when
that start is of no use, and the encoding comparison of a library of molecules runs again
only once the measured candidates have grown by half; all of it logged with the cycle, in a
table older versions ignore."""

import json
import sqlite3

import numpy as np
import pandas as pd
import pytest
import torch
from gpytorch.mlls import ExactMarginalLogLikelihood

import designloop as dl
from designloop.campaign import reuse
from designloop.surrogates.gp_tools import fit_loss


def _data(n, seed=0, d=3):
    gen = torch.Generator().manual_seed(seed)
    X = torch.rand(n, d, generator=gen, dtype=torch.float64)
    y = torch.sin(6 * X[:, 0]) + X[:, 1] ** 2 - X[:, 2] + 0.05 * torch.randn(
        n, generator=gen, dtype=torch.float64)  # further columns do not matter
    return X, y


def _counted(monkeypatch):
    """Count marginal-likelihood evaluations."""
    calls = []
    forward = ExactMarginalLogLikelihood.forward

    def counting(self, *args, **kwargs):
        calls.append(1)
        return forward(self, *args, **kwargs)

    monkeypatch.setattr(ExactMarginalLogLikelihood, "forward", counting)
    return calls


def _loss(gp):
    return fit_loss(ExactMarginalLogLikelihood(gp.model_.likelihood, gp.model_))


def test_a_warm_start_reaches_the_cold_optimum_in_fewer_evaluations(monkeypatch):
    X, y = _data(63, d=8)  # eight lengthscales: many cold steps
    earlier = dl.GPRegressor().fit(X[:60], y[:60])
    calls = _counted(monkeypatch)
    cold = dl.GPRegressor().fit(X, y)
    n_cold = len(calls)
    calls.clear()
    warm = dl.GPRegressor().fit(X, y, start=earlier.hyperparameters_)
    n_warm = len(calls)
    assert cold.fit_start_ == "cold" and warm.fit_start_ == "warm"
    assert n_warm * 2 < n_cold, (n_warm, n_cold)  # a quarter of the steps at most
    assert _loss(warm) == pytest.approx(_loss(cold), abs=1e-3)
    assert torch.allclose(warm.predict(X).mean, cold.predict(X).mean, atol=1e-2)


def test_a_start_that_does_not_fit_the_model_is_a_cold_start():
    X, y = _data(20)
    other = dl.GPRegressor().fit(X[:, :2], y)  # two lengthscales, not three
    cold = dl.GPRegressor().fit(X, y)
    for start in (other.hyperparameters_, {"no such": [1.0]},
                  {k: [float("nan")] * len(np.atleast_1d(v)) if isinstance(v, list) else
                   float("nan") for k, v in cold.hyperparameters_.items()}):
        gp = dl.GPRegressor().fit(X, y, start=start)
        assert gp.fit_start_ == "cold"
        assert torch.equal(gp.predict(X).mean, cold.predict(X).mean)  # as if none was given


def test_a_warm_start_that_ends_worse_than_a_cold_one_begins_is_dropped():
    X, y = _data(30)
    cold = dl.GPRegressor().fit(X, y)
    # every lengthscale huge and almost all variance noise: a flat plateau the optimiser
    # cannot leave in its few steps
    stuck = {k: (np.full(np.shape(v), 12.0).tolist() if "lengthscale" in k else v)
             for k, v in cold.hyperparameters_.items()}
    stuck = {k: (np.full(np.shape(v), 3.0).tolist() if "noise" in k else v)
             for k, v in stuck.items()}
    gp = dl.GPRegressor(max_iter=2).fit(X, y, start=stuck)
    assert gp.fit_start_.startswith("cold: the warm start ended worse")


def test_the_start_rules():
    last = reuse.Earlier(fit={"encoding": None, "n": 12, "cold_n": 10, "values": {"a": 1.0}})
    assert reuse.warm_start(last, None, 14) == ({"a": 1.0}, 10)
    assert reuse.warm_start(last, None, 12) == (None, 12)  # the same data: as it started
    assert reuse.warm_start(last, None, 15) == (None, 15)  # grown by half since cold
    assert reuse.warm_start(last, None, 11) == (None, 11)  # results were retracted
    assert reuse.warm_start(last, "morgan", 14) == (None, 14)  # another encoding
    assert reuse.warm_start(reuse.Earlier(), None, 14) == (None, 14)
    assert reuse.warm_start(reuse.Earlier(fit={"encoding": None, "n": "12", "cold_n": 10,
                                               "values": {}}), None, 14) == (None, 14)
    warm = reuse.Earlier(fit={"encoding": None, "n": 12, "cold_n": 10, "from": {"b": 2.0},
                              "values": {"a": 1.0}})
    assert reuse.warm_start(warm, None, 12) == ({"b": 2.0}, 10)  # the start it had
    chosen = reuse.Earlier(encoding="descriptors", encoding_n=60)
    assert [reuse.kept_encoding(chosen, n) for n in (59, 60, 89, 90)] == [
        None, "descriptors", "descriptors", None]
    few = reuse.Earlier(encoding="descriptors", encoding_n=8)  # below 50: compared always
    assert reuse.kept_encoding(few, 9) is None


def _grid(n=30, seed=0):
    rng = np.random.default_rng(seed)
    table = pd.DataFrame({"a": rng.uniform(size=n), "b": rng.uniform(size=n),
                          "c": rng.uniform(size=n)})
    truth = np.sin(6 * table["a"]) + table["b"] ** 2 - table["c"]
    return table, truth.to_numpy()


def _fits(path):
    con = sqlite3.connect(path)
    rows = con.execute("SELECT cycle, state FROM fits ORDER BY cycle").fetchall()
    con.close()
    return {cycle: json.loads(state) for cycle, state in rows}


def test_a_campaign_starts_each_fit_where_the_last_ended(tmp_path):
    table, truth = _grid()
    path = tmp_path / "lab.db"
    c = dl.Campaign(table, target="y", goal="maximize", store=path)
    ids = list(range(10))
    c.observe(pd.DataFrame({"candidate_id": ids, "y": truth[ids]}))
    c.suggest(2)
    for more in ([10, 11], [12, 13], [14, 15]):  # 12, 14, then 16 >= 1.5 x 10
        c.release()
        c.observe(pd.DataFrame({"candidate_id": more, "y": truth[more]}))
        c = dl.Campaign.open(path)  # a new process would start from the file alone
        c.suggest(2)
    starts = [(s["gp"]["n"], s["gp"]["cold_n"], s["gp"]["start"]) for s in _fits(path).values()]
    assert starts == [(10, 10, "cold"), (12, 10, "warm"), (14, 10, "warm"), (16, 16, "cold")]
    con = sqlite3.connect(path)
    infos = [info for (info,) in con.execute("SELECT info FROM cycles")]
    assert con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == ("3",)
    con.close()
    assert all('"version": 1' in info and "fit_state" not in info for info in infos)
    # a cycle that is discarded takes its fit with it
    c.release()
    cycle = int(c.suggest(1)["cycle"].iloc[0])
    assert cycle in _fits(path)
    c.store.discard_cycle(cycle)
    assert cycle not in _fits(path)


def test_the_same_data_give_the_same_model_again(tmp_path):
    """A suggestion asked for again after `release`, and the report's scores, refit the
    warm-started model the cycle used, not a cold one."""
    table, truth = _grid(60)
    c = dl.Campaign(table, target="y", goal="maximize", store=tmp_path / "lab.db")
    c.observe(pd.DataFrame({"candidate_id": range(10), "y": truth[:10]}))
    ids = c.suggest(2)["candidate_id"].to_numpy()
    c.observe(pd.DataFrame({"candidate_id": ids, "y": truth[ids]}))
    first = c.suggest(3)
    assert _fits(tmp_path / "lab.db")[2]["gp"]["start"] == "warm"
    scores = c.score_candidates()
    c.release()
    again = c.suggest(3)
    pd.testing.assert_frame_equal(again.drop(columns="cycle"), first.drop(columns="cycle"))
    refit = _fits(tmp_path / "lab.db")[3]["gp"]
    assert refit == _fits(tmp_path / "lab.db")[2]["gp"]  # the same model, kept, not refitted
    c.release()
    pd.testing.assert_frame_equal(c.score_candidates(), scores)


def test_the_same_data_keep_the_fitted_hyper_parameters():
    X, y = _data(30)
    first = dl.GPRegressor().fit(X, y)
    kept = dl.GPRegressor().fit(X, y, start=first.hyperparameters_, refit=False)
    assert kept.fit_start_ == "kept" and kept.hyperparameters_ == first.hyperparameters_
    assert torch.equal(kept.predict(X).mean, first.predict(X).mean)
    assert reuse.data_digest([1, 2], [0.5, 1.0]) != reuse.data_digest([1, 2], [0.5, 1.5])
    # other features (new rows encoded with the pool) or other GP settings: fitted again
    assert reuse.data_digest([1], [1.0], "features a") != reuse.data_digest([1], [1.0], "b")
    assert reuse.data_digest([1], [1.0], "a", {"kernel": "rbf"}) != reuse.data_digest(
        [1], [1.0], "a", {"kernel": "matern"})


def test_a_warm_fit_that_fails_gives_way_to_a_cold_one(monkeypatch):
    from botorch.exceptions import ModelFittingError

    from designloop.surrogates import gp as gp_module

    X, y = _data(30)
    start = dl.GPRegressor().fit(X[:25], y[:25]).hyperparameters_
    cold = dl.GPRegressor().fit(X, y)
    real = gp_module.optimise

    def failing_when_warm(mll, jitter, seed, max_iter):
        if max_iter < 200:
            raise ModelFittingError("all attempts to fit the model have failed")
        return real(mll, jitter, seed, max_iter)

    monkeypatch.setattr(gp_module, "optimise", failing_when_warm)
    gp = dl.GPRegressor().fit(X, y, start=start)
    assert gp.fit_start_ == "cold: the warm start failed" and gp.jitter_ is None
    assert torch.equal(gp.predict(X).mean, cold.predict(X).mean)


def test_an_unknown_encoding_in_the_fits_table_is_compared_afresh():
    class Log:
        def last_fit_state(self):
            return {"encoding": "bogus", "encoding_n": 60}

        def last_record_value(self, field):
            return None

    class Config:
        surrogate = "gp"

    assert reuse.earlier(Log(), Config()).encoding is None


def test_a_damaged_fits_row_means_a_cold_start(tmp_path):
    table, truth = _grid()
    path = tmp_path / "lab.db"
    c = dl.Campaign(table, target="y", goal="maximize", store=path)
    c.observe(pd.DataFrame({"candidate_id": range(10), "y": truth[:10]}))
    c.suggest(2)
    c.store.close()
    con = sqlite3.connect(path)
    con.execute("UPDATE fits SET state = 'not json'")
    con.commit()
    con.close()
    c = dl.Campaign.open(path)
    c.observe(pd.DataFrame({"candidate_id": c.store.pending(), "y": truth[c.store.pending()]}))
    c.suggest(2)
    con = sqlite3.connect(path)
    (state,) = con.execute("SELECT state FROM fits WHERE cycle = 2").fetchone()
    con.close()
    assert json.loads(state)["gp"]["start"] == "cold"  # 12 observations, as if none before


@pytest.mark.slow
def test_the_encodings_are_compared_again_once_the_measured_candidates_grow_by_half(
        monkeypatch):
    monkeypatch.setattr(reuse, "COMPARE_ALWAYS_BELOW", 6)  # a small table
    smiles = ["C" * i + "O" for i in range(1, 9)] + ["C" * i + "N" for i in range(1, 9)] \
        + ["c1ccccc1" + "C" * i for i in range(8)]
    table = pd.DataFrame({"molecule": smiles})
    truth = np.array([len(s) + 2.0 * ("N" in s) for s in smiles])
    c = dl.Campaign(table, target="y", goal="maximize", smiles_encoding="likelihood", seed=0)
    ids = [0, 5, 9, 13, 17, 21]
    c.observe(pd.DataFrame({"candidate_id": ids, "y": truth[ids]}))
    seen = []
    for _ in range(3):  # 6 measured: compared; 8: kept; 10 (>= 9): compared again
        picks = c.suggest(2)["candidate_id"].tolist()
        record = c.store.cycles()["record"].iloc[-1]
        seen.append((len(c.observations()), record.encoding_scores is not None,
                     record.encoding_reason))
        c.observe(pd.DataFrame({"candidate_id": picks, "y": truth[picks]}))
    assert [(n, compared) for n, compared, _ in seen] == [(6, True), (8, False), (10, True)]
    assert "on 6 measured candidates; compared again once they grow by half" in seen[1][2]
