"""The command line, end to end: the loop, one-shot mode, and every bad input."""

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest

from designloop.cli import main


def run(args, capsys, monkeypatch, columns=200):
    """Run the command line in-process: (exit status, standard output, standard error)."""
    monkeypatch.setattr(sys, "argv", ["designloop", *map(str, args)])
    monkeypatch.setenv("COLUMNS", str(columns))
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code or 0
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def status_table(out: str) -> dict:
    """`designloop status`'s two-column table as {name: value}, both as printed."""
    rows = [line.strip().split("  ", 1) for line in out.splitlines() if line.strip()]
    return {name.strip(): value.strip() for name, value in rows}


@pytest.fixture
def lab(tmp_path):
    gen = np.random.default_rng(0)
    df = pd.DataFrame({"temperature": np.repeat([60.0, 70.0, 80.0, 90.0], 6),
                       "time_h": np.tile([1.0, 2.0, 4.0, 8.0, 12.0, 24.0], 4),
                       "solvent": gen.choice(["thf", "dmf"], 24)})
    truth = df.assign(yield_pct=100 - (df.temperature - 75) ** 2 / 10 - (df.time_h - 6) ** 2)
    df.to_csv(tmp_path / "candidates.csv", index=False)
    return tmp_path, truth


def fill(path, truth, column="yield_pct"):
    picks = pd.read_csv(path)
    picks[column] = truth.loc[picks.candidate_id, column].to_numpy()
    picks.to_csv(path, index=False)


def test_full_loop(lab, capsys, monkeypatch):
    d, truth = lab
    db = d / "lab.db"
    code, out, _ = run(["init", db, "--candidates", d / "candidates.csv", "--target",
                        "yield_pct", "--goal", "maximize", "-n", "3"], capsys, monkeypatch)
    assert code == 0 and "temperature" in out and "numeric" in out and "categorical" in out
    for cycle in range(1, 4):
        code, out, _ = run(["suggest", db, "-o", d / "next.csv"], capsys, monkeypatch)
        assert code == 0 and f"cycle {cycle}" in out
        fill(d / "next.csv", truth)
        code, out, _ = run(["observe", db, d / "next.csv"], capsys, monkeypatch)
        assert code == 0 and "Recorded 3 result(s)" in out
    code, out, _ = run(["history", db, "--csv"], capsys, monkeypatch)
    hist = pd.read_csv(pd.io.common.StringIO(out))
    assert len(hist) == 9 and set(hist["status"]) == {"observed"}
    best = truth.loc[hist.candidate_id, "yield_pct"].max()
    assert hist["measured_mean"].max() == pytest.approx(best)
    code, out, _ = run(["status", db], capsys, monkeypatch)
    status = status_table(out)
    assert code == 0
    assert (status["candidates"], status["measured"], status["measurements"]) == ("24", "9", "9")
    assert (status["pending"], status["cycles"]) == ("0", "3")
    assert float(status["best"]) == pytest.approx(best)
    code, out, _ = run(["history", db, "-o", d / "h.csv"], capsys, monkeypatch)
    assert code == 0 and len(pd.read_csv(d / "h.csv")) == 9
    code, out, _ = run(["acquisitions"], capsys, monkeypatch)
    assert "max-variance" in out and "bald" in out


def test_release_and_pending(lab, capsys, monkeypatch):
    d, _ = lab
    db = d / "lab.db"
    run(["init", db, "-c", d / "candidates.csv", "-t", "yield_pct"], capsys, monkeypatch)
    run(["suggest", db, "-n", "4"], capsys, monkeypatch)
    code, out, _ = run(["release", db], capsys, monkeypatch)
    assert code == 0 and "Released 4" in out


def test_one_shot_mode(lab, capsys, monkeypatch):
    d, truth = lab
    truth.iloc[:5].to_csv(d / "results.csv", index=False)
    code, out, _ = run(["suggest", "--candidates", d / "candidates.csv", "--results",
                        d / "results.csv", "--target", "yield_pct", "--goal", "maximize",
                        "-n", "2", "-o", d / "next.csv"], capsys, monkeypatch)
    assert code == 0
    picks = pd.read_csv(d / "next.csv")
    assert len(picks) == 2 and not set(picks.candidate_id) & set(range(5))
    assert picks["predicted_mean"].notna().all()


def test_csv_quirks_are_handled(tmp_path, capsys, monkeypatch):
    text = "\ufefftemperature ; solvent ;yield\n60;thf;10\n70;dmf;\n80;thf;\n"
    (tmp_path / "c.csv").write_text(text, encoding="utf-8")
    code, out, err = run(["init", tmp_path / "lab.db", "-c", tmp_path / "c.csv", "-t", "yield"],
                         capsys, monkeypatch)
    assert code == 0, err
    assert "1 already measured" in out


