"""A small model step runs on one PyTorch thread, a large one on PyTorch's own setting, and
the setting is restored afterwards."""

import numpy as np
import pandas as pd
import torch

import designloop as dl
from designloop.threads import SINGLE_THREAD_WORK, step_threads, threads_for


def test_small_steps_use_one_thread_and_large_ones_the_default():
    assert threads_for(3955, 24) == 1
    assert threads_for(SINGLE_THREAD_WORK, 1) == 1
    assert threads_for(100_000, 50) is None
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with step_threads(3955, 24):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        with step_threads(100_000, 50):
            assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_suggest_fits_on_one_thread_and_restores_the_setting(monkeypatch):
    seen = []
    fit = dl.GPRegressor.fit

    def spy(self, *args, **kwargs):
        seen.append(torch.get_num_threads())
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(dl.GPRegressor, "fit", spy)
    x = np.linspace(0, 1, 40)
    table = pd.DataFrame({"x": x, "y": np.where(np.arange(40) % 4 == 0, np.sin(5 * x), np.nan)})
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        dl.Campaign(table, target="y", goal="maximize", diagnostics=False).suggest(2)
        assert seen and set(seen) == {1}
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_other_surrogates_and_nested_steps_keep_the_first_setting():
    assert threads_for(3955, 24, exact_gp=False) is None
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with step_threads(3955, 24):
            with step_threads(100_000, 50):  # a step inside a step keeps the outer setting
                assert torch.get_num_threads() == 1
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
