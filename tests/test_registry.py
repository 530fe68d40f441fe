"""The registry's facts hold for the functions and classes they describe, and every listing
(docs, command line, configuration checks) comes from it."""

import inspect
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import designloop as dl
from designloop import registry
from designloop.acquisition import ACQUISITIONS
from designloop.errors import AcquisitionError
from designloop.prediction import ClassificationPrediction, RegressionPrediction
from designloop.surrogates import SURROGATES

ROOT = Path(__file__).resolve().parents[1]


def regression_prediction(mean, var, noise=0.1):
    return RegressionPrediction(torch.as_tensor(mean, dtype=torch.float64),
                                torch.as_tensor(var, dtype=torch.float64),
                                torch.tensor(noise, dtype=torch.float64))


def context(spec):
    ctx = {"rng": 0}
    if spec.optimises:
        ctx["goal"] = "maximize"
    if spec.incumbent:
        ctx["best_f"] = 0.3
    return ctx


def test_every_spec_has_its_function_and_class():
    assert list(ACQUISITIONS) == [s.name for s in registry.ACQUISITION_SPECS]
    assert list(SURROGATES) == [s.name for s in registry.SURROGATE_SPECS]
    for spec in registry.SURROGATE_SPECS:
        cls = spec.resolve()
        takes_task = "task" in inspect.signature(cls).parameters
        assert takes_task == spec.takes_task, spec.name
        if len(spec.tasks) == 1 and not takes_task:
            assert cls().task == spec.tasks[0], spec.name


@pytest.mark.parametrize("spec", [s for s in registry.ACQUISITION_SPECS
                                  if s.shrinks_with_variance], ids=lambda s: s.name)
def test_scores_that_shrink_with_variance_never_rise_as_it_falls(spec):
    """The fact that lets a greedy batch skip most of a pool, checked on a grid of means and
    variances around the incumbent."""
    mean = torch.linspace(-2, 2, 41).repeat_interleave(30)
    var = torch.logspace(-6, 1, 30).repeat(41)  # increasing within each mean
    scores = ACQUISITIONS[spec.name](regression_prediction(mean, var), **context(spec))
    steps = scores.reshape(41, 30).diff(dim=1)
    assert bool((steps >= -1e-12).all())
    if spec.variance_only:  # the mean does not matter
        other = ACQUISITIONS[spec.name](regression_prediction(mean + 5.0, var), **context(spec))
        assert torch.allclose(scores, other)


def test_only_the_flagged_scores_shrink_with_variance():
    """Probability of improvement rises as the variance falls for a candidate above the
    incumbent: it is rightly not flagged."""
    spec = registry.ACQUISITIONS["probability_of_improvement"]
    assert not spec.shrinks_with_variance
    pi = ACQUISITIONS[spec.name](regression_prediction([1.0, 1.0], [1.0, 0.01]),
                                 **context(spec))
    assert pi[1] > pi[0]


@pytest.mark.parametrize("spec", [s for s in registry.ACQUISITION_SPECS
                                  if registry.REGRESSION in s.tasks and not s.gradients],
                         ids=lambda s: s.name)
def test_the_sign_of_each_regression_score_is_as_flagged(spec):
    """Feasibility weighting multiplies scores >= 0, adds logs to log-scale ones and treats
    the rest as signed: the flags must match the scores on a grid."""
    mean = torch.linspace(-3, 3, 41).repeat_interleave(30)
    var = torch.logspace(-6, 1, 30).repeat(41)
    scores = ACQUISITIONS[spec.name](regression_prediction(mean, var), **context(spec))
    if spec.log_scale:
        ei = ACQUISITIONS["expected_improvement"](regression_prediction(mean, var),
                                                  **context(spec))
        big = ei > 1e-12
        assert torch.allclose(scores[big].exp(), ei[big], rtol=1e-6)
    elif spec.signed:
        assert bool((scores < 0).any())
    else:
        assert bool((scores >= 0).all())


@pytest.mark.parametrize("spec", registry.ACQUISITION_SPECS, ids=lambda s: s.name)
def test_acquisitions_refuse_the_task_they_do_not_serve(spec):
    if spec.gradients or registry.BOTH == spec.tasks:
        return
    wrong = (ClassificationPrediction(torch.full((3, 4, 2), 0.5, dtype=torch.float64))
             if spec.tasks == (registry.REGRESSION,)
             else regression_prediction([0.0] * 4, [1.0] * 4))
    with pytest.raises(AcquisitionError, match=spec.name):
        ACQUISITIONS[spec.name](wrong, **context(spec))