BAD = [
    # (setup writes files, args, expected message piece)
    ("missing file", None, ["init", "{d}/lab.db", "-c", "{d}/nope.csv", "-t", "y"],
     "does not exist"),
    ("empty file", ("c.csv", ""), ["init", "{d}/lab.db", "-c", "{d}/c.csv", "-t", "y"], "empty"),
    ("empty feature", ("c.csv", "a,b\n1,2\n,3\n"), ["init", "{d}/lab.db", "-c", "{d}/c.csv",
                                                     "-t", "y"], "column 'a' is empty at line(s) 3"),
    ("invalid smiles", ("c.csv", "lig,x\nCCO,1\nc1ccccc1,2\nCC(=O)O,3\nC1CC(,4\nCCN,5\n"),
     ["init", "{d}/lab.db", "-c", "{d}/c.csv", "-t", "y"], "column 'lig', row 5"),
    ("unknown surrogate", ("c.csv", "a\n1\n2\n"), ["init", "{d}/lab.db", "-c", "{d}/c.csv", "-t",
                                                   "y", "--surrogate", "svm"], "gp_classifier"),
    ("unknown acquisition", ("c.csv", "a\n1\n2\n"), ["init", "{d}/lab.db", "-c", "{d}/c.csv",
                                                     "-t", "y", "--acquisition", "foo"],
     "max_variance"),
    ("non-numeric target", ("c.csv", "a,y\n1,3\n2,high\n"), ["init", "{d}/lab.db", "-c",
                                                            "{d}/c.csv", "-t", "y"],
     "line(s) [3] hold ['high']"),
    ("no campaign", None, ["status", "{d}/none.db"], "create it with"),
    ("decimal commas and points", ("c.csv", "a;b\n1,5;x\n2.5;y\n"),
     ["init", "{d}/lab.db", "-c", "{d}/c.csv", "-t", "y"],
     "column 'a' mixes decimal commas (line 2: '1,5') and decimal points (line 3: '2.5')"),
    ("infinite feature", ("c.csv", "a,b\n1,2\ninf,3\n"),
     ["init", "{d}/lab.db", "-c", "{d}/c.csv", "-t", "y"],
     "column 'a' holds inf at line(s) 3: numbers must be finite"),
]


@pytest.mark.parametrize("label, setup, args, message", BAD, ids=[b[0] for b in BAD])
def test_bad_input_one_line_exit_2_nothing_written(tmp_path, capsys, monkeypatch, label, setup,
                                                   args, message):
    if setup:
        (tmp_path / setup[0]).write_text(setup[1])
    code, out, err = run([a.format(d=tmp_path) for a in args], capsys, monkeypatch)
    assert code == 2
    line = " ".join(err.split())
    assert "Traceback" not in err and message in line, err
    assert not (tmp_path / "lab.db").exists()


def test_bad_results_and_too_many(lab, capsys, monkeypatch):
    d, truth = lab
    db = d / "lab.db"
    run(["init", db, "-c", d / "candidates.csv", "-t", "yield_pct"], capsys, monkeypatch)
    (d / "r1.csv").write_text("temperature,time_h,solvent,yield_pct\n65,1,thf,3\n")
    code, _, err = run(["observe", db, d / "r1.csv"], capsys, monkeypatch)
    assert code == 2 and "line 2" in err and "matches no candidate" in " ".join(err.split())
    (d / "r2.csv").write_text("candidate_id,result\n1,3\n")
    code, _, err = run(["observe", db, d / "r2.csv"], capsys, monkeypatch)
    assert code == 2 and "has no column 'yield_pct'" in " ".join(err.split())
    code, _, err = run(["suggest", db, "-n", "25"], capsys, monkeypatch)
    assert code == 2 and "at most 24" in " ".join(err.split())
    con = sqlite3.connect(db)
    assert con.execute("SELECT COUNT(*) FROM observations").fetchone()[0] == 0
    assert con.execute("SELECT COUNT(*) FROM cycles").fetchone()[0] == 0


