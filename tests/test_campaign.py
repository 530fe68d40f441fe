"""Campaign: the loop, pending logic, replicates, resume, molecules and classification."""

import numpy as np
import pandas as pd
import pytest

import designloop as dl


def suzuki():
    gen = np.random.default_rng(0)
    t, c = np.meshgrid(np.linspace(60, 100, 6), np.linspace(0.5, 5, 6))
    df = pd.DataFrame({"temperature": t.ravel(), "catalyst": c.ravel(),
                       "solvent": np.array(["thf", "dmf", "water"])[gen.integers(0, 3, 36)]})
    df["yield"] = (80 - 0.05 * (df.temperature - 85) ** 2 - 3 * (df.catalyst - 3) ** 2
                   + 5 * (df.solvent == "dmf"))
    return df


def answer(campaign, picks, truth):
    res = picks.copy()
    res[campaign.config.target] = truth.loc[picks.candidate_id, campaign.config.target].to_numpy()
    return campaign.observe(res)


def test_loop_suggests_unmeasured_candidates_and_improves():
    truth = suzuki()
    c = dl.Campaign(truth.drop(columns="yield"), target="yield", goal="maximize",
                    batch_size=3, seed=0)
    first = c.suggest()
    assert list(first.columns[:4]) == ["candidate_id", "cycle", "rank", "score"]
    assert first["cycle"].eq(1).all() and first["yield"].isna().all()
    assert c.store.cycles()["kind"].iloc[0] == "initial"
    seen = set()
    for _ in range(6):
        picks = c.suggest() if seen else first
        assert not set(picks.candidate_id) & seen  # never suggests a measured one
        seen |= set(picks.candidate_id)
        answer(c, picks, truth)
    assert c.best()["yield"] >= truth["yield"].quantile(0.9)
    hist = c.history()
    assert len(hist) == 18 and hist["status"].eq("observed").all()
    assert hist["kind"].iloc[-1] == "model" and hist["predicted_mean"].notna().iloc[-1]
    assert c.status()["measured"] == 18


def test_pending_candidates_are_not_suggested_again_until_released():
    truth = suzuki()
    c = dl.Campaign(truth.drop(columns="yield"), target="yield", seed=1)
    a = c.suggest(5)
    b = c.suggest(5)
    assert not set(a.candidate_id) & set(b.candidate_id)
    assert c.status()["pending"] == 10
    assert c.release(a.candidate_id.tolist()) == 5
    assert c.status()["pending"] == 5
    with pytest.raises(dl.InputError, match="only 31 candidates are left"):
        c.suggest(32)


def test_replicates_are_kept_and_averaged():
    truth = suzuki()
    c = dl.Campaign(truth.drop(columns="yield"), target="yield", seed=0)
    c.observe(pd.DataFrame({"candidate_id": [4, 4, 7], "yield": [50.0, 54.0, 10.0]}))
    obs = c.observations()
    assert obs.loc[obs.candidate_id == 4, "yield"].tolist() == [50.0, 54.0]
    hist_measured = c.store.observations()
    assert len(hist_measured) == 3
    assert c.status()["measured"] == 2 and c.status()["measurements"] == 3


def test_observe_matches_rows_by_feature_values():
    truth = suzuki()
    c = dl.Campaign(truth.drop(columns="yield"), target="yield", seed=0)
    rows = truth.iloc[[3, 9]].copy()
    assert c.observe(rows) == 2
    assert sorted(c.store.observations().candidate_id) == [3, 9]


def test_observe_rejects_bad_rows_and_writes_nothing():
    truth = suzuki()
    c = dl.Campaign(truth.drop(columns="yield"), target="yield", seed=0)
    bad = truth.iloc[[1, 2]].copy()
    bad.loc[bad.index[1], "temperature"] = 12345.0
    with pytest.raises(dl.InputError, match="line 3 .* matches no candidate"):
        c.observe(bad)
    with pytest.raises(dl.InputError, match="must hold numbers"):
        c.observe(pd.DataFrame({"candidate_id": [1, 2], "yield": ["high", 3.0]}))
    with pytest.raises(dl.InputError, match="has no column 'yield'"):
        c.observe(pd.DataFrame({"candidate_id": [1]}))
    with pytest.raises(dl.InputError, match="not a candidate"):
        c.observe(pd.DataFrame({"candidate_id": [999], "yield": [1.0]}))
    assert c.store.observations().empty