@pytest.mark.parametrize("spec", [s for s in registry.ACQUISITION_SPECS if s.min_members > 1],
                         ids=lambda s: s.name)
def test_committee_acquisitions_refuse_a_single_model_and_name_the_committees(spec):
    single = ClassificationPrediction(torch.tensor([[[0.6, 0.4], [0.2, 0.8]]],
                                                   dtype=torch.float64))
    with pytest.raises(AcquisitionError) as info:
        ACQUISITIONS[spec.name](single)
    for name in registry.surrogates_for("classification", committee=True):
        assert f"'{name}'" in str(info.value)
    committee = ClassificationPrediction(torch.tensor([[[0.6, 0.4]], [[0.3, 0.7]]],
                                                      dtype=torch.float64))
    assert float(ACQUISITIONS[spec.name](committee)[0]) > 0


def test_optimising_acquisitions_need_a_goal_and_are_refused_when_exploring():
    table = pd.DataFrame({"x": np.linspace(0, 1, 8)})
    for name in registry.acquisitions_for("regression", optimises=True):
        with pytest.raises(dl.InputError, match="optimises"):
            dl.Campaign(table, target="y", goal="explore", acquisition=name)
    for name in registry.acquisitions_for("classification"):
        if "regression" not in registry.ACQUISITIONS[name].tasks:
            with pytest.raises(dl.InputError, match="for classification targets"):
                dl.Campaign(table, target="y", goal="maximize", acquisition=name)


def test_exact_gp_selections_refuse_other_surrogates():
    table = pd.DataFrame({"x": np.linspace(0, 1, 12)})
    table["y"] = np.where(np.arange(12) < 5, np.sin(table["x"]), np.nan)
    for spec in registry.SELECTION_SPECS:
        if not spec.exact_gp:
            continue
        campaign = dl.Campaign(table, target="y", goal="maximize", surrogate="forest",
                               selection=spec.name, diagnostics=False)
        with pytest.raises(dl.InputError, match=f"selection '{spec.name}' needs an exact GP"):
            campaign.suggest(2)


def test_default_batch_rules():
    gp, forest = dl.GPRegressor(), dl.RandomForest(task="regression")
    assert registry.default_selection("log_expected_improvement", gp, False, 1, 1) == "top_k"
    assert registry.default_selection("log_expected_improvement", gp, False, 1, 3) == "greedy"
    assert registry.default_selection("bald", forest, True, 10, 3) == "batch_bald"
    assert registry.default_selection("margin", forest, True, 10, 3) == "diverse"
    k = registry.KRIGING_BELIEVER_MAX_K
    assert registry.default_selection("ucb", forest, False, 1, k) == "kriging_believer"
    assert registry.default_selection("ucb", forest, False, 1, k + 1) == "diverse"


def test_docs_tables_follow_the_registry():
    concepts = (ROOT / "docs" / "concepts.md").read_text()
    assert registry.acquisitions_table() in concepts, (
        "docs/concepts.md's table of acquisition functions differs from "
        "designloop.registry.acquisitions_table(): paste its output")
    section = concepts.split("## When to use which", 1)[1].split("\n\n")[1]
    names = re.findall(r"^\| `(\w+)` \|", section, flags=re.M)
    assert names == [s.name for s in registry.ACQUISITION_SPECS]


def test_command_line_help_lists_every_surrogate_and_selection():
    from typer.testing import CliRunner

    from designloop.cli import app

    out = CliRunner().invoke(app, ["init", "--help"], env={"COLUMNS": "400"}).output
    for name in [*registry.SURROGATES, *registry.SELECTIONS]:
        assert name in out


def test_a_registered_function_passed_as_an_object_gets_the_same_checks():
    table = pd.DataFrame({"x": np.linspace(0, 1, 8)})
    with pytest.raises(dl.InputError, match="optimises"):
        dl.Campaign(table, target="y", goal="explore",
                    acquisition=dl.ACQUISITIONS["expected_improvement"])
    with pytest.raises(dl.InputError, match="for classification targets"):
        dl.Campaign(table, target="y", goal="maximize", acquisition=dl.get_acquisition("margin"))
    campaign = dl.Campaign(table, target="y", goal="explore",
                           acquisition=dl.ACQUISITIONS["max_variance"])
    assert campaign.config.acquisition == "max_variance"
