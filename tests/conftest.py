import numpy as np
import pytest
import torch


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def committee(*members):
    """ClassificationPrediction probs (S, N, C) from nested lists: members[s][i] = p over C."""
    return torch.tensor(members, dtype=torch.float64)
