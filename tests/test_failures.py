"""Failed experiments: recording them, refusing bad input, and steering away from them."""

import sqlite3

import numpy as np
import pandas as pd
import pytest
import torch

import designloop as dl
from designloop.bench.problems import problem_from_table
from designloop.bench.simulate import run_campaign
from designloop.bench.strategies import Strategy
from designloop.campaign.feasibility import weight
from designloop.records import CycleRecord
from tests.test_cli import run as cli


def grid(n: int = 20) -> pd.DataFrame:
    """A 2-D pool whose yield rises towards (1, 1); every reaction with x > 0.7 fails."""
    x, z = np.meshgrid(np.linspace(0, 1, n), np.linspace(0, 1, n))
    table = pd.DataFrame({"x": x.ravel(), "z": z.ravel()})
    table["yield"] = table.x + table.z
    return table


def answers(truth: pd.DataFrame, ids, fail=lambda row: row.x > 0.7) -> list:
    rows = truth.loc[ids]
    return ["failed" if fail(r) else r["yield"] for _, r in rows.iterrows()]


def run(campaign, truth, cycles: int, k: int = 3, fail=lambda row: row.x > 0.7) -> list[int]:
    picked = []
    for _ in range(cycles):
        ids = campaign.suggest(k)["candidate_id"].tolist()
        campaign.observe(pd.DataFrame({"candidate_id": ids,
                                       "yield": answers(truth, ids, fail)}))
        picked += ids
    return picked


def FAILS(row):  # noqa: N802 - a rule, named like the constant it is
    return row.x > 0.6


def test_failed_cells_are_recorded_as_failures_not_values(tmp_path):
    truth = grid(6)
    c = dl.Campaign(truth.drop(columns="yield"), target="yield", goal="maximize",
                    store=tmp_path / "lab.db")
    res = pd.DataFrame({"candidate_id": [0, 5, 7, 35], "yield": [0.2, "FAILED", " Failed ", ""]})
    assert c.observe(res) == 3
    obs = c.observations()
    assert obs["failed"].tolist() == [False, True, True]
    assert obs["yield"].tolist() == [0.2, "failed", "failed"]
    status = c.status()
    assert (status["measured"], status["failed"], status["best"]) == (3, 2, 0.2)
    assert float(c.best()["yield"]) == 0.2
    again = dl.Campaign.open(tmp_path / "lab.db")
    assert again.store.observations()["candidate_id"].tolist() == [0]  # the model's view
    picks = again.suggest(30)["candidate_id"].tolist()
    assert not {0, 5, 7} & set(picks)  # a failed candidate is measured: not suggested again
    assert (again.history()["failed"].fillna(0) == 0).all()  # none of these failed yet


def test_a_feasible_column_marks_failures_and_clashes_are_refused():
    truth = grid(6)
    c = dl.Campaign(truth.drop(columns="yield"), target="yield", goal="maximize")
    res = pd.DataFrame({"candidate_id": [1, 2, 3], "yield": [0.5, None, 0.7],
                        "ok": [1, 0, None]})
    assert c.observe(res, feasible="ok") == 3
    assert c.observations()["failed"].tolist() == [False, True, False]
    bad = {"a value with 0": ({"candidate_id": [4], "yield": [0.3], "ok": [0]}, "failed \\(0\\)"),
           "failed with 1": ({"candidate_id": [4], "yield": ["failed"], "ok": [1]},
                             "worked \\(1\\)"),
           "not 0/1": ({"candidate_id": [4], "yield": [0.3], "ok": ["maybe"]}, "'ok' marks")}
    for cells, message in bad.values():
        with pytest.raises(dl.InputError, match=message):
            c.observe(pd.DataFrame(cells), feasible="ok")
    with pytest.raises(dl.InputError, match="no column 'gone'"):
        c.observe(pd.DataFrame({"candidate_id": [4], "yield": [0.3]}), feasible="gone")
    assert len(c.observations()) == 3  # nothing written by the refused ones


def test_the_word_failed_outside_the_target_is_refused_unless_it_is_a_candidate_value():
    table = pd.DataFrame({"x": [0.0, 1.0, 2.0], "step": ["ok", "failed", "ok"]})
    c = dl.Campaign(table, target="y", goal="maximize")
    assert c.observe(pd.DataFrame({"x": [1.0], "step": ["failed"], "y": [3.0]})) == 1
    with pytest.raises(dl.InputError, match="column 'note', line\\(s\\) \\[2\\] read 'failed'"):
        c.observe(pd.DataFrame({"x": [2.0], "step": ["ok"], "y": [""], "note": ["failed"]}))