def test_identical_candidates_need_an_id():
    df = pd.DataFrame({"x": [1.0, 1.0, 2.0], "y": [np.nan] * 3})
    c = dl.Campaign(df, target="y", seed=0)
    with pytest.raises(dl.InputError, match="identical candidates"):
        c.observe(pd.DataFrame({"x": [1.0], "y": [3.0]}))


def test_results_in_the_candidate_table_are_observations():
    truth = suzuki()
    partial = truth.copy()
    partial.loc[5:, "yield"] = np.nan
    c = dl.Campaign(partial, target="yield", goal="maximize", seed=0)
    assert c.status()["measured"] == 5
    assert c.suggest(2)["cycle"].iloc[0] == 1
    assert c.store.cycles()["kind"].iloc[0] == "model"


def test_reopening_resumes_with_the_same_next_suggestion(tmp_path):
    truth = suzuki()
    path = tmp_path / "lab.db"
    c = dl.Campaign(truth.drop(columns="yield"), target="yield", goal="maximize",
                    batch_size=2, seed=3, store=path)
    answer(c, c.suggest(), truth)
    answer(c, c.suggest(), truth)
    twin = dl.Campaign(truth.drop(columns="yield"), target="yield", goal="maximize",
                       batch_size=2, seed=3)
    for _cycle in c.store.cycles()["cycle"]:
        picks = twin.suggest()
        answer(twin, picks, truth)
    reopened = dl.Campaign.open(path)
    a = reopened.suggest()
    expected = twin.suggest()
    assert a.candidate_id.tolist() == expected.candidate_id.tolist()
    assert a.score.to_numpy() == pytest.approx(expected.score.to_numpy(), rel=1e-9)


def test_same_seed_same_suggestions_different_seed_differs():
    truth = suzuki()
    picks = [dl.Campaign(truth.drop(columns="yield"), target="yield", seed=s).suggest(4)
             for s in (5, 5, 6)]
    assert picks[0].candidate_id.tolist() == picks[1].candidate_id.tolist()
    assert picks[0].candidate_id.tolist() != picks[2].candidate_id.tolist()


def test_classification_single_class_falls_back_to_diversity():
    gen = np.random.default_rng(0)
    X = gen.uniform(size=(60, 2))
    df = pd.DataFrame({"a": X[:, 0], "b": X[:, 1]})
    label = np.where(X[:, 0] + X[:, 1] > 1, "works", "fails")
    c = dl.Campaign(df, target="outcome", task="classification", seed=0)
    first = [int(i) for i in np.flatnonzero(label == "fails")[:3]]
    c.observe(pd.DataFrame({"candidate_id": first, "outcome": ["fails"] * 3}))
    picks = c.suggest(2)
    cycle = c.store.cycles().iloc[-1]
    assert cycle["kind"] == "diversity" and "only the class 'fails'" in cycle["record"].reason
    # maximin moves away from the measured "fails" corner
    measured = X[first].mean(0)
    assert np.linalg.norm(X[picks.candidate_id] - measured, axis=1).min() > 0.3
    c.release()
    works = [int(i) for i in np.flatnonzero(label == "works")[:2]]
    c.observe(pd.DataFrame({"candidate_id": works, "outcome": ["works"] * 2}))
    nxt = c.suggest(2)
    assert {"prob_fails", "prob_works"} <= set(nxt.columns)
    assert c.store.cycles().iloc[-1]["kind"] == "model"
    assert c.store.cycles().iloc[-1]["record"].classes == ["fails", "works"]


