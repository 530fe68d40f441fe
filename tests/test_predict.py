"""Predictions for any table: every candidate, rows found by id or by their values, and rows
that are no candidate (other conditions, a new molecule), with intervals that cover, the
chance of beating the best so far and the extrapolation flag; nothing is logged."""

import sqlite3
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import designloop as dl


def _truth(x):
    return np.sin(3 * x) + 0.5 * x


@pytest.fixture(scope="module")
def campaign():
    x = np.round(np.linspace(0.0, 2.0, 81), 3)
    table = pd.DataFrame({"x": x})
    c = dl.Campaign(table, target="y", goal="maximize", seed=0)
    ids = np.arange(0, 81, 6)  # 14 results spread over the range
    c.observe(pd.DataFrame({"candidate_id": ids, "y": _truth(x[ids])}))
    return c


def test_every_candidate_is_predicted_with_intervals_that_cover(campaign):
    cycles = len(campaign.store.cycles())
    pred = campaign.predict()
    assert len(pred) == 81 and pred["candidate_id"].tolist() == list(range(81))
    for col in ("predicted_mean", "predicted_sd", "epistemic_sd", "interval_lo", "interval_hi",
                "p_improve", "ood_score", "extrapolation"):
        assert col in pred, col
    truth = _truth(pred["x"].to_numpy())
    assert np.abs(pred["predicted_mean"] - truth).max() < 0.1  # a smooth curve, well sampled
    inside = (pred["interval_lo"] <= truth) & (truth <= pred["interval_hi"])
    assert inside.mean() >= 0.85  # the 90% intervals cover
    assert pred["p_improve"].between(0, 1).all()
    best = pred.loc[pred["predicted_mean"].idxmax(), "x"]
    assert abs(best - 0.6 - 0.0) < 0.2  # the maximum of sin(3x) + x / 2 on [0, 2]: x = 0.6
    assert len(campaign.store.cycles()) == cycles  # nothing logged


def test_rows_are_found_by_id_or_by_their_values(campaign):
    pool = campaign.predict()
    by_id = campaign.predict(pd.DataFrame({"candidate_id": [3, 40]}))
    by_value = campaign.predict(pd.DataFrame({"x": [0.075, 1.0]}))
    cols = ["predicted_mean", "predicted_sd", "interval_lo", "interval_hi"]
    assert by_id["candidate_id"].tolist() == [3, 40]
    assert by_value["candidate_id"].tolist() == [3, 40]
    for frame in (by_id, by_value):
        np.testing.assert_allclose(frame[cols].to_numpy(), pool.loc[[3, 40], cols].to_numpy())


def test_rows_that_are_no_candidate_are_predicted_as_one_would_be(campaign):
    new = pd.DataFrame({"x": [0.6125, 9.0]})  # between two candidates; far away
    pred = campaign.predict(new)
    assert pred["candidate_id"].isna().all()
    assert pred.loc[0, "predicted_mean"] == pytest.approx(_truth(0.6125), abs=0.1)
    assert not pred.loc[0, "extrapolation"] and pred.loc[1, "extrapolation"]
    assert pred.loc[1, "predicted_sd"] > 3 * pred.loc[0, "predicted_sd"]


def test_a_new_category_is_encoded_with_the_candidates():
    table = pd.DataFrame({"t": np.tile([20.0, 40.0, 60.0], 4),
                          "solvent": np.repeat(["water", "ethanol", "thf", "dmso"], 3)})
    c = dl.Campaign(table, target="y", seed=0)
    c.observe(pd.DataFrame({"candidate_id": range(0, 12, 2), "y": np.arange(6.0)}))
    pred = c.predict(pd.DataFrame({"t": [40.0], "solvent": ["toluene"]}))
    assert pd.isna(pred["candidate_id"].iloc[0])
    assert np.isfinite(pred[["predicted_mean", "predicted_sd"]].to_numpy()).all()