def test_a_class_named_failed_stays_a_class_in_classification():
    table = pd.DataFrame({"x": np.arange(6.0)})
    c = dl.Campaign(table, target="qa", task="classification")
    c.observe(pd.DataFrame({"candidate_id": [0, 1], "qa": ["failed", "passed"]}))
    assert c.observations()["failed"].tolist() == [False, False]


def test_feasibility_weighting_rules_by_hand():
    scores = torch.tensor([2.0, -2.0, 0.0])
    p = torch.tensor([0.5, 0.5, 0.25])
    assert weight(scores, p, "product").tolist() == [1.0, -1.0, 0.0]
    assert weight(scores, p, "signed").tolist() == [1.0, -4.0, 0.0]
    assert torch.allclose(weight(scores, p, "log"), scores + p.log())


def test_until_a_failure_nothing_changes_and_then_picks_avoid_the_failing_region():
    """A peak at (0.3, 0.6); every reaction with x > 0.6 fails (40% of the pool). Knowing
    nothing of that region, a model of the yield alone would keep exploring it."""
    truth = grid()
    truth["yield"] = 2 - 4 * ((truth.x - 0.3) ** 2 + (truth.z - 0.6) ** 2)
    shares = []
    for seed in range(4):
        plain = dl.Campaign(truth.drop(columns="yield"), target="yield", goal="maximize",
                            seed=seed)
        aware = dl.Campaign(truth.drop(columns="yield"), target="yield", goal="maximize",
                            seed=seed)
        first = plain.suggest(3)["candidate_id"].tolist()
        assert aware.suggest(3)["candidate_id"].tolist() == first  # nothing failed yet
        aware.observe(pd.DataFrame({"candidate_id": first,
                                    "yield": answers(truth, first, FAILS)}))
        picked = first + run(aware, truth, 8, fail=FAILS)
        records = [r for r in aware.store.cycles()["record"] if r.feasibility]
        assert records and records[0].feasibility["failed"] >= 1
        assert int(aware.history()["failed"].sum()) == int(np.sum(truth.x[picked] > 0.6))
        assert float(truth["yield"][picked].max()) == pytest.approx(float(truth["yield"].max()))
        shares.append(float(np.mean(truth.x[picked[3:]] > 0.6)))  # after the initial design
    assert np.mean(shares) < 0.25  # random picks fail 40% of the time


def test_only_failures_so_far_spreads_the_picks_away_from_them():
    truth = grid(6)
    c = dl.Campaign(truth.drop(columns="yield"), target="yield", goal="maximize")
    c.observe(pd.DataFrame({"candidate_id": [35], "yield": ["failed"]}))
    picks = c.suggest(2)["candidate_id"].tolist()
    record = c.store.cycles()["record"].iloc[-1]
    assert "every experiment so far failed" in record.reason
    assert 0 in picks  # the candidate farthest from the failed corner (1, 1) is (0, 0)


def test_joint_batch_rules_give_way_to_a_per_candidate_rule_when_weighted():
    truth = grid(8)
    c = dl.Campaign(truth.drop(columns="yield"), target="yield", goal="maximize",
                    selection="qlognei", seed=1)
    c.observe(pd.DataFrame({"candidate_id": [0, 9, 63, 7],
                            "yield": [0.0, 0.29, "failed", "failed"]}))
    c.suggest(2)
    record = c.store.cycles()["record"].iloc[-1]
    assert record.selection == "greedy"
    assert "'qlognei' scores the batch jointly" in record.feasibility["selection"]
    assert len(record.feasibility["p_success_of_picks"]) == 2


def test_an_older_file_gets_the_failures_table_and_a_newer_schema(tmp_path):
    path = tmp_path / "old.db"
    c = dl.Campaign(grid(4).drop(columns="yield"), target="yield", store=path)
    con = sqlite3.connect(path)
    con.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    con.commit()
    c = dl.Campaign.open(path)
    assert c.store.failed_ids() == set()
    c.observe(pd.DataFrame({"candidate_id": [2], "yield": ["failed"]}))
    assert c.store.get_meta("schema_version") == "4"
    assert dl.Campaign.open(path).status()["failed"] == 1