def test_real_entry_point_exit_status(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "designloop.cli", "status",
                           str(tmp_path / "x.db")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "error:" in proc.stderr


CHILD = textwrap.dedent("""
    import sys
    import pandas as pd
    import designloop as dl
    c = dl.Campaign.open(sys.argv[1])
    rows = pd.DataFrame({"candidate_id": list(range(20)) * 3, "yield_pct": [1.0] * 60})
    for i in range(10_000):
        c.observe(rows, allow_replicates=True)
        print(i, flush=True)
""")


def kill_after(code: str, path, count: int, pause: float = 0.0) -> int:
    """Run `code` on the file `path` in a child process that prints a running count of
    committed writes, SIGKILL it once it has printed `count` (or after 120 s), and return
    the last count printed."""
    proc = subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE,
                            text=True)
    done = -1
    deadline = time.time() + 120
    while done < count and time.time() < deadline:
        done = int(proc.stdout.readline().split()[0])
    time.sleep(pause)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return done


@pytest.mark.slow
def test_campaign_file_survives_sigkill_during_observe(lab):
    d, _ = lab
    db = d / "lab.db"
    import designloop as dl

    dl.Campaign(pd.read_csv(d / "candidates.csv"), target="yield_pct", store=db).suggest(3)
    committed = kill_after(CHILD, db, 40)
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    count = con.execute("SELECT COUNT(*) FROM observations").fetchone()[0]
    assert count % 60 == 0 and count >= 60 * (committed + 1)  # whole transactions only
    assert con.execute("SELECT COUNT(*) FROM cycles").fetchone()[0] == 1
    con.close()
    reopened = dl.Campaign.open(db)
    assert reopened.status()["measurements"] == count


def test_benchmark_command(tmp_path, capsys, monkeypatch):
    out, png = tmp_path / "r.csv", tmp_path / "c.png"
    code, text, err = run(["benchmark", "--problem", "branin", "--n-candidates", "200",
                           "--strategies", "random,ei", "--seeds", "2", "--budget", "8",
                           "--batch-size", "4", "-o", out, "--plot", png], capsys, monkeypatch)
    assert code == 0, err
    assert "winner" in text and "simple_regret" in text
    assert len(pd.read_csv(out)) == 2 * 2 * 2 and png.stat().st_size > 10_000
    lookup = tmp_path / "lookup.csv"
    pd.DataFrame({"x": np.linspace(0, 1, 40), "y": np.sin(6 * np.linspace(0, 1, 40))}).to_csv(
        lookup, index=False)
    code, text, err = run(["benchmark", "--lookup", lookup, "--target", "y", "--strategies",
                           "random,ucb", "--seeds", "1", "--budget", "6"], capsys, monkeypatch)
    assert code == 0 and "simple_regret after 6" in " ".join(text.split())
    labels = tmp_path / "labels.csv"
    grid = np.linspace(0, 1, 60)
    pd.DataFrame({"x": grid, "phase": np.where(grid > 0.4, "beta", "alpha")}).to_csv(
        labels, index=False)
    code, text, err = run(["benchmark", "--lookup", labels, "--target", "phase", "--task",
                           "classification", "--strategies", "random@forest,entropy@forest",
                           "--seeds", "1", "--budget", "10"], capsys, monkeypatch)
    assert code == 0 and "accuracy after 10" in " ".join(text.split()), err
    code, _, err = run(["benchmark", "--lookup", labels, "--target", "phase", "--task", "phase"],
                       capsys, monkeypatch)
    assert code == 2 and "--task must be regression or classification" in err
    code, _, err = run(["benchmark", "--problem", "branin", "--strategies", "magic"], capsys,
                       monkeypatch)
    assert code == 2 and "unknown acquisition 'magic'" in err


@pytest.mark.parametrize("command", ["init", "suggest", "observe", "status", "history",
                                     "release", "forget", "benchmark", "report",
                                     "acquisitions"])
def test_every_command_has_help(command, capsys, monkeypatch):
    code, out, err = run([command, "--help"], capsys, monkeypatch)
    assert code == 0 and "Usage:" in out and "--help" in out and "Traceback" not in out + err


