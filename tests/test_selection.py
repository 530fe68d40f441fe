import numpy as np
import pytest
import torch

import designloop as dl


def test_top_k_orders_by_score_and_excludes():
    scores = torch.tensor([0.1, 0.9, 0.5, 0.7, 0.3])
    assert dl.top_k(scores, 3).tolist() == [1, 3, 2]
    assert dl.top_k(scores, 3, exclude=[1]).tolist() == [3, 2, 4]
    mask = np.array([False, True, False, True, False])
    assert dl.top_k(scores, 2, exclude=mask).tolist() == [2, 4]
    assert dl.top_k(scores, 0).tolist() == []


def test_top_k_breaks_ties_reproducibly_with_a_seed():
    scores = np.ones(20)
    a = dl.top_k(scores, 5, rng=np.random.default_rng(7))
    b = dl.top_k(scores, 5, rng=np.random.default_rng(7))
    assert a.tolist() == b.tolist()
    picks = {tuple(dl.top_k(scores, 5, rng=seed).tolist()) for seed in range(10)}
    assert len(picks) > 1  # different seeds break ties differently
    assert dl.top_k(scores, 3).tolist() == [0, 1, 2]  # no generator: lowest index first
    # ties never beat a strictly higher score
    scores[13] = 2.0
    for seed in range(5):
        assert dl.top_k(scores, 1, rng=seed).tolist() == [13]


def test_top_k_errors_clearly():
    with pytest.raises(dl.InputError, match="only 2 are left"):
        dl.top_k(np.arange(5.0), 3, exclude=[0, 1, 2])
    with pytest.raises(dl.InputError, match="whole number"):
        dl.top_k(np.arange(5.0), -1)
    with pytest.raises(dl.InputError, match="NaN"):
        dl.top_k(np.array([1.0, np.nan]), 1)
    with pytest.raises(dl.InputError, match="outside"):
        dl.top_k(np.arange(5.0), 1, exclude=[7])


def test_top_k_orders_equal_scores_by_the_seed_and_never_loses_a_better_one():
    scores = np.array([3.0, 3.0, 1.0, 1.0, 5.0, 1.0])
    for seed in range(10):
        picks = dl.top_k(scores, 4, rng=seed).tolist()
        assert picks[0] == 4 and set(picks[1:3]) == {0, 1} and picks[3] in {2, 3, 5}
    orders = {tuple(dl.top_k(scores, 3, rng=seed).tolist()) for seed in range(20)}
    assert orders == {(4, 0, 1), (4, 1, 0)}
