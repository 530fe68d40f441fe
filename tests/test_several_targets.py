"""Several targets in one campaign: Pareto and desirability, partial results, the log."""

import sqlite3

import numpy as np
import pandas as pd
import pytest

import designloop as dl
from designloop.campaign.objectives import (
    hypervolume,
    pareto_mask,
    parse_target_option,
    scalarised,
)
from tests.test_cli import run as cli

SPECS = {"a": {"goal": "maximize", "lower": None, "upper": None, "weight": 1.0},
         "b": {"goal": "minimize", "lower": None, "upper": None, "weight": 1.0}}


def obs(rows):
    """Observations (candidate_id, target, value) as the store returns them."""
    return pd.DataFrame(rows, columns=["candidate_id", "target", "value"])


def test_pareto_mask_and_hypervolume_by_hand():
    Y = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0], [1.5, 1.5], [0.5, 0.5]])
    assert pareto_mask(Y).tolist() == [True, True, True, False, False]
    # a maximised, b minimised: candidate 0 (a=1, b=1), 1 (a=3, b=2), 2 (a=2, b=3)
    data = obs([(0, "a", 1.0), (0, "b", 1.0), (1, "a", 3.0), (1, "b", 2.0),
                (2, "a", 2.0), (2, "b", 3.0), (3, "a", 9.0)])  # 3 is incomplete
    # turned to larger-is-better, (a, -b) = (1, -1), (3, -2), (2, -3); the front is the
    # first two; the reference lies 10% of each range below the worst, (0.8, -3.2); the
    # boxes [0.8, 1] x [-3.2, -1] (0.44) and [0.8, 3] x [-3.2, -2] (2.64) overlap in 0.24
    assert hypervolume(SPECS, data) == pytest.approx(0.44 + 2.64 - 0.24)


def test_desirability_is_the_weighted_geometric_mean_between_the_bounds():
    specs = {"a": {"goal": "maximize", "lower": 0.0, "upper": 10.0, "weight": 3.0},
             "b": {"goal": "minimize", "lower": 0.0, "upper": 4.0, "weight": 1.0}}
    data = obs([(0, "a", 5.0), (0, "b", 1.0), (1, "a", 12.0), (1, "b", 4.0),
                (2, "a", 10.0), (2, "b", 2.0), (2, "b", 0.0)])  # replicates averaged
    values, info = scalarised(specs, data)
    expected = [0.5 ** 0.75 * 0.75 ** 0.25, 0.0, 1.0 * 0.75 ** 0.25]
    assert values["value"].tolist() == pytest.approx(expected)
    assert info["bounds"] == {"a": [0.0, 10.0], "b": [0.0, 4.0]}


def test_ehvi_matches_monte_carlo_and_is_zero_where_nothing_can_improve():
    torch = pytest.importorskip("torch")
    from designloop.campaign.pareto import ehvi, psi

    gen = torch.Generator().manual_seed(0)
    mean = torch.tensor([[0.5, 0.5], [2.0, 2.5], [-3.0, -3.0]], dtype=torch.float64)
    sd = torch.tensor([[0.6, 0.4], [0.3, 0.5], [0.01, 0.01]], dtype=torch.float64)
    front = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    ref = torch.tensor([-1.0, -1.0], dtype=torch.float64)
    exact = ehvi(mean, sd, front, ref)
    from designloop.campaign.objectives import hypervolume_of

    base = hypervolume_of(front.numpy(), ref.numpy())
    draws = mean + sd * torch.randn(20000, 3, 2, generator=gen, dtype=torch.float64)
    for i in range(3):
        gains = [hypervolume_of(np.vstack([front.numpy(), y]), ref.numpy()) - base
                 for y in draws[:4000, i].numpy()]
        assert float(exact[i]) == pytest.approx(np.mean(gains), rel=0.02, abs=0.02)
    assert float(exact[2]) == pytest.approx(0.0, abs=1e-12)  # far below the front
    y = torch.randn(200000, generator=gen, dtype=torch.float64) * 0.7 + 0.2
    mc = (torch.minimum(y, torch.tensor(1.0)) - (-0.5)).clamp_min(0).mean()
    assert float(psi(torch.tensor(-0.5), torch.tensor(1.0), torch.tensor(0.2),
                     torch.tensor(0.7))) == pytest.approx(float(mc), abs=3e-3)