def test_a_new_molecule_is_encoded_with_the_candidates():
    smiles = ["CCO", "CCCO", "CCCCO", "CC(C)O", "OCCO", "CCN", "CCCN", "c1ccccc1O"]
    table = pd.DataFrame({"alcohol": np.repeat(smiles, 3),
                          "t": np.tile([20.0, 40.0, 60.0], len(smiles))})
    y = np.arange(len(table), dtype=float) % 7
    c = dl.Campaign(table, target="y", goal="maximize", seed=0)
    c.observe(pd.DataFrame({"candidate_id": range(0, 24, 2), "y": y[0:24:2]}))
    pred = c.predict(pd.DataFrame({"alcohol": ["CCCCCO", "CCO"], "t": [40.0, 40.0]}))
    assert pred["candidate_id"].tolist()[1] == 1 and pd.isna(pred["candidate_id"].iloc[0])
    assert np.isfinite(pred[["predicted_mean", "predicted_sd"]].to_numpy()).all()


def test_classification_gives_probabilities_and_sets():
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"a": rng.uniform(size=60), "b": rng.uniform(size=60)})
    label = np.where(table["a"] > 0.5, "glass", "crystal")
    c = dl.Campaign(table, target="phase", task="classification", seed=0)
    c.observe(pd.DataFrame({"candidate_id": range(20), "phase": label[:20]}))
    pred = c.predict()
    probs = pred[["prob_crystal", "prob_glass"]].to_numpy()
    assert np.allclose(probs.sum(1), 1)
    assert (np.where(probs[:, 1] > 0.5, "glass", "crystal") == label).mean() >= 0.85
    assert pred["prediction_set"].str.len().gt(0).all()


def test_what_cannot_be_predicted_is_one_clear_error(campaign):
    empty = dl.Campaign(pd.DataFrame({"x": [1.0, 2.0, 3.0]}), target="y")
    with pytest.raises(dl.InputError, match="no model to predict with yet: nothing measured"):
        empty.predict()
    with pytest.raises(dl.InputError, match="new.csv: .*candidate_id 500 is not a candidate"):
        campaign.predict(pd.DataFrame({"candidate_id": [500]}), source="new.csv")
    with pytest.raises(dl.InputError, match=r"new.csv: column 'x' is empty at line\(s\) 3"):
        campaign.predict(pd.DataFrame({"x": [0.3, None]}), source="new.csv")
    with pytest.raises(dl.InputError, match="lacks the feature column"):
        campaign.predict(pd.DataFrame({"temperature": [0.3]}))
    two = dl.Campaign(pd.DataFrame({"x": [1.0, 2.0, 3.0]}), targets={"a": "max", "b": "max"})
    with pytest.raises(dl.InputError, match="one target"):
        two.predict()


def test_the_command_line_writes_every_prediction(tmp_path):
    x = np.round(np.linspace(0.0, 2.0, 41), 3)
    pd.DataFrame({"x": x}).to_csv(tmp_path / "c.csv", index=False)
    pd.DataFrame({"x": x[::5], "y": _truth(x[::5])}).to_csv(tmp_path / "r.csv", index=False)
    pd.DataFrame({"x": [0.33, 1.525]}).to_csv(tmp_path / "new.csv", index=False)
    pd.DataFrame({"x": [0.33, None]}).to_csv(tmp_path / "bad.csv", index=False)
    cli = [sys.executable, "-m", "designloop.cli"]

    def run(*args):
        return subprocess.run([*cli, *args], capture_output=True, text=True, cwd=tmp_path)

    assert run("init", "lab.db", "-c", "c.csv", "-t", "y", "--goal", "maximize").returncode == 0
    assert run("observe", "lab.db", "r.csv").returncode == 0
    before = sqlite3.connect(tmp_path / "lab.db").execute("SELECT COUNT(*) FROM cycles").fetchone()
    done = run("predict", "lab.db", "-o", "all.csv")
    assert done.returncode == 0, done.stderr
    written = pd.read_csv(tmp_path / "all.csv")
    assert len(written) == 41 and {"predicted_mean", "interval_lo"} <= set(written.columns)
    done = run("predict", "lab.db", "new.csv", "-o", "two.csv")
    assert done.returncode == 0, done.stderr
    assert pd.read_csv(tmp_path / "two.csv")["candidate_id"].isna().all()
    bad = run("predict", "lab.db", "bad.csv")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "bad.csv" in bad.stderr
    after = sqlite3.connect(tmp_path / "lab.db").execute("SELECT COUNT(*) FROM cycles").fetchone()
    assert before == after == (0,)


