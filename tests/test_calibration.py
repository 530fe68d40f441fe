"""Calibration diagnostics, warnings and out-of-distribution scores."""

import numpy as np
import pandas as pd
import pytest
import torch

import designloop as dl
from designloop.trust.calibration import (
    diagnose,
    gp_leave_one_out,
    regression_diagnostics,
    reliability,
    warnings,
)
from designloop.trust.metrics import expected_calibration_error
from designloop.trust.ood import relative_mahalanobis, variance_ratio


def data(n=40, seed=0):
    gen = np.random.default_rng(seed)
    X = gen.uniform(-3, 3, (n, 1))
    return X, np.sin(X[:, 0]) + 0.2 * gen.normal(size=n)


def test_gp_leave_one_out_equals_refitting_with_fixed_hyperparameters():
    X, y = data(12)
    gp = dl.GPRegressor().fit(X, y)
    mean, var = gp_leave_one_out(gp)
    bm = gp.model_
    Xn, yt = bm.train_inputs[0], bm.train_targets
    scale = float(bm.outcome_transform.stdvs.reshape(()))
    shift = float(bm.outcome_transform.means.reshape(()))
    noise = bm.likelihood.noise.reshape(())
    with torch.no_grad():
        for i in (0, 5, 11):
            keep = [j for j in range(12) if j != i]
            K = bm.covar_module(Xn[keep]).to_dense() + noise * torch.eye(11)
            k = bm.covar_module(Xn[keep], Xn[i : i + 1]).to_dense()[:, 0]
            m0 = bm.mean_module(Xn[:1]).reshape(-1)[0]
            w = torch.linalg.solve(K, k)
            mu = m0 + w @ (yt[keep] - m0)
            v = bm.covar_module(Xn[i : i + 1]).to_dense()[0, 0] - w @ k + noise
            assert mean[i] == pytest.approx(float(mu) * scale + shift, abs=1e-8)
            assert var[i] == pytest.approx(float(v) * scale**2, rel=1e-6)


def test_regression_diagnostics_hand_computed():
    y = np.array([0.0, 1.0, 2.0, 3.0])
    d = regression_diagnostics(y, y + np.array([0.5, -0.5, 2.0, 0.0]), np.ones(4))
    assert d["rmse"] == pytest.approx(np.sqrt((0.25 + 0.25 + 4) / 4))
    assert d["coverage50"] == pytest.approx(0.75)  # |z| <= 0.674 for 0.5, 0.5, 0
    assert d["coverage95"] == pytest.approx(0.75)  # |z| = 2 is outside 1.96
    assert len(d["calibration_curve"]) == 19


def test_well_specified_gp_is_calibrated_and_overconfident_model_is_warned_about():
    X, y = data(60)
    d = diagnose(dl.GPRegressor().fit(X, y), X, y)
    assert d["method"] == "leave-one-out" and 0.8 <= d["coverage90"] <= 1.0
    assert warnings(d) == []
    # an ensemble trained to memorise the data claims tiny noise: intervals too narrow
    bad = regression_diagnostics(y, y + 0.5, np.full(60, 0.01))
    assert bad["coverage90"] < 0.7
    assert "overconfident" in warnings(bad)[0]


def test_classification_diagnostics_and_reliability():
    X, y = data(60)
    labels = (y > 0).astype(int)
    d = diagnose(dl.RandomForest(task="classification", n_estimators=30), X, labels)
    assert d["method"] == "5-fold" and d["accuracy"] > 0.8 and 0 <= d["ece"] <= 1
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.6, 0.4], [0.3, 0.7]])
    rows = reliability(probs, np.array([0, 1, 0, 1]), bins=5)
    # bins (0.4, 0.6], (0.6, 0.8], (0.8, 1]: confidences 0.6 | 0.8, 0.7 (one right) | 0.9
    assert rows == [[pytest.approx(0.6), 1.0, 1], [pytest.approx(0.75), 0.5, 2],
                    [pytest.approx(0.9), 1.0, 1]]
    # the ECE averages the same bins: 1/4 |1 - 0.6| + 2/4 |0.5 - 0.75| + 1/4 |1 - 0.9|
    ece = expected_calibration_error(torch.from_numpy(probs), torch.tensor([0, 1, 0, 1]), bins=5)
    assert ece == pytest.approx(0.25)
    assert diagnose(dl.GPRegressor(), X[:3], y[:3]) == {}  # too few observations