def table():
    x, z = np.meshgrid(np.linspace(0, 1, 7), np.linspace(0, 1, 7))
    t = pd.DataFrame({"x": x.ravel(), "z": z.ravel()})
    t["yld"] = 50 + 40 * t.x - 10 * t.z
    t["cost"] = 10 + 8 * t.x * t.z + 4 * (1 - t.z)
    return t


def answer(truth, picks, drop=None):
    res = picks[["candidate_id"]].copy()
    res["yld"] = truth.yld[picks.candidate_id].to_numpy()
    res["cost"] = truth.cost[picks.candidate_id].to_numpy()
    if drop is not None:
        res.loc[res.index[0], drop] = np.nan
    return res


@pytest.mark.parametrize("objective", ["pareto", "desirability"])
def test_a_campaign_of_two_targets_records_partial_results_and_finds_the_front(objective,
                                                                               tmp_path):
    truth = table()
    path = tmp_path / "lab.db"
    c = dl.Campaign(truth.drop(columns=["yld", "cost"]), targets={"yld": "max", "cost": "min"},
                    objective=objective, seed=2, store=path)
    for cycle in range(6):
        picks = c.suggest(3)
        assert {"yld", "cost"} <= set(picks.columns)
        assert c.observe(answer(truth, picks, drop="cost" if cycle == 1 else None)) == 3
    status = c.status()
    assert status["measured"] == 18 and status["measurements"] == 35
    assert status["complete"] == 17  # one row reported its yield only
    front = c.pareto_front()
    measured = truth.loc[front.candidate_id]
    assert front["yld"].to_numpy() == pytest.approx(measured.yld.to_numpy())
    records = c.store.cycles()["record"]
    assert records.iloc[-1].objective["objective"] == objective
    assert records.iloc[-1].version == 4
    again = dl.Campaign.open(path)
    assert again.status() == status
    if objective == "pareto":
        assert status["hypervolume"] > 0
        with pytest.raises(dl.InputError, match="pareto_front"):
            again.best()
        last = records.iloc[-1]
        assert last.selection == "greedy expected hypervolume improvement"
        assert set(last.objective["targets"]) == {"yld", "cost"}
        picks = again.suggest(2)
        assert {"mean_yld", "sd_yld", "mean_cost", "sd_cost"} <= set(picks.columns)
        scores = again.score_candidates()
        assert len(scores) == 49 - 18 and (scores["score"] >= 0).all()  # all unmeasured
    else:
        best = again.best()
        assert 0 < best["desirability"] <= 1 and best["candidate_id"] in set(front.candidate_id)
    assert sqlite3.connect(path).execute(
        "SELECT value FROM meta WHERE key='schema_version'").fetchone() == ("6",)


def test_failures_and_repeats_with_several_targets():
    truth = table()
    c = dl.Campaign(truth.drop(columns=["yld", "cost"]), targets={"yld": "max", "cost": "min"})
    res = pd.DataFrame({"candidate_id": [0, 1, 2], "yld": [60.0, "failed", 70.0],
                        "cost": [12.0, None, None]})
    assert c.observe(res) == 3
    assert c.status()["failed"] == 1
    with pytest.raises(dl.InputError, match="repeat measurements exactly"):
        c.observe(pd.DataFrame({"candidate_id": [0], "yld": [60.0]}))
    assert c.observe(pd.DataFrame({"candidate_id": [0], "cost": [60.0]})) == 1  # other target
    with pytest.raises(dl.InputError, match="a failed experiment gives no value, but 'cost'"):
        c.observe(pd.DataFrame({"candidate_id": [3], "yld": ["failed"], "cost": [1.0]}))
    with pytest.raises(dl.InputError, match="has no column any of the targets"):
        c.observe(pd.DataFrame({"candidate_id": [3], "other": [1.0]}))


