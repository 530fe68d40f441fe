import numpy as np
import pandas as pd
import pytest

import designloop as dl
from designloop.bench.problems import PROBLEMS, make_problem, problem_from_csv


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_every_problem_builds(name):
    p = make_problem(name)
    assert len(p.candidates) == len(p.values) >= 96
    assert p.target not in p.candidates.columns
    assert p.task in ("regression", "classification")


def test_test_functions_know_their_optimum_and_are_seeded():
    a = make_problem("hartmann6", n_candidates=500, seed=1)
    b = make_problem("hartmann6", n_candidates=500, seed=1)
    assert a.optimum == pytest.approx(-3.32237)
    assert a.candidates.equals(b.candidates)
    assert a.values.min() >= a.optimum  # no candidate beats the global optimum
    assert make_problem("branin").optimum == pytest.approx(0.397887)
    c = make_problem("hartmann6", n_candidates=500, seed=2)
    assert not a.candidates.equals(c.candidates)


def test_oracle_noise_is_seeded():
    p = make_problem("branin", n_candidates=100, noise_std=0.5)
    first = p.oracle([1, 2, 3], np.random.default_rng(0))
    assert first == p.oracle([1, 2, 3], np.random.default_rng(0))
    assert first != pytest.approx(p.values[[1, 2, 3]].tolist())


def test_top_mask_is_the_best_percent():
    p = make_problem("buchwald_hartwig")
    top = p.top_mask(0.01)
    assert 39 <= top.sum() <= 41
    assert p.values[top].min() >= np.quantile(p.values, 0.99)


def test_esol_keeps_only_the_smiles_and_classification_labels_are_text():
    assert list(make_problem("esol").candidates.columns) == ["smiles"]
    glass = make_problem("metallic_glass")
    assert set(glass.values) == {"glass", "no glass"}
    assert np.allclose(glass.candidates.sum(axis=1), 1.0)


def test_user_csv_lookup(tmp_path):
    pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "y": [1.0, None, 3.0, 0.5]}).to_csv(
        tmp_path / "l.csv", index=False)
    p = problem_from_csv(tmp_path / "l.csv", "y", "minimize")
    assert len(p.candidates) == 3 and p.best_in_pool == 0.5
    with pytest.raises(dl.InputError, match="no column 'z'"):
        problem_from_csv(tmp_path / "l.csv", "z")
    with pytest.raises(dl.InputError, match="unknown problem"):
        make_problem("hartmann7")


def test_bundled_suzuki_miyaura_reads_as_six_molecule_columns():
    p = make_problem("suzuki_miyaura")
    enc = dl.Encoder().fit(p.candidates, list(p.candidates.columns))
    assert len(enc.smiles_columns) == 6 and len(p.candidates) == 5760
    assert (p.candidates["ligand_smiles"] == "none").sum() == 480
    assert p.values.max() == pytest.approx(1.0, abs=0.2) and p.goal == "maximize"
    r = make_problem("reizman_suzuki")
    assert list(r.candidates.columns) == ["catalyst", "t_res", "temperature", "catalyst_loading"]