def test_configuration_errors_name_the_fix():
    df = suzuki().drop(columns="yield")
    with pytest.raises(dl.InputError, match="choose one of: gp, gp_classifier"):
        dl.Campaign(df, target="yield", surrogate="svm")
    with pytest.raises(dl.InputError, match="for classification targets"):
        dl.Campaign(df, target="yield", acquisition="entropy")
    with pytest.raises(dl.InputError, match="set goal to maximize"):
        dl.Campaign(df, target="yield", acquisition="ucb")
    with pytest.raises(dl.InputError, match="goal must be one of"):
        dl.Campaign(df, target="yield", goal="best")
    with pytest.raises(dl.InputError, match="does not do classification"):
        dl.Campaign(df, target="y", task="classification", surrogate="gp")


def test_ensemble_and_forest_campaigns_run():
    truth = suzuki()
    for name in ("ensemble", "forest"):
        c = dl.Campaign(truth.drop(columns="yield"), target="yield", surrogate=name,
                        acquisition="bald", seed=0, surrogate_params=(
                            {"epochs": 50} if name == "ensemble" else {}))
        answer(c, c.suggest(4), truth)
        picks = c.suggest(2)
        assert picks["score"].notna().all()


@pytest.mark.slow
def test_smiles_campaign_chooses_an_encoding_and_logs_why():
    ligands = ["CCO", "c1ccccc1O", "CC(C)O", "OCCO", "c1ccncc1", "CC(=O)O", "CCN", "ClCCCl"]
    bases = ["[Na+].[OH-]", "CCN(CC)CC", "none"]
    rows = [(lig, b) for lig in ligands for b in bases]
    df = pd.DataFrame(rows, columns=["ligand", "base"])
    gen = np.random.default_rng(0)
    effect = {lig: gen.normal() for lig in ligands}
    df["yield"] = [effect[lig] + (0.5 if b == "none" else 0.0) for lig, b in rows]
    c = dl.Campaign(df.drop(columns="yield"), target="yield", goal="maximize", seed=0)
    assert c.encoder.roles_ == {"ligand": "smiles", "base": "smiles"}
    answer(c, c.suggest(8), df)
    c.suggest(1)
    record = c.store.cycles().iloc[-1]["record"]
    # eight ligands and three bases are the components of a reaction: Mordred descriptors
    assert record.encoding == "mordred" and record.encoding_scores is None
    assert "reaction components" in record.encoding_reason
    # a library of 101 alcohols: the encoding of highest leave-one-out likelihood, and why
    library = pd.DataFrame({"smiles": ["C" * (i + 1) + "O" for i in range(101)]})
    library["y"] = np.sin(np.arange(101) / 10)
    c = dl.Campaign(library.drop(columns="y"), target="y", goal="maximize", seed=0)
    answer(c, c.suggest(8), library)
    c.suggest(1)
    record = c.store.cycles().iloc[-1]["record"]
    assert set(record.encoding_scores) == {"onehot", "morgan", "descriptors"}
    assert record.encoding == max(record.encoding_scores, key=record.encoding_scores.get)


def test_objects_are_accepted_and_custom_ones_must_be_passed_again(tmp_path):
    truth = suzuki()
    c = dl.Campaign(truth.drop(columns="yield"), target="yield",
                    surrogate=dl.RandomForest(n_estimators=20), acquisition=dl.ACQUISITIONS["bald"])
    assert c.config.surrogate == "forest" and c.config.surrogate_params["n_estimators"] == 20
    assert c.config.acquisition == "bald"

    def distance_from_origin(pred, X, **context):
        return X.pow(2).sum(1)

    path = tmp_path / "custom.db"
    c = dl.Campaign(truth.drop(columns="yield"), target="yield", seed=0, store=path,
                    acquisition=distance_from_origin)
    answer(c, c.suggest(3), truth)
    picks = c.suggest(2)
    X = c.encoder.features()
    assert picks.score.tolist() == pytest.approx(X[picks.candidate_id].pow(2).sum(1).tolist())
    with pytest.raises(dl.InputError, match="distance_from_origin"):
        dl.Campaign.open(path)
    assert dl.Campaign.open(path, acquisition=distance_from_origin).status()["cycles"] == 2


def test_export_writes_history(tmp_path):
    truth = suzuki()
    c = dl.Campaign(truth.drop(columns="yield"), target="yield", seed=0)
    answer(c, c.suggest(3), truth)
    out = c.export(tmp_path / "h.csv")
    assert len(pd.read_csv(out)) == 3