@pytest.mark.parametrize("kwargs, message", [
    ({"targets": {"yld": "max"}}, "at least two targets"),
    ({"targets": {"yld": "up", "cost": "min"}}, "the direction must be max or min"),
    ({"targets": {"yld": "max", "cost": {"goal": "min", "lower": 5}}}, "give both bounds"),
    ({"targets": {"yld": "max", "cost": {"goal": "min", "lower": 5, "upper": 1}}},
     "lower < upper"),
    ({"targets": {"yld": "max", "cost": {"goal": "min", "weight": 0}}}, "weight must be"),
    ({"targets": {"yld": "max", "cost": {"goal": "min", "colour": 1}}}, "unknown setting"),
    ({"targets": {"yld": "max", "cost": "min"}, "objective": "sum"}, "unknown objective"),
    ({"targets": {"yld": "max", "cost": "min"}, "target": "yld"}, "not both"),
    ({"target": "yld", "objective": "pareto"}, "give them as targets="),
])
def test_bad_target_settings_are_refused(kwargs, message):
    with pytest.raises(dl.InputError, match=message):
        dl.Campaign(table().drop(columns=["yld", "cost"]), **kwargs)


def test_target_options_of_the_command_line():
    assert parse_target_option("yld:max") == ("yld", {"goal": "max"})
    assert parse_target_option("cost:min:0:20:2") == (
        "cost", {"goal": "min", "lower": 0.0, "upper": 20.0, "weight": 2.0})
    with pytest.raises(dl.InputError, match="must be numbers"):
        parse_target_option("cost:min:low:high")


def test_cli_several_targets(tmp_path, capsys, monkeypatch):
    truth = table()
    truth.drop(columns=["yld", "cost"]).to_csv(tmp_path / "c.csv", index=False)
    db = tmp_path / "lab.db"
    base = ["init", db, "-c", tmp_path / "c.csv"]
    for extra, message in ((["-t", "yld:max", "-t", "yld:min"], "more than once"),
                           (["-t", "yld:max"], "is for several targets"),
                           (["-t", "yld:max", "-t", "cost:down"], "must be max or min")):
        code, _, err = cli([*base, *extra], capsys, monkeypatch)
        assert code == 2 and message in err and not db.exists()
    code, out, _ = cli([*base, "-t", "yld:max", "-t", "cost:min:8:20", "--objective",
                        "desirability", "-n", "3"], capsys, monkeypatch)
    assert code == 0 and "targets yld (maximize), cost (minimize)" in out
    assert cli(["suggest", db, "-o", tmp_path / "next.csv"], capsys, monkeypatch)[0] == 0
    picks = pd.read_csv(tmp_path / "next.csv")
    answer(truth, picks).to_csv(tmp_path / "next.csv", index=False)
    code, out, _ = cli(["observe", db, tmp_path / "next.csv"], capsys, monkeypatch)
    assert code == 0 and "Recorded 3 result(s)" in out
    code, out, _ = cli(["status", db], capsys, monkeypatch)
    assert "best desirability" in out


def test_simulated_campaigns_of_several_targets_are_scored_by_hypervolume():
    from designloop.bench.problems import problem_from_table
    from designloop.bench.simulate import run_campaign
    from designloop.bench.strategies import Strategy

    truth = table().iloc[::4].reset_index(drop=True)  # 13 candidates
    problem = problem_from_table(truth, targets={"yld": "max", "cost": "min"})
    assert problem.values.shape == (13, 2) and problem.top_mask() is None
    answer = problem.oracle([0, 1], np.random.default_rng(0))
    assert answer == {"yld": truth.yld[:2].tolist(), "cost": truth.cost[:2].tolist()}
    rows = run_campaign(problem, Strategy("default"), seed=0, budget=13, batch_size=3,
                        n_initial=3)
    fractions = [r["hv_fraction"] for r in rows]
    assert fractions == sorted(fractions)  # never falls as candidates are added
    assert fractions[-1] == pytest.approx(1.0) and rows[-1]["hv_regret"] == pytest.approx(0.0)
    with pytest.raises(dl.InputError, match="no column"):
        problem_from_table(truth, targets={"yld": "max", "purity": "max"})


def test_nothing_complete_yet_keeps_the_initial_design_and_bad_settings_are_refused():
    truth = table()
    c = dl.Campaign(truth.drop(columns=["yld", "cost"]), targets={"yld": "max", "cost": "min"})
    c.observe(pd.DataFrame({"candidate_id": [0, 1], "yld": [60.0, None], "cost": [None, 9.0]}))
    c.suggest(2)
    assert "nothing measured yet" in c.store.cycles()["record"].iloc[-1].reason
    assert c.score_candidates() is None and "<html" in c.report().html.lower()
    c.observe(pd.DataFrame({"candidate_id": [5], "yld": ["failed"]}))
    with pytest.raises(dl.InputError, match="repeat measurements exactly"):
        c.observe(pd.DataFrame({"candidate_id": [5], "yld": ["FAILED"]}))
    for kwargs, message in (({"acquisition": "ucb"}, "leave acquisition and selection out"),
                            ({"selection": "top_k"}, "leave acquisition and selection out"),
                            ({"goal": "max"}, "each carries its own direction")):
        with pytest.raises(dl.InputError, match=message):
            dl.Campaign(truth.drop(columns=["yld", "cost"]),
                        targets={"yld": "max", "cost": "min"}, **kwargs)