def test_ood_scores():
    X, y = data(30)
    gp = dl.GPRegressor().fit(X, y)
    pool = torch.tensor([[0.0], [2.0], [15.0]], dtype=torch.float64)
    ratio = variance_ratio(gp, pool, gp.predict(pool).epistemic_var)
    assert ratio[:2].max() < 0.2 and ratio[2] > 0.9
    rel = relative_mahalanobis(pool, torch.from_numpy(X))
    assert rel[0] < 0.2 and rel[2] > 3


def test_campaign_logs_diagnostics_and_flags_extrapolation():
    gen = np.random.default_rng(0)
    x = np.concatenate([gen.uniform(0, 1, 40), [8.0, 9.0]])
    df = pd.DataFrame({"x": x})
    c = dl.Campaign(df, target="y", seed=0)
    ids = list(range(12))
    c.observe(pd.DataFrame({"candidate_id": ids, "y": np.sin(3 * x[ids])}))
    picks = c.suggest(2)
    record = c.store.cycles().iloc[-1]["record"]
    assert record.diagnostics["method"] == "leave-one-out" and "coverage90" in record.diagnostics
    assert {"ood_score", "extrapolation"} <= set(picks.columns)
    # max-variance goes to the far candidates, which are extrapolations
    assert set(picks.candidate_id) == {40, 41} and picks.extrapolation.all()
    assert any(k.startswith("calibration") for k in c.status())


def test_suggestions_carry_conformal_intervals_and_sets():
    gen = np.random.default_rng(1)
    x = gen.uniform(0, 1, 60)
    truth = np.sin(6 * x) + 0.1 * gen.normal(size=60)
    for surrogate in ("gp", "forest"):
        c = dl.Campaign(pd.DataFrame({"x": x}), target="y", surrogate=surrogate, seed=0)
        c.observe(pd.DataFrame({"candidate_id": range(20), "y": truth[:20]}))
        picks = c.suggest(3)
        assert (picks.interval_lo < picks.predicted_mean).all()
        assert (picks.predicted_mean < picks.interval_hi).all()
        assert c.store.cycles().iloc[-1]["record"].conformal_level == 0.9
        if surrogate == "forest":  # split conformal: mean +- q sd, one q for every pick
            half = (picks.interval_hi - picks.interval_lo) / 2
            centre = (picks.interval_hi + picks.interval_lo) / 2
            np.testing.assert_allclose(centre, picks.predicted_mean, atol=1e-12)
            q = half / picks.predicted_sd
            np.testing.assert_allclose(q, q.iloc[0], rtol=1e-9)
            assert 0.5 < q.iloc[0] < 3.0  # 1.05 here: the forest sd is about right
    labels = np.where(x > 0.5, "hi", "lo")
    c = dl.Campaign(pd.DataFrame({"x": x}), target="cls", task="classification",
                    surrogate="forest", seed=0)
    c.observe(pd.DataFrame({"candidate_id": range(20), "cls": labels[:20]}))
    picks = c.suggest(3)
    sets = picks.prediction_set.tolist()
    assert all(s and set(s.split("|")) <= {"hi", "lo"} for s in sets)


def test_miscalibrated_surrogate_warns_in_suggest_and_status():
    # a GP with a fixed, far too small noise on noisy data is overconfident out of sample
    gen = np.random.default_rng(3)
    x = gen.uniform(0, 1, 80)
    y = np.sin(6 * x) + 1.0 * gen.normal(size=80)
    c = dl.Campaign(pd.DataFrame({"x": x}), target="y", seed=0,
                    surrogate_params={"noise": 1e-4})
    c.observe(pd.DataFrame({"candidate_id": range(40), "y": y[:40]}))
    with pytest.warns(dl.CalibrationWarning, match="overconfident"):
        c.suggest(1)
    assert "overconfident" in c.status()["warning"]


def test_mahalanobis_score_of_a_single_candidate():
    from designloop.trust.ood import relative_mahalanobis

    X_obs = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=torch.float64)
    inside = relative_mahalanobis(torch.tensor([[0.5, 0.5]], dtype=torch.float64), X_obs)
    outside = relative_mahalanobis(torch.tensor([[3.0, 3.0]], dtype=torch.float64), X_obs)
    assert inside.item() == pytest.approx(0.0, abs=1e-12) and outside.item() > 1.0