def test_cli_observe_with_a_feasible_column(tmp_path, capsys, monkeypatch):
    truth = grid(4)
    truth.drop(columns="yield").to_csv(tmp_path / "c.csv", index=False)
    db = tmp_path / "lab.db"
    assert cli(["init", db, "-c", tmp_path / "c.csv", "-t", "yield", "--goal", "max"],
               capsys, monkeypatch)[0] == 0
    pd.DataFrame({"candidate_id": [0, 1], "yield": [0.1, None], "ok": [1, 0]}).to_csv(
        tmp_path / "r.csv", index=False)
    code, out, _ = cli(["observe", db, tmp_path / "r.csv", "--feasible", "ok"], capsys,
                       monkeypatch)
    assert code == 0 and "Recorded 2 result(s)" in out
    assert dl.Campaign.open(db).status()["failed"] == 1
    pd.DataFrame({"candidate_id": [2], "yield": [0.3], "ok": [0]}).to_csv(
        tmp_path / "bad.csv", index=False)
    code, _, err = cli(["observe", db, tmp_path / "bad.csv", "--feasible", "ok"], capsys,
                       monkeypatch)
    assert code == 2 and "bad.csv: line(s) [2]: column 'ok'" in err
    assert len(err.strip().splitlines()) == 1
    assert dl.Campaign.open(db).status()["measurements"] == 2


def test_a_lookup_table_with_a_failure_threshold_answers_failed():
    truth = grid(6)
    problem = problem_from_table(truth, "yield", fail_below=0.5)
    assert problem.oracle([0, 35], np.random.default_rng(0)) == ["failed", 2.0]
    rows = run_campaign(problem, Strategy("default"), seed=0, budget=12, batch_size=3,
                        n_initial=3)
    assert all(0.0 <= r["failed_fraction"] <= 1.0 for r in rows)
    assert rows[-1]["best_so_far"] <= 2.0


def test_feasible_flags_as_numbers_words_or_booleans_and_a_file_of_failures_only():
    truth = grid(6)
    c = dl.Campaign(truth.drop(columns="yield"), target="yield", goal="maximize")
    res = pd.DataFrame({"candidate_id": [1, 2, 3, 4], "yield": [0.5, None, None, 0.4],
                        "ok": ["1.00", -0.0, "No", True]})
    assert c.observe(res, feasible="ok") == 4
    assert c.observations()["failed"].tolist() == [False, True, True, False]
    only = pd.DataFrame({"candidate_id": [5, 6], "worked": [0, 1]})  # no target column
    assert c.observe(only, feasible="worked") == 1  # 6 worked but has no value yet: skipped
    assert c.status()["failed"] == 3
    with pytest.raises(dl.InputError, match=r"line\(s\) \[2\] hold \[0.5\]"):
        c.observe(pd.DataFrame({"candidate_id": [7], "yield": [0.3], "ok": [0.5]}),
                  feasible="ok")


def test_retracting_a_failure_counts_and_frees_the_candidate():
    truth = grid(4)
    c = dl.Campaign(truth.drop(columns="yield"), target="yield", goal="maximize")
    c.observe(pd.DataFrame({"candidate_id": [3, 4], "yield": ["failed", 0.2]}))
    assert c.forget([3]) == 1
    status = c.status()
    assert (status["retracted"], status.get("failed")) == (1, None)
    assert 3 in c.suggest(15)["candidate_id"].tolist()
    history = c.history()
    assert history.loc[history.candidate_id == 3, "retracted"].tolist() == [1]


def test_classification_is_told_to_use_a_feasible_column():
    table = pd.DataFrame({"x": np.arange(4.0)})
    c = dl.Campaign(table, target="qa", task="classification")
    with pytest.raises(dl.InputError, match="mark it 0 in a column named with --feasible"):
        c.observe(pd.DataFrame({"candidate_id": [0], "qa": ["a"], "note": ["failed"]}))


def test_a_joint_rule_that_needs_a_gp_is_still_refused_for_another_surrogate():
    truth = grid(6)
    c = dl.Campaign(truth.drop(columns="yield"), target="yield", goal="maximize",
                    surrogate="forest", selection="qlognei")
    c.observe(pd.DataFrame({"candidate_id": [0, 1, 2, 35], "yield": [0.1, 0.2, 0.3, "failed"]}))
    with pytest.raises(dl.InputError, match="needs an exact GP"):
        c.suggest(2)