def test_explicit_smiles_without_rdkit_gives_the_install_hint(lab, capsys, monkeypatch):
    d, _ = lab
    for name in [m for m in sys.modules if m == "rdkit" or m.startswith("rdkit.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "rdkit", None)
    code, _, err = run(["init", d / "lab.db", "-c", d / "candidates.csv", "-t", "yield_pct",
                        "--smiles", "solvent"], capsys, monkeypatch)
    assert code == 2 and err.count("\n") == 1
    assert "SMILES columns need RDKit: pip install 'designloop[chem]'" in err
    assert not (d / "lab.db").exists()
    code, out, err = run(["init", d / "lab.db", "-c", d / "candidates.csv", "-t", "yield_pct"],
                         capsys, monkeypatch)
    assert code == 0, err
    assert "categorical" in out and "one-hot, 2 levels" in out and "molecules" not in out


def test_goal_and_acquisition_spellings(lab, capsys, monkeypatch):
    d, _ = lab
    code, out, err = run(["init", d / "lab.db", "-c", d / "candidates.csv", "-t", "yield_pct",
                          "--goal", "maximise", "--acquisition", "ei", "--selection", "top-k"],
                         capsys, monkeypatch)
    assert code == 0, err
    assert "(regression, maximize)" in out and "acquisition log_expected_improvement" in out
    code, out, err = run(["suggest", "--candidates", d / "candidates.csv", "--target",
                          "yield_pct", "--goal", "min", "-n", "2"], capsys, monkeypatch)
    assert code == 0, err
    lookup = d / "lookup.csv"
    pd.DataFrame({"x": np.linspace(0, 1, 20), "y": np.sin(6 * np.linspace(0, 1, 20))}).to_csv(
        lookup, index=False)
    code, text, err = run(["benchmark", "--lookup", lookup, "--target", "y", "--goal",
                           "minimise", "--strategies", "log-ei,pi", "--seeds", "1", "--budget",
                           "4"], capsys, monkeypatch)
    assert code == 0, err
    assert "log-ei" in text and "simple_regret after 4" in " ".join(text.split())


def test_results_observed_twice_forget_and_the_log(lab, capsys, monkeypatch):
    d, truth = lab
    db = d / "lab.db"
    run(["init", db, "-c", d / "candidates.csv", "-t", "yield_pct", "-n", "3"], capsys,
        monkeypatch)
    run(["suggest", db, "-o", d / "next.csv"], capsys, monkeypatch)
    fill(d / "next.csv", truth)
    code, out, _ = run(["observe", db, d / "next.csv"], capsys, monkeypatch)
    assert code == 0 and "Recorded 3 result(s)" in out
    code, _, err = run(["observe", db, d / "next.csv"], capsys, monkeypatch)
    assert code == 2 and err.count("\n") == 1
    assert "line(s) 2, 3, 4 repeat measurements exactly" in err and "--replicates" in err
    con = sqlite3.connect(db)
    assert con.execute("SELECT COUNT(*) FROM observations").fetchone()[0] == 3
    code, out, _ = run(["observe", db, d / "next.csv", "--replicates"], capsys, monkeypatch)
    assert code == 0 and "Recorded 3 result(s)" in out
    first = int(pd.read_csv(d / "next.csv")["candidate_id"].iloc[0])
    code, out, err = run(["forget", db, "--id", first, "--reason", "wrong vial"], capsys,
                         monkeypatch)
    assert code == 0 and "Retracted 2 measurement(s)" in out, err
    assert con.execute("SELECT COUNT(*) FROM observations").fetchone()[0] == 6
    assert con.execute("SELECT COUNT(*) FROM retractions").fetchone()[0] == 2
    code, out, _ = run(["history", db], capsys, monkeypatch)
    assert code == 0 and out.count("retracted at") == 2 and "(wrong vial)" in out
    code, out, _ = run(["history", db, "--observations", "--csv"], capsys, monkeypatch)
    listed = pd.read_csv(pd.io.common.StringIO(out))
    assert len(listed) == 6 and listed["retracted_at"].notna().sum() == 2
    assert set(listed.loc[listed["retracted_at"].notna(), "candidate_id"]) == {first}
    code, out, err = run(["forget", db, "--observation", "2"], capsys, monkeypatch)
    assert code == 0 and "Retracted 1 measurement(s)" in out, err
    for args, message in ((["--id", first], "have no measurement to retract"),
                          (["--id", "-1"], "candidate_id -1 is not a candidate"),
                          (["--id", "x"], "--id must be whole numbers"),
                          (["--observation", "2"], "observation 2 was already retracted"),
                          ([], "give --id CANDIDATE_IDS or --observation")):
        code, _, err = run(["forget", db, *args], capsys, monkeypatch)
        assert code == 2 and message in " ".join(err.split()), err
    assert con.execute("SELECT COUNT(*) FROM retractions").fetchone()[0] == 3


def test_semicolon_file_with_decimal_commas(tmp_path, capsys, monkeypatch):
    (tmp_path / "c.csv").write_text("temperature;ratio;solvent;yield\n60;1,5;thf;10,5\n"
                                    "70;2,25;dmf;\n80;3;thf;\n")
    code, out, err = run(["init", tmp_path / "lab.db", "-c", tmp_path / "c.csv", "-t", "yield"],
                         capsys, monkeypatch)
    assert code == 0, err
    assert "ratio" in out and out.count("numeric") == 2 and "1 already measured" in out
    assert dl_open(tmp_path / "lab.db").store.observations()["value"].tolist() == [10.5]


def dl_open(path):
    import designloop as dl

    return dl.Campaign.open(path)


def test_benchmark_of_several_targets_and_failing_experiments(tmp_path, capsys, monkeypatch):
    grid = np.linspace(0, 1, 30)
    lookup = tmp_path / "two.csv"
    # yield rises with x, cost too: the whole table is the Pareto front of (yld max, cost min)
    pd.DataFrame({"x": grid, "yld": grid, "cost": grid ** 2}).to_csv(lookup, index=False)
    out = tmp_path / "r.csv"
    code, text, err = run(["benchmark", "--lookup", lookup, "--target", "yld:max", "--target",
                           "cost:min", "--strategies", "default,desirability,random", "--seeds",
                           "2", "--budget", "6", "--batch-size", "2", "-o", out], capsys,
                          monkeypatch)
    assert code == 0, err
    assert "hv_fraction after 6" in " ".join(text.split())
    results = pd.read_csv(out)
    assert set(results.strategy) == {"default", "desirability", "random"}
    final = results[results.n_observed == 6]
    assert len(final) == 6 and final.hv_fraction.between(0, 1).all()
    # the regret and the share add up to the whole table's hypervolume
    whole = final.hypervolume + final.hv_regret
    assert np.allclose(whole, whole.iloc[0])
    for bad, message in ((["--strategies", "ei"], "objective chooses the picks"),
                         (["--target", "yld:max"], "more than once"),
                         (["--target", "x:max:0:1"], "bounds and weights are set on a campaign"),
                         (["--fail-below", "0.2"], "--fail-below is for one regression target")):
        args = ["benchmark", "--lookup", lookup, "--target", "yld:max", "--target", "cost:min",
                *bad]
        if bad[0] == "--target":
            args = ["benchmark", "--lookup", lookup, "--target", "yld:max", *bad]
        code, _, err = run(args, capsys, monkeypatch)
        assert code == 2 and message in err, (bad, err)
    # one target whose low results fail: the oracle answers "failed", the share is reported
    one = tmp_path / "one.csv"
    pd.DataFrame({"x": grid, "y": grid}).to_csv(one, index=False)
    code, text, err = run(["benchmark", "--lookup", one, "--target", "y", "--fail-below", "0.5",
                           "--strategies", "random", "--seeds", "2", "--budget", "30",
                           "--metric", "failed_fraction", "-o", tmp_path / "f.csv"], capsys,
                          monkeypatch)
    assert code == 0, err
    failed = pd.read_csv(tmp_path / "f.csv").groupby("seed").failed_fraction.last()
    assert failed.tolist() == [0.5, 0.5]  # the whole table measured: 15 of its 30 rows fail
    code, _, err = run(["benchmark", "--problem", "branin", "--target", "y"], capsys, monkeypatch)
    assert code == 2 and "--target goes with --lookup" in err
    # without --strategies, several targets compare the default with random picks
    code, text, err = run(["benchmark", "--lookup", lookup, "--target", "yld:max", "--target",
                           "cost:min", "--seeds", "1", "--budget", "4", "--batch-size", "2"],
                          capsys, monkeypatch)
    assert code == 0 and "default" in text and "random" in text, err
    # a results file of another benchmark (one target, or nothing failing) is never resumed
    code, _, err = run(["benchmark", "--lookup", lookup, "--target", "yld", "--strategies",
                        "random", "--seeds", "2", "--budget", "6", "--batch-size", "2", "-o",
                        out], capsys, monkeypatch)
    assert code == 2 and "holds results of another benchmark" in err and "targets" in err
    code, _, err = run(["benchmark", "--lookup", one, "--target", "y", "--strategies", "random",
                        "--seeds", "2", "--budget", "30", "-o", tmp_path / "f.csv"], capsys,
                       monkeypatch)
    assert code == 2 and "fail_below 0.5" in err
    # one target may be written NAME:max; low results cannot fail a target to minimise
    code, text, err = run(["benchmark", "--lookup", one, "--target", "y:max", "--strategies",
                           "random", "--seeds", "1", "--budget", "4"], capsys, monkeypatch)
    assert code == 0, err
    code, _, err = run(["benchmark", "--lookup", one, "--target", "y", "--goal", "min",
                        "--fail-below", "0.5"], capsys, monkeypatch)
    assert code == 2 and "suits a target to maximize" in err
    code, _, err = run(["benchmark", "--problem", "suzuki", "--fail-below", "nan"], capsys,
                       monkeypatch)
    assert code == 2 and "finite" in err
