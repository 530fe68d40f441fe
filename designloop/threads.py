"""How many threads PyTorch uses for one model step.

A lab's cycle is small: a few thousand candidates and a few dozen results. Matrices that
size gain little from a second thread, and on a busy laptop threads spin against each
other: with another program holding one of two cores, a suggestion on the 3,955-row
Buchwald-Hartwig table with 24 results took 1.01 s with two threads and 0.26 s with one
(idle: 0.26 s with two, 0.34 s with one; benchmarks/cycle_latency.py times the whole
cycle). Large pools, and surrogates other than the exact GP (whose cost was not measured
this way), keep PyTorch's own setting.

`torch.set_num_threads` is process-wide, so the setting is changed and restored by the
outermost step only, under a lock: steps running at once in several threads of one process
share the first one's setting.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

SINGLE_THREAD_WORK = 2_000_000  # candidates x observations at or below which one thread runs
_LOCK = threading.Lock()
_STATE = {"depth": 0, "before": None}


def threads_for(n_candidates: int, n_observations: int, exact_gp: bool = True) -> int | None:
    """1 for an exact GP's step of at most SINGLE_THREAD_WORK candidates x observations,
    else None (PyTorch's own setting)."""
    small = n_candidates * max(n_observations, 1) <= SINGLE_THREAD_WORK
    return 1 if exact_gp and small else None


@contextmanager
def step_threads(n_candidates: int, n_observations: int, exact_gp: bool = True):
    """Run the enclosed model step with `threads_for(...)` PyTorch threads, and restore the
    setting afterwards."""
    import torch

    wanted = threads_for(n_candidates, n_observations, exact_gp)
    with _LOCK:
        if _STATE["depth"] == 0:
            _STATE["before"] = torch.get_num_threads()
            if wanted is not None and wanted != _STATE["before"]:
                torch.set_num_threads(wanted)
        _STATE["depth"] += 1
    try:
        yield
    finally:
        with _LOCK:
            _STATE["depth"] -= 1
            if _STATE["depth"] == 0 and torch.get_num_threads() != _STATE["before"]:
                torch.set_num_threads(_STATE["before"])
