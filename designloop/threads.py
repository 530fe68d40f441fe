"""How many threads PyTorch uses for one model step.

A lab's cycle is small: a few thousand candidates and a few dozen results. Matrices that
size gain nothing from a second thread, and on a busy laptop threads spin against each other:
with another program holding one of two cores, a suggestion on the 3,955-row
Buchwald-Hartwig table with 24 results took 1.01 s with two threads and 0.26 s with one
(0.26 s and 0.34 s on an idle machine; docs/performance.md). Large pools keep PyTorch's
own setting, where the kernel blocks are big enough to share.
"""

from __future__ import annotations

from contextlib import contextmanager

SINGLE_THREAD_WORK = 2_000_000  # candidates x observations at or below which one thread runs


def threads_for(n_candidates: int, n_observations: int) -> int | None:
    """1 for a step of at most SINGLE_THREAD_WORK candidates x observations, else None
    (PyTorch's own setting)."""
    return 1 if n_candidates * max(n_observations, 1) <= SINGLE_THREAD_WORK else None


@contextmanager
def step_threads(n_candidates: int, n_observations: int):
    """Run the enclosed model step with `threads_for(...)` PyTorch threads, and restore the
    setting afterwards."""
    import torch

    wanted = threads_for(n_candidates, n_observations)
    before = torch.get_num_threads()
    if wanted is not None and wanted != before:
        torch.set_num_threads(wanted)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