def test_desirability_without_bounds_is_never_zero_for_a_measured_candidate():
    specs = {"a": {"goal": "maximize", "lower": None, "upper": None, "weight": 1.0},
             "b": {"goal": "maximize", "lower": None, "upper": None, "weight": 1.0}}
    data = obs([(i, "a", float(i)) for i in range(4)] + [(i, "b", 1000.0) for i in range(4)])
    values, _ = scalarised(specs, data)
    assert (values["value"] > 0).all()  # b is constant, a's worst is still above 0
    assert values["value"].idxmax() == 3
    # a constant target's margin is in its own units: the reference point sits 10% below
    from designloop.campaign.objectives import reference_point

    Y = np.array([[0.0, 1000.0], [3.0, 1000.0]])
    assert reference_point(specs, Y).tolist() == pytest.approx([-0.3, 900.0])


def test_a_file_of_one_target_stores_no_several_target_settings(tmp_path):
    import json

    c = dl.Campaign(table().drop(columns=["cost"]), target="yld", store=tmp_path / "lab.db")
    stored = json.loads(c.store.get_meta("config"))
    assert "targets" not in stored and "objective" not in stored
    assert dl.Campaign.open(tmp_path / "lab.db").config.targets == {}


def test_pareto_cycles_log_their_acquisition_and_one_shot_refuses_several(tmp_path, capsys,
                                                                           monkeypatch):
    truth = table()
    c = dl.Campaign(truth.drop(columns=["yld", "cost"]), targets={"yld": "max", "cost": "min"})
    c.observe(answer(truth, pd.DataFrame({"candidate_id": [0, 10, 20, 30]})))
    c.suggest(1)
    assert c.store.cycles()["acquisition"].iloc[-1] == "expected_hypervolume_improvement"
    assert c.status()["acquisition"] == "expected_hypervolume_improvement"
    truth.drop(columns=["yld", "cost"]).to_csv(tmp_path / "c.csv", index=False)
    code, _, err = cli(["suggest", "--candidates", tmp_path / "c.csv", "--target", "yld",
                        "--target", "cost"], capsys, monkeypatch)
    assert code == 2 and "one-shot mode takes one --target" in err


def constrained_table():
    x, z = np.meshgrid(np.linspace(0, 1, 10), np.linspace(0, 1, 10))
    t = pd.DataFrame({"x": x.ravel(), "z": z.ravel()})
    t["yld"] = 50 + 40 * t.x + 10 * t.z
    t["purity"] = 1.0 - 0.3 * t.x * t.z  # the high-yield corner is impure
    return t


def run_constrained(campaign, truth, cycles):
    picked = []
    for _ in range(cycles):
        picks = campaign.suggest(3)
        res = picks[["candidate_id"]].copy()
        res["yld"] = truth.yld[picks.candidate_id].to_numpy()
        res["purity"] = truth.purity[picks.candidate_id].to_numpy()
        campaign.observe(res)
        picked += picks.candidate_id.tolist()
    return picked


def test_an_outcome_constraint_is_modelled_and_the_best_meets_it(tmp_path):
    truth = constrained_table()
    c = dl.Campaign(truth.drop(columns=["yld", "purity"]), target="yld", goal="max",
                    constraints=["purity >= 0.85"], store=tmp_path / "lab.db")
    run_constrained(c, truth, 8)
    ok = truth.purity >= 0.85
    best = dl.Campaign.open(tmp_path / "lab.db").best()
    assert best["purity"] >= 0.85
    assert best["yld"] == pytest.approx(truth.yld[ok].max())  # the best feasible coupling
    assert truth.yld.max() > best["yld"]  # the infeasible corner is better, and refused
    status = c.status()
    assert status["constraints"] == "purity >= 0.85" and status["best"] == best["yld"]
    record = c.store.cycles()["record"].iloc[-1]
    assert record.feasibility["constraints"] == ["purity >= 0.85"]
    assert record.feasibility["classifier"] is None  # no experiment failed