def test_logs_without_failures_stay_readable_by_earlier_versions(tmp_path):
    truth = grid(4)
    c = dl.Campaign(truth.drop(columns="yield"), target="yield", goal="maximize",
                    store=tmp_path / "lab.db")
    c.observe(pd.DataFrame({"candidate_id": [0, 1, 2], "yield": [0.1, 0.2, 0.3]}))
    c.suggest(1)
    con = sqlite3.connect(tmp_path / "lab.db")
    assert con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == ("3",)
    infos = [row[0] for row in con.execute("SELECT info FROM cycles")]
    assert all('"version": 1' in info for info in infos)
    c.observe(pd.DataFrame({"candidate_id": [5], "yield": ["failed"]}))
    c.suggest(1)
    assert con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == ("4",)
    last = con.execute("SELECT info FROM cycles ORDER BY cycle DESC").fetchone()[0]
    assert '"version": 2' in last and '"feasibility"' in last
    assert dl.Campaign.open(tmp_path / "lab.db").store.cycles()["record"].iloc[-1].version == 2


def test_report_and_a_candidate_column_named_failed():
    table = pd.DataFrame({"x": np.arange(5.0), "failed": ["no", "no", "yes", "no", "no"]})
    c = dl.Campaign(table, target="y", goal="maximize")
    c.observe(pd.DataFrame({"candidate_id": [2], "y": ["failed"]}))
    assert "Every experiment so far failed (1)" in c.report().html
    obs = c.observations()
    assert obs["failed"].tolist() == [True] and obs["failed_candidate"].tolist() == ["yes"]


@pytest.mark.slow
def test_the_classifier_of_success_reads_one_hot_molecules():
    """A ligand that always fails: once seen, the classifier (on one-hot molecules, whatever
    the target's encoding) steers the picks away from it."""
    from designloop.campaign import modelling

    ligands = ["CCO", "c1ccccc1O", "CC(C)(C)P", "c1ccncc1"]
    bases = ["CCN(CC)CC", "[Na+].[OH-]", "CC(C)(C)[O-].[K+]", "none"]
    rows = [(lig, b, t) for lig in ligands for b in bases for t in (40.0, 60.0, 80.0)]
    table = pd.DataFrame(rows, columns=["ligand", "base", "t"])
    campaign = dl.Campaign(table, target="y", goal="maximize", seed=0)
    X_onehot = campaign.encoder.features("onehot")
    X_target = campaign.encoder.features("mordred")
    assert torch.equal(modelling.classifier_features(campaign.encoder, X_target), X_onehot)
    # a library of more molecules: the target model's features, which carry a failure
    # over to similar molecules (and need no column per molecule)
    library = dl.Campaign(pd.DataFrame({"smiles": ["C" * (i + 1) + "O" for i in range(101)]}),
                          target="y", goal="maximize")
    X_lib = library.encoder.features("morgan")
    assert modelling.classifier_features(library.encoder, X_lib) is X_lib
    # the first ligand (rows 0-11) failed four times; the others worked
    measured = [0, 4, 8, 11, 13, 18, 22, 27, 30, 34, 38, 41, 44, 47]
    answers = ["failed" if table.ligand[i] == "CCO" else 0.5 + 0.01 * i for i in measured]
    campaign.observe(pd.DataFrame({"candidate_id": measured, "y": answers}))
    scored = campaign.score_candidates()
    picks = campaign.suggest(1)
    record = campaign.store.cycles().iloc[-1]["record"]
    assert record.encoding == "mordred"  # the target's model reads Mordred descriptors
    assert record.feasibility["failed"] == 4 and record.feasibility["succeeded"] == 10
    # each candidate's score is the base log EI plus the log of ITS chance of success:
    # the rows the weighting reads line up with the candidates scored
    setup = campaign.model_setup()
    obs = campaign.store.observations()
    fitted = modelling.fit(setup, obs, CycleRecord(k=0, seed=0), diagnostics=False)
    failed = np.asarray(measured[:4])
    weighted = modelling.weighted_by_feasibility(setup, fitted, obs["candidate_id"], failed)
    ids = scored["candidate_id"].to_numpy().copy()
    chance = weighted.acquisition.p_success(ids)
    rng = np.random.default_rng(0)
    base = setup.acquisition(fitted.model.predict(fitted.X[ids]),
                             **{k: v for k, v in modelling.context(setup, fitted, ids, rng)
                                .items() if k != "candidate_rows"})
    assert np.allclose(scored["score"], (base + chance.log()).numpy())
    # the pick is the best weighted score, and it carries its own chance
    best = scored.loc[scored["score"].idxmax()]
    assert int(picks["candidate_id"].iloc[0]) == int(best["candidate_id"])
    assert picks["p_success"].iloc[0] == pytest.approx(float(chance[ids == best.candidate_id]))
    # the failing ligand's candidates have the lowest chances
    by_ligand = pd.Series(chance.numpy()).groupby(table["ligand"].to_numpy()[ids]).max()
    assert by_ligand["CCO"] < by_ligand.drop("CCO").min()
