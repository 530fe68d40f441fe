"""Decision quality in small: the default campaign beats random on a real table and on
Hartmann6, seeds vary the campaign, the posterior incumbent resists a lucky measurement,
and the classifier chosen by cross-validation beats the GP classifier on digits
(the full evidence is benchmarks/decisions.py -> docs/benchmarks.md)."""

import numpy as np
import pandas as pd
import pytest
import torch

import designloop as dl
from designloop.bench.problems import make_problem
from designloop.bench.simulate import run_campaign
from designloop.bench.strategies import Strategy
from designloop.campaign import modelling
from designloop.campaign.config import default_initial_design
from designloop.campaign.surrogate_choice import (
    brier_score,
    choose_classifier,
    classifier,
    log_loss,
    needs_choice,
)
from designloop.records import CycleRecord


def best_found(problem, strategy, seeds, budget, batch_size, n_initial):
    return np.array([run_campaign(problem, strategy, s, budget, batch_size, n_initial,
                                  metrics=False)[-1]["best_so_far"] for s in seeds])


@pytest.mark.slow
def test_default_beats_random_on_a_real_table():
    problem = make_problem("suzuki")  # 247 measured couplings, maximise yield
    seeds = range(4)
    default = best_found(problem, Strategy.parse("default"), seeds, 15, 3, 3)
    rand = best_found(problem, Strategy("random", acquisition="random"), seeds, 15, 3, 3)
    assert default.mean() > rand.mean() + 2.0  # yield points (%)
    assert (default >= np.quantile(problem.values, 0.95)).mean() >= 0.75


@pytest.mark.slow
def test_default_beats_random_on_hartmann6():
    seeds = range(3)
    default, rand = [], []
    for s in seeds:
        problem = make_problem("hartmann6", n_candidates=2000, seed=s)
        default += best_found(problem, Strategy.parse("default"), [s], 25, 1, 10).tolist()
        rand += best_found(problem, Strategy("random", acquisition="random"), [s], 25, 1,
                           10).tolist()
    assert np.mean(default) < np.mean(rand) - 0.5  # minimise; optimum -3.32
    assert max(default) < -1.5


@pytest.mark.parametrize("goal", ["maximize", "explore"])
def test_seeds_give_different_initial_designs(goal):
    problem = make_problem("steels")
    picks = []
    for seed in range(4):
        campaign = dl.Campaign(problem.candidates, target=problem.target, goal=goal,
                               seed=seed, diagnostics=False)
        picks.append(tuple(campaign.suggest(5)["candidate_id"]))
    assert len(set(picks)) == 4
    assert all(len(set(a) & set(b)) <= 2 for a in picks for b in picks if a != b)
    again = dl.Campaign(problem.candidates, target=problem.target, goal=goal, seed=2,
                        diagnostics=False)
    assert tuple(again.suggest(5)["candidate_id"]) == picks[2]  # same seed, same design
    assert again.config.initial_design == default_initial_design("regression", goal)
    assert default_initial_design("classification", "explore") == "kmeans"


def test_posterior_incumbent_is_the_models_best_mean_not_a_lucky_value():
    x = np.linspace(0, 1, 21)
    table = pd.DataFrame({"x": x, "y": np.sin(3 * x)})
    # the best candidate measured three more times: once it came out far too high
    lucky = pd.DataFrame({"candidate_id": [10, 10, 10], "y": [1.0, 0.99, 4.0]})
    values = {}
    for kind in ("posterior", "observed"):
        campaign = dl.Campaign(table, target="y", goal="maximize", incumbent=kind,
                               diagnostics=False)
        campaign.observe(lucky)
        fitted = modelling.fit(campaign.model_setup(), campaign.store.observations(),
                               CycleRecord(k=0, seed=0), False)
        values[kind] = modelling.incumbent(fitted, "maximize", kind)
        mean = fitted.model.predict(fitted.X).mean
        if kind == "posterior":
            assert values[kind] == pytest.approx(float(mean.max()), rel=1e-12)
    assert values["observed"] == pytest.approx(4.0)
    assert values["posterior"] < 2.5  # the replicates disagree: the GP reads noise
    with pytest.raises(dl.InputError, match="incumbent"):
        dl.Campaign(table, target="y", goal="maximize", incumbent="best")


