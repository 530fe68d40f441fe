"""`designloop benchmark --scheduler` against a real Dask scheduler and worker, started as
separate processes the way a user starts them (`dask scheduler`, `dask worker`)."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from designloop.bench.problems import make_problem
from designloop.bench.simulate import simulate
from designloop.cli import main

ROOT = Path(__file__).resolve().parent.parent
TIMING = ["suggest_seconds", "fit_seconds"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # dask shuts down cleanly on Ctrl-C
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


@pytest.fixture
def scheduler(tmp_path):
    """The address of a scheduler with one single-threaded worker; both torn down after."""
    pytest.importorskip("distributed")
    dask = Path(sys.executable).parent / "dask"
    if not dask.exists():
        pytest.skip(f"no dask command beside {sys.executable}")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    log = (tmp_path / "dask.log").open("w")
    procs = []
    try:
        procs.append(subprocess.Popen(
            [str(dask), "scheduler", "--host", "127.0.0.1", "--port", str(port),
             "--no-dashboard", "--dashboard-address", "127.0.0.1:0"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path))
        procs.append(subprocess.Popen(
            [str(dask), "worker", address, "--nworkers", "1", "--nthreads", "1",
             "--no-dashboard", "--dashboard-address", "127.0.0.1:0", "--host", "127.0.0.1",
             "--local-directory", str(tmp_path),
             "--death-timeout", "120"], env=env, stdout=log, stderr=subprocess.STDOUT,
            cwd=tmp_path))
        from dask.distributed import Client

        deadline = time.time() + 180
        while True:  # the scheduler is up and the worker has joined
            try:
                with Client(address, timeout=10) as client:
                    client.wait_for_workers(1, timeout=120)
                break
            except OSError:
                if time.time() > deadline or any(p.poll() is not None for p in procs):
                    raise
                time.sleep(1)
        yield address
    finally:
        for proc in reversed(procs):  # worker first, then the scheduler
            _stop(proc)
        log.close()
    assert all(p.poll() is not None for p in procs)


@pytest.mark.slow
def test_benchmark_on_a_dask_scheduler(scheduler, tmp_path, capsys, monkeypatch):
    out = tmp_path / "results.csv"
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr(sys, "argv", [
        "designloop", "benchmark", "--problem", "branin", "--n-candidates", "100",
        "--strategies", "random,max-variance", "--seeds", "2", "--budget", "6",
        "--batch-size", "3", "--scheduler", scheduler, "-o", str(out)])
    main()
    text = capsys.readouterr().out
    assert "branin" in text and "winner" in text and f"Wrote {out}" in text
    results = pd.read_csv(out)
    assert len(results) == 2 * 2 * 2 and set(results.seed) == {0, 1}
    assert set(results.strategy) == {"random", "max-variance"}
    inline = simulate(make_problem("branin", n_candidates=100), "random,max-variance", seeds=2,
                      budget=6, batch_size=3, progress=False)
    order = ["strategy", "seed", "cycle"]
    pd.testing.assert_frame_equal(  # the cluster computed what this process computes
        results.drop(columns=TIMING).sort_values(order).reset_index(drop=True),
        inline.drop(columns=TIMING).sort_values(order).reset_index(drop=True),
        check_dtype=False)


def test_unreachable_scheduler_is_one_line(tmp_path, capsys, monkeypatch):
    pytest.importorskip("distributed")
    address = f"tcp://127.0.0.1:{_free_port()}"  # nothing listens there
    monkeypatch.setattr(sys, "argv", [
        "designloop", "benchmark", "--problem", "branin", "--n-candidates", "50",
        "--strategies", "random", "--seeds", "1", "--budget", "4", "--scheduler", address,
        "-o", str(tmp_path / "r.csv")])
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}), \
            pytest.raises(SystemExit) as exit_:
        main()
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.strip().count("\n") == 0
    assert f"cannot reach the Dask scheduler at {address}" in err
    assert not (tmp_path / "r.csv").exists()