def test_constraints_beside_several_targets_and_bad_constraints():
    truth = constrained_table()
    truth["cost"] = 5 + 10 * truth.z
    c = dl.Campaign(truth.drop(columns=["yld", "purity", "cost"]),
                    targets={"yld": "max", "cost": "min"}, constraints=["purity >= 0.9"])
    for _ in range(4):
        picks = c.suggest(3)
        res = picks[["candidate_id"]].copy()
        for col in ("yld", "purity", "cost"):
            res[col] = truth[col][picks.candidate_id].to_numpy()
        c.observe(res)
    front = c.pareto_front()
    assert (front["purity"] >= 0.9).all() and c.status()["meeting constraints"] >= len(front)
    table = truth.drop(columns=["yld", "purity", "cost"])
    for kwargs, message in (
            ({"target": "yld", "goal": "max", "constraints": ["purity = 0.9"]}, "COLUMN >="),
            ({"target": "yld", "goal": "max", "constraints": ["purity >= high"]},
             "not a number"),
            ({"target": "yld", "goal": "max", "constraints": ["yld >= 3"]},
             "either optimised or constrained"),
            ({"target": "yld", "constraints": ["purity >= 0.9"]}, "go with a target to"),
            ({"target": "yld", "goal": "max", "constraints": ["purity >= 0.9"],
              "objective": "pareto"}, "leave it out")):
        with pytest.raises(dl.InputError, match=message):
            dl.Campaign(table, **kwargs)


def test_cli_constraint(tmp_path, capsys, monkeypatch):
    truth = constrained_table()
    truth.drop(columns=["yld", "purity"]).to_csv(tmp_path / "c.csv", index=False)
    db = tmp_path / "lab.db"
    code, out, _ = cli(["init", db, "-c", tmp_path / "c.csv", "-t", "yld", "--goal", "max",
                        "--constraint", "purity >= 0.85"], capsys, monkeypatch)
    assert code == 0 and "constraints purity >= 0.85" in out
    code, _, err = cli(["init", tmp_path / "b.db", "-c", tmp_path / "c.csv", "-t", "yld",
                        "--goal", "max", "--constraint", "purity => 1"], capsys, monkeypatch)
    assert code == 2 and "COLUMN >= NUMBER" in err


def test_the_incumbent_meets_the_constraints_and_nothing_feasible_scores_the_chance_alone():
    truth = constrained_table()
    table = truth.drop(columns=["yld", "purity"])
    c = dl.Campaign(table, target="yld", goal="max", constraints="purity >= 0.85", seed=1)
    corner = int(truth.yld.idxmax())  # yield 100, purity 0.70: infeasible
    ids = [corner, 0, 5, 50]
    c.observe(pd.DataFrame({"candidate_id": ids, "yld": truth.yld[ids].to_numpy(),
                            "purity": truth.purity[ids].to_numpy()}))
    c.suggest(1)
    record = c.store.cycles()["record"].iloc[-1]
    feasible = truth.purity[ids] >= 0.85
    # the posterior's best among the feasible three (candidate 5, yield 72.2), not 100
    assert record.best_f == pytest.approx(float(truth.yld[ids][feasible].max()), abs=3.0)
    only = dl.Campaign(table, target="yld", goal="max", constraints=["purity >= 0.99"])
    only.observe(pd.DataFrame({"candidate_id": [corner, 55], "yld": [100.0, 80.0],
                               "purity": [0.7, 0.8]}))
    only.suggest(1)
    rule = only.store.cycles()["record"].iloc[-1].feasibility["rule"]
    assert "the chance alone" in rule


def test_a_range_a_prior_screen_and_refused_constraints(tmp_path):
    truth = constrained_table()
    table = truth.drop(columns=["yld", "purity"])
    c = dl.Campaign(table.assign(purity=[0.99, 0.98] + [None] * 98), target="yld", goal="max",
                    constraints=["purity >= 0.8", "purity <= 0.995"], store=tmp_path / "a.db")
    assert c.status()["constraints"] == "0.8 <= purity <= 0.995"
    assert c.status()["measured"] == 2  # the screen's purity values are recorded ...
    assert c.store.get_meta("schema_version") == "7"
    picks = set(c.suggest(100)["candidate_id"])
    assert {0, 1} <= picks  # ... but those candidates may still be suggested
    for kwargs, message in (
            ({"constraints": ["x <= 0.5"]}, "is an input, not a result"),
            ({"constraints": 5}, "takes a list of texts"),
            ({"constraints": ["candidate_id >= 3"]}, "designloop's id"),
            ({"constraints": ["purity >= 0.9", "purity >= 0.8"]}, "already has a lower"),
            ({"constraints": ["purity >= 0.9", "purity <= 0.8"]}, "lower limit must be below")):
        with pytest.raises(dl.InputError, match=message):
            dl.Campaign(table, target="yld", goal="max", **kwargs)