def test_count_fingerprints_use_minmax_kernel():
    df = pd.DataFrame({"lig": ["CCO", "CCCO", "c1ccccc1O", "CC(C)O", "OCCO", "CCN", "CCCl"]})
    c = dl.Campaign(df, target="y", smiles_encoding="morgan",
                    fingerprint={"morgan_counts": True, "morgan_bits": 512})
    assert c.encoder.morgan_counts and c.encoder.default_kernel("morgan") == "minmax"
    c.observe(pd.DataFrame({"candidate_id": [0, 1, 2], "y": [1.0, 2.0, 0.5]}))
    c.suggest(1)
    assert c.store.cycles().iloc[-1]["record"].surrogate_params["kernel"] == "minmax"


def test_batches_use_the_right_selection_and_are_logged():
    truth = suzuki()
    c = dl.Campaign(truth.drop(columns="yield"), target="yield", goal="maximize",
                    batch_size=4, seed=0)
    answer(c, c.suggest(), truth)
    picks = c.suggest()
    assert c.store.cycles().iloc[-1]["record"].selection == "greedy"
    assert picks.candidate_id.nunique() == 4
    c.release()
    for selection in ("qlognei", "top_k", "diverse", "density"):
        c2 = dl.Campaign(truth.drop(columns="yield"), target="yield", goal="maximize",
                         batch_size=3, seed=0, selection=selection, initial_design="kmeans")
        answer(c2, c2.suggest(), truth)
        assert c2.store.cycles().iloc[0]["acquisition"] == "kmeans"
        assert c2.suggest().candidate_id.nunique() == 3
        assert c2.store.cycles().iloc[-1]["record"].selection == selection
    forest = dl.Campaign(truth.drop(columns="yield"), target="yield", surrogate="forest",
                         batch_size=3, seed=0, surrogate_params={"n_estimators": 20})
    answer(forest, forest.suggest(), truth)
    forest.suggest()
    assert forest.store.cycles().iloc[-1]["record"].selection == "kriging_believer"
    with pytest.raises(dl.InputError, match="selection must be one of"):
        dl.Campaign(truth.drop(columns="yield"), target="yield", selection="best")


def test_classification_batches_use_batch_bald():
    gen = np.random.default_rng(0)
    X = gen.uniform(size=(80, 2))
    label = np.where(X[:, 0] > X[:, 1], "a", "b")
    c = dl.Campaign(pd.DataFrame({"u": X[:, 0], "v": X[:, 1]}), target="cls",
                    task="classification", surrogate="ensemble", acquisition="bald",
                    surrogate_params={"epochs": 60}, batch_size=5, seed=0)
    first = c.suggest()
    c.observe(pd.DataFrame({"candidate_id": first.candidate_id, "cls": label[first.candidate_id]}))
    c.observe(pd.DataFrame({"candidate_id": [int(np.flatnonzero(label == "a")[0]),
                                             int(np.flatnonzero(label == "b")[0])],
                            "cls": ["a", "b"]}))
    picks = c.suggest()
    assert c.store.cycles().iloc[-1]["record"].selection == "batch_bald"
    assert picks.candidate_id.nunique() == 5


def test_default_classification_batches_are_diverse_margin_picks():
    gen = np.random.default_rng(0)
    X = gen.uniform(size=(80, 2))
    label = np.where(X[:, 0] > X[:, 1], "a", "b")
    c = dl.Campaign(pd.DataFrame({"u": X[:, 0], "v": X[:, 1]}), target="cls",
                    task="classification", batch_size=5, seed=0, diagnostics=False)
    assert c.config.acquisition == "margin"
    for _ in range(3):
        first = c.suggest()
        c.observe(pd.DataFrame({"candidate_id": first.candidate_id,
                                "cls": label[first.candidate_id]}))
    picks = c.suggest()
    record = c.store.cycles().iloc[-1]["record"]
    assert record.selection == "diverse" and picks.candidate_id.nunique() == 5
    assert not set(picks.candidate_id) & set(c.store.observations().candidate_id)