def test_new_rows_keep_their_values_and_candidates_their_predictions():
    table = pd.DataFrame({"t": np.tile([20, 40, 60, 80], 3),  # whole numbers: int64
                          "base": np.repeat(["K2CO3", "Cs2CO3", "DBU"], 4)})
    y = table["t"] / 10 + np.repeat([0.0, 1.0, 2.0], 4)
    c = dl.Campaign(table, target="y", goal="maximize", seed=0)
    c.observe(pd.DataFrame({"candidate_id": range(12), "y": y}))
    pool = c.predict()
    mixed = c.predict(pd.DataFrame({"t": [50.5, 40], "base": ["DBU", "DBU"]}))
    assert pd.isna(mixed["candidate_id"].iloc[0]) and mixed["candidate_id"].iloc[1] == 9
    # a candidate in a table with new rows gets what predict() gives it
    assert mixed.loc[1, "predicted_mean"] == pool.loc[9, "predicted_mean"]
    # 50.5 is not cut to 50 (nor taken for a candidate): between 40 and 60 of DBU
    lo, hi = sorted(pool.loc[[9, 10], "predicted_mean"])
    assert lo < mixed.loc[0, "predicted_mean"] < hi
    with pytest.raises(dl.InputError, match=r"new.csv: column 't' is numeric but not a "
                                            r"number at line\(s\) 2"):
        c.predict(pd.DataFrame({"t": ["abc"], "base": ["DBU"]}), source="new.csv")


def test_a_suggestions_file_fed_back_gets_fresh_predictions_and_nan_intervals_early():
    x = np.round(np.linspace(0.0, 2.0, 41), 3)
    c = dl.Campaign(pd.DataFrame({"x": x}), target="y", goal="maximize", seed=0)
    c.observe(pd.DataFrame({"candidate_id": [0, 10, 20, 30, 40, 5], "y": _truth(x[[0, 10, 20,
                                                                                  30, 40, 5]])}))
    picks = c.suggest(2)  # six results: intervals are not finite yet
    again = c.predict(picks)
    assert list(again.columns).count("predicted_mean") == 1
    assert again["interval_lo"].isna().all() and again["interval_hi"].isna().all()
    np.testing.assert_allclose(again["predicted_mean"], picks["predicted_mean"])


def test_a_campaign_with_an_outcome_constraint_predicts():
    x = np.round(np.linspace(0.0, 2.0, 21), 3)
    c = dl.Campaign(pd.DataFrame({"x": x}), target="y", goal="maximize",
                    constraints=["purity >= 0.5"], seed=0)
    ids = [0, 5, 10, 15, 20]
    c.observe(pd.DataFrame({"candidate_id": ids, "y": _truth(x[ids]), "purity": x[ids] / 2}))
    pred = c.predict()
    assert len(pred) == 21 and pred["p_improve"].between(0, 1).all()


def test_a_category_written_as_a_number_is_the_pools_category():
    table = pd.DataFrame({"t": np.tile([20.0, 30.0, 40.0], 3),
                          "grade": np.repeat(["1", "2", "high"], 3)})
    c = dl.Campaign(table, target="y", seed=0)
    c.observe(pd.DataFrame({"candidate_id": range(9), "y": np.arange(9.0)}))
    as_text = c.predict(pd.DataFrame({"t": [25.0], "grade": ["2"]}))
    as_number = c.predict(pd.DataFrame({"t": [25.0], "grade": [2.0]}))
    assert as_number["predicted_mean"].iloc[0] == as_text["predicted_mean"].iloc[0]


def test_class_probabilities_fed_back_are_replaced():
    rng = np.random.default_rng(1)
    table = pd.DataFrame({"a": rng.uniform(size=30)})
    label = np.where(table["a"] > 0.5, "yes", "no")
    c = dl.Campaign(table, target="ok", task="classification", seed=0)
    c.observe(pd.DataFrame({"candidate_id": range(12), "ok": label[:12]}))
    first = c.predict()
    again = c.predict(first)
    assert list(again.columns).count("prob_yes") == 1
    np.testing.assert_allclose(again["prob_yes"], first["prob_yes"])