def test_an_infeasible_candidate_is_no_part_of_the_pareto_front():
    truth = constrained_table()
    truth["cost"] = 5 + 10 * truth.z
    c = dl.Campaign(truth.drop(columns=["yld", "purity", "cost"]),
                    targets={"yld": "max", "cost": "min"}, constraints=["purity >= 2"])
    ids = [0, 9, 90, 99]
    c.observe(pd.DataFrame({"candidate_id": ids, **{col: truth[col][ids].to_numpy()
                                                     for col in ("yld", "purity", "cost")}}))
    status = c.status()
    assert status["meeting constraints"] == 0 and status["pareto front"] == 0
    assert status["hypervolume"] == 0.0
    c.suggest(2)
    record = c.store.cycles()["record"].iloc[-1]
    assert record.objective["front"] == 0 and record.feasibility["constraints"]


def test_an_unmeasured_constraint_with_failures_leaves_the_target_in_charge():
    truth = constrained_table()
    c = dl.Campaign(truth.drop(columns=["yld", "purity"]), target="yld", goal="max",
                    constraints=["purity >= 0.9"])
    ids = [0, 9, 45, 90]
    c.observe(pd.DataFrame({"candidate_id": ids, "yld": truth.yld[ids].to_numpy()}))
    c.observe(pd.DataFrame({"candidate_id": [99], "yld": ["failed"]}))
    c.suggest(1)
    record = c.store.cycles()["record"].iloc[-1]
    assert record.feasibility["constraints"] is None  # nothing of purity measured yet
    assert "the chance alone" not in record.feasibility["rule"]
    assert record.best_f == pytest.approx(float(truth.yld[ids].max()), abs=3.0)


def test_a_class_as_a_constraint_on_a_regression_target(tmp_path):
    truth = constrained_table().drop(columns=["purity"])
    truth["glass"] = np.where(truth.x + 0.5 * truth.z < 1.0, "yes", "no")
    path = tmp_path / "lab.db"
    c = dl.Campaign(truth.drop(columns=["yld", "glass"]), target="yld", goal="max",
                    constraints=["glass == 'yes'"], store=path)
    for _ in range(5):
        picks = c.suggest(3)
        c.observe(picks[["candidate_id"]].assign(
            yld=truth.yld[picks.candidate_id].to_numpy(),
            glass=truth.glass[picks.candidate_id].to_numpy()))
    again = dl.Campaign.open(path)  # labels beside numbers read back as they were
    obs = again.observations()
    assert set(obs.loc[obs.target == "glass", "value"]) <= {"yes", "no"}
    best = again.best()
    assert best["glass"] == 1.0  # the share of its results that formed a glass
    assert truth.glass[int(best["candidate_id"])] == "yes"
    assert again.status()["constraints"] == "glass == 'yes'"
    assert "measured_glass" in again.history()
    with pytest.raises(dl.InputError, match="give a column and a class"):
        dl.Campaign(truth.drop(columns=["yld", "glass"]), target="yld", goal="max",
                    constraints=["glass == ''"])


def test_a_class_constraint_allows_the_same_class_again_and_reads_numbers_as_results_are():
    truth = constrained_table().drop(columns=["purity"])
    table = truth.drop(columns=["yld"])
    c = dl.Campaign(table, target="yld", goal="max", constraints=["ok == 1.0"])
    c.observe(pd.DataFrame({"candidate_id": [3, 4], "yld": [60.0, 70.0], "ok": [1.0, 0.0]}))
    assert c.observe(pd.DataFrame({"candidate_id": [3], "yld": [61.0], "ok": [1.0]})) == 1
    assert int(c.best()["candidate_id"]) == 3  # "1.0" asked for matches the stored "1"