def test_notebook_view_shows_status_and_last_cycle():
    truth = suzuki()
    c = dl.Campaign(truth.drop(columns="yield"), target="yield", goal="maximize", seed=0)
    assert "designloop Campaign" in c._repr_html_()
    answer(c, c.suggest(3), truth)
    c.suggest(2)
    view = c._repr_html_()
    assert "Cycle 2 (model, log_expected_improvement)" in view and "predicted_mean" in view
    assert "pending" in view and "<table" in view


@pytest.mark.parametrize("acquisition", ["max_variance", "ucb"])
def test_large_pools_are_screened_with_the_same_suggestions(acquisition, monkeypatch):
    from designloop.campaign import modelling

    gen = np.random.default_rng(3)
    pool = pd.DataFrame(gen.uniform(size=(3000, 2)), columns=["a", "b"])
    truth = np.sin(5 * pool.a) + pool.b ** 2 + gen.normal(0, 0.05, 3000)
    measured = pool.iloc[:150].assign(y=truth[:150])

    def suggest(min_pool):
        monkeypatch.setattr(modelling, "SCREEN_MIN_POOL", min_pool)
        c = dl.Campaign(pool, target="y", goal="maximize", acquisition=acquisition,
                        batch_size=4, seed=0)
        c.observe(measured)
        return c.suggest(), c.store.cycles()["record"].iloc[-1]

    screened, info = suggest(1000)
    full, full_info = suggest(10**9)
    assert info.screened and not full_info.screened
    assert info.selection == full_info.selection == "greedy"
    assert screened.candidate_id.tolist() == full.candidate_id.tolist()
    cols = ["score", "predicted_mean", "predicted_sd", "interval_lo", "interval_hi"]
    np.testing.assert_allclose(screened[cols].to_numpy(float), full[cols].to_numpy(float),
                               rtol=0, atol=1e-8)