def test_scores_hand_computed():
    probs = np.array([[0.5, 0.5], [0.9, 0.1], [0.0, 1.0]])
    labels = np.array([0, 1, 0])
    expected = -(np.log(0.5) + np.log(0.1) + np.log(1e-6)) / 3
    assert log_loss(probs, labels) == pytest.approx(expected, rel=1e-12)
    # (0.25 + 0.25) + (0.81 + 0.81) + (1 + 1), over three
    assert brier_score(probs, labels) == pytest.approx(4.12 / 3, rel=1e-12)
    compared = {"n": 10, "brier": {"forest": 0.3}}
    assert needs_choice(None, 10) and not needs_choice(compared, 14)
    assert needs_choice(compared, 15)
    # a default taken while nothing could be compared is chosen again once labels are added
    assert not needs_choice({"n": 6}, 6) and needs_choice({"n": 6}, 7)


def test_too_few_labels_take_the_default_classifier_without_cross_validation():
    X = torch.rand(6, 2, dtype=torch.float64)
    name, why = choose_classifier(X, torch.tensor([0, 0, 0, 1, 1, 1]), 2, 6)
    assert name == "forest" and "brier" not in why["surrogate_choice"]
    assert "fewer than 10 labelled" in why["surrogate_choice"]["reason"]


@pytest.mark.slow
def test_chosen_classifier_beats_the_gp_classifier_on_digits():
    from sklearn.datasets import load_digits

    data = load_digits()
    rng = np.random.default_rng(0)
    order = rng.permutation(len(data.target))
    train, test = order[:60], order[60:]
    X = torch.as_tensor(data.data, dtype=torch.float64)
    y = torch.as_tensor(data.target)
    name, why = choose_classifier(X[train], y[train], 10, 60, seed=0)
    scores = why["surrogate_choice"]["brier"]
    assert name == min(scores, key=scores.get) and name != "gp_classifier"

    def accuracy(model_name):
        model = classifier(model_name, 10, 0).fit(X[train], y[train])
        guess = model.predict(X[test]).mean_probs.argmax(1)
        return float((guess == y[test]).double().mean())

    assert accuracy(name) > accuracy("gp_classifier") + 0.05


def test_classification_campaign_logs_its_choice():
    from sklearn.datasets import load_iris

    data = load_iris()
    table = pd.DataFrame(data.data, columns=["a", "b", "c", "d"])
    table["label"] = [str(t) if i % 10 == 0 else None for i, t in enumerate(data.target)]
    campaign = dl.Campaign(table, target="label", task="classification", seed=0,
                           diagnostics=False)
    assert campaign.config.surrogate == "auto"
    campaign.suggest(2)
    cycle = campaign.store.cycles().iloc[-1]
    choice = cycle["record"].surrogate_choice
    compared = {"gp_classifier", "ensemble", "forest", "label_spreading"}
    assert cycle["surrogate"] == choice["chosen"] in compared
    assert choice["n"] == 15 and set(choice["brier"]) == compared


def test_prior_follows_the_features_and_is_kept_in_the_log(tmp_path):
    numbers = pd.DataFrame({"x": np.linspace(0, 1, 12), "y": np.nan})
    mixed = numbers.assign(solvent=["THF", "DMF", "MeCN"] * 4)
    assert dl.Campaign(numbers, target="y").config.surrogate_params["prior"] == "dim_scaled"
    path = tmp_path / "lab.db"
    campaign = dl.Campaign(mixed, target="y", goal="maximize", store=path)
    assert campaign.config.surrogate_params["prior"] == "gamma"
    assert dl.Campaign.open(path).config.surrogate_params["prior"] == "gamma"
    given = dl.Campaign(mixed, target="y", surrogate_params={"prior": "dim_scaled"})
    assert given.config.surrogate_params["prior"] == "dim_scaled"
    with pytest.raises(dl.InputError, match="GP prior"):
        dl.Campaign(mixed, target="y", surrogate_params={"prior": "flat"})


def test_a_log_from_before_these_settings_keeps_its_behaviour():
    from designloop.campaign.config import CampaignConfig

    old = {"target": "y", "task": "regression", "goal": "maximize", "surrogate": "gp",
           "acquisition": "log_expected_improvement", "batch_size": 1, "seed": 0,
           "feature_columns": ["x"], "initial_design": "maximin"}
    config = CampaignConfig.from_dict(old)
    assert config.incumbent == "observed"
    assert config.surrogate_params == {"prior": "dim_scaled"}
    assert config.initial_design == "maximin"


def test_auto_classifier_takes_no_parameters():
    table = pd.DataFrame({"x": np.arange(10.0), "label": None})
    with pytest.raises(dl.InputError, match="name the surrogate"):
        dl.Campaign(table, target="label", task="classification",
                    surrogate_params={"n_members": 3})