@pytest.fixture
def without_rdkit(monkeypatch):
    """RDKit made unimportable, as on a machine without the chem extra."""
    import sys

    for name in [m for m in sys.modules if m == "rdkit" or m.startswith("rdkit.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "rdkit", None)


def test_text_columns_are_categories_without_rdkit(without_rdkit):
    truth = suzuki()
    truth["solvent"] = truth["solvent"].map({"thf": "THF", "dmf": "DMF", "water": "H2O"})
    truth["ligand"] = np.array(["CCO", "c1ccccc1O", "CCN"])[np.arange(36) % 3]
    c = dl.Campaign(truth.drop(columns="yield"), target="yield", goal="maximize", seed=0)
    assert c.encoder.roles_ == {"temperature": "numeric", "catalyst": "numeric",
                                "solvent": "categorical", "ligand": "categorical"}
    assert c.encoder.features().shape == (36, 2 + 3 + 3)
    answer(c, c.suggest(4), truth)
    picks = c.suggest(2)
    assert len(picks) == 2 and picks["predicted_mean"].notna().all()
    assert c.store.cycles()["kind"].tolist() == ["initial", "model"]
    with pytest.raises(dl.InputError, match=r"need RDKit: pip install 'designloop\[chem\]'"):
        dl.Campaign(truth.drop(columns="yield"), target="yield", roles={"ligand": "smiles"})


@pytest.mark.parametrize("goal, acquisition, expected", [
    ("maximise", "ei", ("maximize", "log_expected_improvement")),
    ("Max", "log-ei", ("maximize", "log_expected_improvement")),
    ("minimise", "UCB", ("minimize", "ucb")),
    ("min", "expected-improvement", ("minimize", "expected_improvement")),
    ("explore", "max-variance", ("explore", "max_variance")),
    ("explore", "variance", ("explore", "max_variance")),
])
def test_goal_and_acquisition_aliases(goal, acquisition, expected):
    from designloop.campaign.config import CampaignConfig

    df = suzuki().drop(columns="yield")
    c = dl.Campaign(df, target="yield", goal=goal, acquisition=acquisition,
                    selection="top-k", initial_design="K-Means")
    assert (c.config.goal, c.config.acquisition) == expected
    assert (c.config.selection, c.config.initial_design) == ("top_k", "kmeans")
    config = CampaignConfig.create(
        df, target="yield", task="Regression", goal=goal, surrogate="GP",
        acquisition=acquisition, batch_size=1, seed=0, roles=None, smiles_encoding="auto",
        surrogate_params=None, acquisition_params=None, ignore=None, source="t")
    assert (config.task, config.goal, config.acquisition) == ("regression", *expected)
    assert dl.get_acquisition(acquisition) is dl.ACQUISITIONS[expected[1]]
    with pytest.raises(dl.InputError, match=r"goal must be one of .*maximise"):
        dl.Campaign(df, target="yield", goal="maximum")


def test_tiny_targets_get_the_same_suggestions_and_scaled_predictions():
    truth = suzuki()
    runs = {}
    for factor in (1.0, 1e-12):
        scaled = truth.assign(**{"yield": truth["yield"] * factor})
        c = dl.Campaign(scaled.drop(columns="yield"), target="yield", goal="maximize", seed=0,
                        diagnostics=False)
        c.observe(scaled.iloc[::4])
        runs[factor] = c.suggest(3)
    unit, tiny = runs[1.0], runs[1e-12]
    assert tiny.candidate_id.tolist() == unit.candidate_id.tolist()
    for col in ("predicted_mean", "predicted_sd", "interval_lo", "interval_hi"):
        np.testing.assert_allclose(tiny[col] / 1e-12, unit[col], rtol=0.02)
    assert tiny["predicted_sd"].max() < 1e-10


def test_the_same_results_observed_twice_are_refused_and_true_replicates_need_saying_so():
    truth = suzuki()
    c = dl.Campaign(truth.drop(columns="yield"), target="yield", seed=0)
    results = pd.DataFrame({"candidate_id": [4, 7, 9], "yield": [50.0, 10.0, 31.5]})
    assert c.observe(results, source="day1.csv") == 3
    with pytest.raises(dl.InputError, match=r"day1.csv: line\(s\) 2, 3, 4 repeat measurements "
                                            r"exactly \(line 2: candidate 4 = 50.0, already "
                                            r"recorded from day1.csv at .*--replicates"):
        c.observe(results, source="day1.csv")
    copied = pd.DataFrame({"candidate_id": [11, 12, 11], "yield": [5.0, 6.0, 5.0]})
    with pytest.raises(dl.InputError, match=r"line\(s\) 4 repeat .*candidate 11 = 5.0, "
                                            r"already on line 2"):
        c.observe(copied)
    assert len(c.store.observations()) == 3  # nothing of either file was written
    # a new value for a measured candidate is a replicate; identical ones when asked for
    assert c.observe(pd.DataFrame({"candidate_id": [4], "yield": [52.0]})) == 1
    assert c.observe(results, allow_replicates=True) == 3
    assert c.observations().groupby("candidate_id").size().to_dict() == {4: 3, 7: 2, 9: 2}


def test_an_id_that_contradicts_its_feature_values_is_refused():
    truth = suzuki()
    c = dl.Campaign(truth.drop(columns="yield"), target="yield", seed=0)
    rows = truth.iloc[[3, 9]].copy()
    rows.insert(0, "candidate_id", [3, 10])  # the second id is not the row's candidate
    with pytest.raises(dl.InputError, match=r"line 3: candidate_id 10 has temperature=92.0 but "
                                            r"the row says temperature=84.0; correct the id"):
        c.observe(rows)
    rows["candidate_id"] = [3, None]  # an empty id: found by the feature values
    assert c.observe(rows) == 2
    assert c.store.observations()["candidate_id"].tolist() == [3, 9]
    for bad, line in (([-1, 5], 2), ([5, 2.5], 3), ([5, "last"], 3)):
        with pytest.raises(dl.InputError, match=f"line {line}: candidate_id .* is not a "
                                                r"candidate \(ids are whole numbers from 0 to 35"):
            c.observe(pd.DataFrame({"candidate_id": bad, "yield": [1.0, 2.0]}))
    # a skipped row (no result) still counts for the line numbers of the file
    with pytest.raises(dl.InputError, match="line 3: candidate_id -1"):
        c.observe(pd.DataFrame({"candidate_id": [5, -1], "yield": [None, 2.0]}))
    with pytest.raises(dl.InputError, match="release: candidate_id -1 is not a candidate"):
        c.release([-1])
    assert len(c.store.observations()) == 2


@pytest.mark.parametrize("value", [np.inf, -np.inf, 1e308, -1e200])
def test_values_no_model_can_use_are_refused(tmp_path, value):
    truth = suzuki()
    candidates = truth.drop(columns="yield")
    candidates.loc[7, "catalyst"] = value
    path = tmp_path / "lab.db"
    with pytest.raises(dl.InputError, match=r"column 'catalyst' holds .* at line\(s\) 9: numbers "
                                            "must be finite and at most 1e\\+150"):
        dl.Campaign(candidates, target="yield", store=path)
    assert not path.exists()
    c = dl.Campaign(truth.drop(columns="yield"), target="yield", goal="maximize", seed=0)
    with pytest.raises(dl.InputError, match=r"column 'yield', line\(s\) \[3\] hold .*: results "
                                            "must be finite and at most 1e\\+150"):
        c.observe(pd.DataFrame({"candidate_id": [1, 2], "yield": [3.0, value]}))
    assert c.store.observations().empty


def test_forget_retracts_measurements_and_keeps_them_in_the_log(tmp_path):
    truth = suzuki()
    c = dl.Campaign(truth.drop(columns="yield"), target="yield", goal="maximize", seed=0,
                    store=tmp_path / "lab.db")
    answer(c, c.suggest(4), truth)
    picks = c.store.suggestions()["candidate_id"].tolist()
    wrong = pd.DataFrame({"candidate_id": [picks[0]], "yield": [1000.0]})
    c.observe(wrong, source="typo.csv")
    assert c.status()["best"] == 1000.0 and c.status()["measurements"] == 5
    assert c.forget(observation_ids=[5], reason="typo: 100.0") == 1
    assert c.status()["best"] == truth.loc[picks, "yield"].max() == c.best()["yield"]
    assert c.forget(candidate_ids=[picks[1]]) == 1
    assert c.status()["measured"] == 3 and c.status()["retracted"] == 2
    every = c.observations(retracted=True)
    assert len(every) == 5 and every["retracted_at"].notna().sum() == 2
    assert every.loc[every["id"] == 5, "reason"].item() == "typo: 100.0"
    hist = c.history().set_index("candidate_id")
    assert hist.loc[picks[1], "retracted"] == 1 and np.isnan(hist.loc[picks[1], "measured_mean"])
    assert hist.loc[picks[0], "retracted"] == 1 and hist.loc[picks[0], "replicates"] == 1
    # no longer measured: the model leaves it out, it may be suggested and observed again
    c.suggest(2)
    assert c.store.cycles()["n_observed"].iloc[-1] == 3
    assert c.observe(pd.DataFrame({"candidate_id": [picks[1]],
                                   "yield": [truth.loc[picks[1], "yield"]]})) == 1
    for kwargs, message in (({"candidate_ids": [36]}, "candidate_id 36 is not a candidate"),
                            ({"candidate_ids": [35]}, r"candidate\(s\) \[35\] have no "
                                                      "measurement to retract"),
                            ({"observation_ids": [99]}, "99 is not an observation id"),
                            ({"observation_ids": [5]}, "observation 5 was already retracted"),
                            ({}, "candidate ids or observation ids")):
        with pytest.raises(dl.InputError, match=message):
            c.forget(**kwargs)
    assert len(dl.Campaign.open(tmp_path / "lab.db").observations(retracted=True)) == 6


def test_retracting_in_an_older_file_marks_it_for_this_version(tmp_path):
    import sqlite3

    from designloop.campaign.store import RETRACTIONS_VERSION

    path = tmp_path / "old.db"
    c = dl.Campaign(suzuki().drop(columns="yield"), target="yield", store=path)
    c.observe(pd.DataFrame({"candidate_id": [1], "yield": [3.0]}))
    con = sqlite3.connect(path)
    con.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    con.commit()
    c = dl.Campaign.open(path)
    assert c.forget([1]) == 1
    assert c.store.get_meta("schema_version") == str(RETRACTIONS_VERSION) == "3"
