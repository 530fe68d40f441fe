"""The first hour of a scientist with the command line: their own text printed as written,
outputs checked before anything is logged, plain numbers to act on, CSV files that are safe
to open in a spreadsheet, and read-only commands that start quickly."""

import sqlite3
import sys

import numpy as np
import pandas as pd
import pytest

from tests.test_cli import run


def dump(db):
    con = sqlite3.connect(db)
    try:
        return list(con.iterdump())
    finally:
        con.close()


def count(db, table):
    con = sqlite3.connect(db)
    try:
        return con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    finally:
        con.close()


# ---------------------------------------------------------------- rich markup in user text
MARKUP = pd.DataFrame({
    "amine": ["c1ccc2[nH]ccc2c1", "C[n+]1ccccc1", "CCN", "CCCN", "NCCO", "CC(C)N"],
    "conc [mM]": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
    "rate [/s]": [0.1, 0.2, 0.3, 0.1, 0.2, 0.3],
})


def test_user_text_is_printed_as_written_not_as_markup(tmp_path, capsys, monkeypatch):
    pytest.importorskip("rdkit")
    MARKUP.to_csv(tmp_path / "c.csv", index=False)
    db = tmp_path / "lab.db"
    code, out, err = run(["init", db, "-c", tmp_path / "c.csv", "-t", "yield", "--goal",
                          "maximize", "--encoding", "onehot"], capsys, monkeypatch)
    assert code == 0, err
    assert "conc [mM]" in out and "rate [/s]" in out
    code, out, err = run(["suggest", db, "-n", "6", "-o", tmp_path / "next.csv"], capsys,
                         monkeypatch)
    assert code == 0, err
    assert "c1ccc2[nH]ccc2c1" in out and "C[n+]1ccccc1" in out
    assert "conc [mM]" in out and "rate [/s]" in out
    assert len(pd.read_csv(tmp_path / "next.csv")) == 6 and count(db, "suggestions") == 6
    # errors quote the user's columns as written
    pd.DataFrame({"conc [mM]": [1.0], "amount": [3.0]}).to_csv(tmp_path / "r.csv", index=False)
    code, _, err = run(["observe", db, tmp_path / "r.csv"], capsys, monkeypatch)
    assert code == 2 and "'conc [mM]'" in err and err.startswith("error:")


def test_error_messages_keep_square_brackets(tmp_path, capsys, monkeypatch):
    from designloop.errors import InputError
    from designloop.features import molecules

    def no_rdkit():
        raise InputError("SMILES columns need RDKit: pip install 'designloop[chem]'")

    monkeypatch.setattr(molecules, "_rdkit", no_rdkit)
    MARKUP.to_csv(tmp_path / "c.csv", index=False)
    code, out, err = run(["init", tmp_path / "lab.db", "-c", tmp_path / "c.csv", "-t", "y",
                          "--smiles", "amine"], capsys, monkeypatch)
    assert code == 2 and out == ""
    assert err == "error: SMILES columns need RDKit: pip install 'designloop[chem]'\n"
    assert not (tmp_path / "lab.db").exists()


def test_paths_with_brackets_are_printed_as_written(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "run [bold]"
    folder.mkdir()
    pd.DataFrame({"x": [1.0, 2.0, 3.0]}).to_csv(folder / "c.csv", index=False)
    db = folder / "lab [b].db"
    code, out, err = run(["init", db, "-c", folder / "c.csv", "-t", "y"], capsys, monkeypatch)
    assert code == 0, err
    assert f"Created {db}:" in " ".join(out.split())
    code, out, err = run(["init", db, "-c", folder / "c.csv", "-t", "y"], capsys, monkeypatch)
    assert code == 2 and f"{db} already exists" in err


# ---------------------------------------------------------------- start-up without PyTorch
CHECK_IMPORTS = """
import json, sys
import designloop.cli as cli
seen = []
for args in json.loads(sys.argv[1]):
    sys.argv = ["designloop", *args]
    try:
        cli.main()
    except SystemExit as exc:
        assert not exc.code, (args, exc.code)
    seen.append([args[0], "torch" in sys.modules])
print(json.dumps(seen), file=sys.stderr)
"""


def test_read_only_commands_and_observe_do_not_import_torch(tmp_path):
    import json
    import subprocess

    import designloop as dl

    db = tmp_path / "lab.db"
    table = pd.DataFrame({"x": [float(i) for i in range(8)], "s": list("abababab")})
    c = dl.Campaign(table, target="y", goal="maximize", store=db)
    c.suggest(2)
    c.store.close()
    pd.DataFrame({"candidate_id": [0, 1], "y": [1.0, 2.0]}).to_csv(tmp_path / "r.csv",
                                                                    index=False)
    commands = [["--help"], ["acquisitions"], ["status", db], ["history", db],
                ["history", db, "--csv"], ["history", db, "-o", tmp_path / "h.csv"],
                ["observe", db, tmp_path / "r.csv"], ["release", db]]
    proc = subprocess.run(
        [sys.executable, "-c", CHECK_IMPORTS, json.dumps([[str(a) for a in cmd]
                                                          for cmd in commands])],
        capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stderr.strip().splitlines()[-1])
    assert seen == [[cmd[0], False] for cmd in commands]
    assert "Recorded 2 result(s)" in proc.stdout and "Released 2 pending" in proc.stdout
    assert count(db, "observations") == 2 and len(pd.read_csv(tmp_path / "h.csv")) == 2


def test_import_designloop_is_light_and_names_resolve():
    import subprocess

    code = ("import sys, designloop as dl; assert 'torch' not in sys.modules; "
            "import designloop.bench.simulate; assert callable(dl.simulate); "
            "assert dl.Campaign.__name__ == 'Campaign' and 'GPRegressor' in dir(dl); "
            "print(sorted(set(dl.__all__) - set(dir(dl))))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_acquisition_meanings_open_their_docstrings():
    from designloop import acquisition, registry

    assert list(acquisition.ACQUISITIONS) == list(registry.MEANINGS)
    for name, fn in acquisition.ACQUISITIONS.items():
        first = (fn.__doc__ or "").strip().split("\n\n")[0]
        assert " ".join(line.strip() for line in first.splitlines()).rstrip(".") == \
            registry.MEANINGS[name]
        assert acquisition.describe(name.replace("_", "-")) == registry.MEANINGS[name]


# ---------------------------------------------------------------- outputs checked first
@pytest.fixture
def lab(tmp_path, capsys, monkeypatch):
    table = pd.DataFrame({"temperature": [60.0, 70.0, 80.0, 90.0] * 3,
                          "solvent": ["thf"] * 4 + ["dmf"] * 4 + ["meoh"] * 4})
    table.to_csv(tmp_path / "candidates.csv", index=False)
    db = tmp_path / "lab.db"
    code, _, err = run(["init", db, "-c", tmp_path / "candidates.csv", "-t", "yield",
                        "--goal", "maximize"], capsys, monkeypatch)
    assert code == 0, err
    return tmp_path, db


@pytest.mark.parametrize("name, message", [
    ("nodir/next.csv", "folder {d}/nodir does not exist"),
    ("next.xlsx", "name the file with .csv"),
    (".", "is a folder"),
    ("lab.db", "is the campaign file itself"),
])
def test_suggest_checks_its_output_before_logging(lab, capsys, monkeypatch, name, message):
    d, db = lab
    before = dump(db)
    code, out, err = run(["suggest", db, "-n", "2", "-o", d / name], capsys, monkeypatch)
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert err.startswith("error: ") and message.format(d=d) in err
    assert count(db, "cycles") == 0 and count(db, "suggestions") == 0
    assert dump(db) == before


@pytest.mark.parametrize("failing", ["write", "show"])
def test_suggest_rolls_the_cycle_back_when_its_output_fails(lab, capsys, monkeypatch, failing):
    from designloop.cli import commands, output

    d, db = lab
    run(["suggest", db, "-n", "1"], capsys, monkeypatch)  # cycle 1, kept

    def broken(*args, **kwargs):
        if failing == "write":
            raise OSError(28, "No space left on device")
        raise RuntimeError("the terminal went away")

    if failing == "write":
        monkeypatch.setattr(output, "write_table", broken)
    else:
        monkeypatch.setattr(commands, "show", broken)
    if failing == "write":
        code, _, err = run(["suggest", db, "-n", "2", "-o", d / "next.csv"], capsys,
                           monkeypatch)
        assert code == 2 and err.startswith("error: cannot write") and err.count("\n") == 1
        assert "No space left on device" in err and "not logged" in err
    else:
        with pytest.raises(RuntimeError, match="terminal"):
            run(["suggest", db, "-n", "2", "-o", d / "next.csv"], capsys, monkeypatch)
    assert count(db, "cycles") == 1 and count(db, "suggestions") == 1
    assert not (d / "next.csv").exists()
    monkeypatch.undo()
    code, _, err = run(["suggest", db, "-n", "2", "-o", d / "next.csv"], capsys, monkeypatch)
    assert code == 0 and "cycle 2" in _ and count(db, "suggestions") == 3


def test_discarding_a_cycle_is_atomic_and_only_for_the_latest_pending_one(tmp_path):
    from designloop.campaign.store import Store
    from designloop.errors import InputError
    from designloop.records import CycleRecord

    store = Store(tmp_path / "s.db")
    store.initialise({"x": 1}, pd.DataFrame({"a": [1, 2, 3]}))
    for cycle, ids in ((1, [0]), (2, [1, 2])):
        store.record_cycle(cycle, "initial", None, "random", 0, CycleRecord(k=len(ids), seed=0), [
            {"candidate_id": c, "rank": r + 1, "score": None, "prediction": {}}
            for r, c in enumerate(ids)])
    with pytest.raises(InputError, match="latest"):
        store.discard_cycle(1)
    store.add_observations([1], [3.0], "lab")
    with pytest.raises(InputError, match="already observed"):
        store.discard_cycle(2)
    assert len(store.cycles()) == 2 and len(store.suggestions()) == 3
    store.release([2])
    store._conn.execute("UPDATE suggestions SET status='pending' WHERE cycle=2")
    store.discard_cycle(2)
    assert store.cycles()["cycle"].tolist() == [1] and store.pending() == [0]
    assert store.next_cycle() == 2


@pytest.mark.parametrize("args, message", [
    (["history", "{db}", "-o", "{d}/nodir/h.csv"], "folder {d}/nodir does not exist"),
    (["history", "{db}", "-o", "{d}/h.txt"], "name the file with .csv"),
    (["report", "{db}", "-o", "{d}/nodir/r.html"], "folder {d}/nodir does not exist"),
    (["report", "{db}", "-o", "{d}/r.pdf"], "name the file with .html"),
    (["benchmark", "--problem", "branin", "-o", "{d}/nodir/r.csv"],
     "folder {d}/nodir does not exist"),
    (["benchmark", "--problem", "branin", "--plot", "{d}/nodir/c.png"],
     "folder {d}/nodir does not exist"),
    (["benchmark", "--problem", "branin", "--plot", "{d}/c.txt"], "name the file with .png"),
])
def test_every_output_option_is_checked_first(lab, capsys, monkeypatch, args, message):
    import importlib

    from designloop.campaign.campaign import Campaign

    simulate = importlib.import_module("designloop.bench.simulate")

    def never(*a, **k):
        raise AssertionError("the work started before the output was checked")

    monkeypatch.setattr(Campaign, "report", never)
    monkeypatch.setattr(Campaign, "history", never)
    monkeypatch.setattr(simulate, "simulate", never)
    d, db = lab
    code, out, err = run([a.format(d=d, db=db) for a in args], capsys, monkeypatch)
    assert code == 2 and err.startswith("error: ") and message.format(d=d) in err, err
    assert err.count("\n") == 1 and out == ""


# ---------------------------------------------------------------- spreadsheet formulas
FORMULA = '=HYPERLINK("http://example.com/x","open")'


def test_neutralise_quotes_formula_text_and_only_that():
    from designloop.io import neutralise, unneutralise

    cases = {FORMULA: "'" + FORMULA, "+NaCl": "'+NaCl", "@base": "'@base", "\tx": "'\tx",
             "\rx": "'\rx", "-OTf": "'-OTf", "-5": "-5", "-2.5e-3": "-2.5e-3", "-.5": "-.5",
             "-": "-", "KOH": "KOH", "a=b": "a=b", "": ""}
    for text, safe in cases.items():
        assert neutralise(text) == safe and unneutralise(safe) == text
    assert neutralise(-3.0) == -3.0 and unneutralise("'KOH") == "'KOH"


def test_formula_cells_are_neutralised_in_every_csv_and_still_observed(tmp_path, capsys,
                                                                        monkeypatch):
    import designloop as dl

    reagents = [FORMULA, "+NaCl", "@base", "-OTf", "KOH", "NaOH"]
    pd.DataFrame({"reagent": reagents, "=temp": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]}).to_csv(
        tmp_path / "c.csv", index=False)
    db, picks = tmp_path / "lab.db", tmp_path / "next.csv"
    code, _, err = run(["init", db, "-c", tmp_path / "c.csv", "-t", "yield"], capsys,
                       monkeypatch)
    assert code == 0, err
    code, _, err = run(["suggest", db, "-n", "6", "-o", picks], capsys, monkeypatch)
    assert code == 0, err
    text = picks.read_text()
    assert text.splitlines()[0] == "candidate_id,cycle,rank,score,reagent,'=temp,yield"
    for cell in ["'+NaCl", "'@base", "'-OTf", ",KOH,", "\"'=HYPERLINK(\"\"http"]:
        assert cell in text
    assert "\n=" not in text and ",=" not in text and ",+" not in text and ",@" not in text
    # the scientist fills in the results and sends the file back: matched by candidate_id
    table = pd.read_csv(picks)
    table["yield"] = table["candidate_id"] * 10.0
    table.to_csv(picks, index=False)
    code, out, err = run(["observe", db, picks], capsys, monkeypatch)
    assert code == 0 and "Recorded 6 result(s)" in out, err
    # ... and by the feature values, once the quotes are taken off
    table.drop(columns=["candidate_id"]).to_csv(tmp_path / "by_features.csv", index=False)
    # (the same values again: true replicates must be said to be so)
    code, out, err = run(["observe", db, tmp_path / "by_features.csv", "--replicates"], capsys,
                         monkeypatch)
    assert code == 0 and "Recorded 6 result(s)" in out, err
    c = dl.Campaign.open(db)
    obs = c.observations()
    assert len(obs) == 12 and (obs["yield"] == obs["candidate_id"] * 10.0).all()
    assert sorted(obs["reagent"].unique()) == sorted(reagents)
    # history and export quote the same cells
    code, out, _ = run(["history", db, "--csv"], capsys, monkeypatch)
    assert code == 0 and "'+NaCl" in out and "'=temp" in out
    run(["history", db, "-o", tmp_path / "h.csv"], capsys, monkeypatch)
    c.export(tmp_path / "export.csv")
    for name in ("h.csv", "export.csv"):
        back = pd.read_csv(tmp_path / name)
        assert set(back["reagent"]) == {"'" + FORMULA, "'+NaCl", "'@base", "'-OTf", "KOH",
                                        "NaOH"}


# ---------------------------------------------------------------- output a chemist can act on
def yields(table):
    return 100 - (table["temperature"] - 75) ** 2 / 10 + 5 * (table["solvent"] == "dmf")


def test_intervals_are_na_until_enough_results_then_numbers(lab, capsys, monkeypatch):
    from designloop.campaign.pick_info import INTERVAL_MIN_RESULTS

    assert INTERVAL_MIN_RESULTS == 9
    d, db = lab
    table = pd.read_csv(d / "candidates.csv")
    measured = table.iloc[:3].assign(**{"yield": yields(table.iloc[:3])})
    measured.to_csv(d / "r.csv", index=False)
    code, out, err = run(["observe", db, d / "r.csv"], capsys, monkeypatch)
    assert code == 0 and "Recorded 3 result(s)" in out, err
    code, out, err = run(["suggest", db, "-n", "2", "-o", d / "next.csv"], capsys, monkeypatch)
    assert code == 0, err
    assert out.count("n/a (needs 9 results)") == 2 and "inf" not in out
    lines = (d / "next.csv").read_text().splitlines()
    header = lines[0].split(",")
    for line in lines[1:]:
        row = dict(zip(header, line.split(","), strict=True))
        assert row["interval_lo"] == row["interval_hi"] == ""
    picks = pd.read_csv(d / "next.csv")
    assert picks[["interval_lo", "interval_hi"]].isna().all().all()
    # nine results in: numbers
    run(["release", db], capsys, monkeypatch)
    more = table.iloc[3:9].assign(**{"yield": yields(table.iloc[3:9])})
    more.to_csv(d / "r2.csv", index=False)
    code, out, err = run(["observe", db, d / "r2.csv"], capsys, monkeypatch)
    assert code == 0 and "Recorded 6 result(s)" in out, err
    code, out, _ = run(["suggest", db, "-n", "2", "-o", d / "next.csv"], capsys, monkeypatch)
    picks = pd.read_csv(d / "next.csv")
    assert code == 0 and "n/a" not in out and out.count(" to ") >= 2
    assert np.isfinite(picks[["interval_lo", "interval_hi"]].to_numpy()).all()
    assert (picks.interval_lo < picks.predicted_mean).all()


def test_jackknife_plus_is_finite_from_nine_results():
    import torch

    from designloop.trust.conformal import jackknife_plus, min_results, ranks

    assert [min_results(level) for level in (0.5, 0.8, 0.9, 0.95)] == [1, 4, 9, 19]
    assert ranks(9, 0.9) == (1, 9) and ranks(19, 0.9) == (2, 18)
    means = torch.zeros(9, 3, dtype=torch.float64)
    residuals = torch.arange(1.0, 10.0, dtype=torch.float64)
    lo, hi = jackknife_plus(means, residuals, 0.9)
    assert lo.tolist() == [-9.0] * 3 and hi.tolist() == [9.0] * 3
    lo, hi = jackknife_plus(means[:8], residuals[:8], 0.9)
    assert torch.isinf(lo).all() and torch.isinf(hi).all()


@pytest.mark.parametrize("goal", ["maximize", "minimize"])
def test_p_improve_is_the_probability_of_beating_the_incumbent(goal):
    from scipy.stats import norm

    import designloop as dl

    x = np.linspace(0, 1, 40)
    c = dl.Campaign(pd.DataFrame({"x": x}), target="y", goal=goal, seed=0)
    c.observe(pd.DataFrame({"candidate_id": range(0, 40, 4), "y": np.sin(6 * x[::4])}))
    picks = c.suggest(3)
    info = c.store.cycles()["record"].iloc[-1]
    stored = c.store.suggestions()["prediction"].tolist()
    sign = 1 if goal == "maximize" else -1
    expected = [norm.cdf(sign * (p["mean"] - info.best_f) / p["epistemic_sd"])
                for p in stored]
    np.testing.assert_allclose(picks["p_improve"], expected, rtol=1e-9)
    assert picks["p_improve"].between(0, 1).all()
    explore = dl.Campaign(pd.DataFrame({"x": x}), target="y", seed=0)
    explore.observe(pd.DataFrame({"candidate_id": range(0, 40, 4), "y": np.sin(6 * x[::4])}))
    assert "p_improve" not in explore.suggest(2).columns


def test_suggestions_at_80_columns_show_the_experiment_first(lab, capsys, monkeypatch):
    d, db = lab
    table = pd.read_csv(d / "candidates.csv")
    measured = table.iloc[[0, 4, 8]].assign(**{"yield": yields(table.iloc[[0, 4, 8]])})
    measured.to_csv(d / "r.csv", index=False)
    code, out, err = run(["observe", db, d / "r.csv"], capsys, monkeypatch)
    assert code == 0 and "Recorded 3 result(s)" in out, err
    code, out, err = run(["suggest", db, "-n", "3", "-o", d / "next.csv"], capsys,
                         monkeypatch, columns=80)
    assert code == 0, err
    picks = pd.read_csv(d / "next.csv")
    assert "p_improve" in picks and picks["p_improve"].between(0, 1).all()
    lines = out.splitlines()
    assert max(map(len, lines)) <= 80
    header = next(line for line in lines if "candidate_id" in line)
    cells = [c.strip() for c in header.strip("┃ ").split("┃")]
    assert cells[:4] == ["candidate_id", "temperature", "solvent", "rank"]
    assert "p_improve" in cells
    rows = [[c.strip() for c in line.strip("│ ").split("│")] for line in lines
            if line.startswith("│")]
    for row, pick in zip(rows, picks.itertuples(), strict=True):
        assert row[:4] == [str(pick.candidate_id), f"{pick.temperature:.4g}", pick.solvent,
                           str(pick.rank)]
        assert row[4] == f"{pick.p_improve:.0%}" or row[4] in ("<1%", ">99%")
    assert "too narrow to show" in " ".join(out.split())


# ---------------------------------------------------------------- benchmark settings
@pytest.mark.parametrize("args, message", [
    (["--metric", "nope"], "--metric nope is not reported for branin"),
    (["--metric", "accuracy"], "choose one of best_so_far"),
    (["--seeds", "0"], "seeds (--seeds) must be a whole number >= 1, got 0"),
    (["--budget", "-3"], "budget (--budget) must be a whole number >= 1"),
    (["--batch-size", "0"], "batch_size (--batch-size) must be"),
    (["--n-initial", "0"], "n_initial (--n-initial) must be"),
    (["--n-jobs", "0"], "n_jobs (--n-jobs) must be"),
    (["--n-candidates", "0"], "n_candidates (--n-candidates) must be"),
    (["--noise", "-1"], "noise_std (--noise) must be a finite number >= 0"),
    (["--noise", "nan"], "noise_std (--noise) must be a finite number >= 0"),
])
def test_benchmark_settings_are_checked_before_any_run(tmp_path, capsys, monkeypatch, args,
                                                       message):
    import importlib

    simulate = importlib.import_module("designloop.bench.simulate")

    def never(*a, **k):
        raise AssertionError("a campaign ran before the settings were checked")

    monkeypatch.setattr(simulate, "run_campaign", never)
    code, out, err = run(["benchmark", "--problem", "branin", "--n-candidates", "50",
                          "--seeds", "1", "--budget", "3", "-o", tmp_path / "b.csv", *args],
                         capsys, monkeypatch)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert message in err and not (tmp_path / "b.csv").exists()


def test_benchmark_model_metric_of_an_optimisation_problem_is_scored(tmp_path, capsys,
                                                                     monkeypatch):
    code, out, err = run(["benchmark", "--problem", "branin", "--n-candidates", "50",
                          "--strategies", "random", "--seeds", "2", "--budget", "4",
                          "--metric", "rmse", "-o", tmp_path / "b.csv"], capsys, monkeypatch)
    assert code == 0, err
    assert "rmse after 4" in out and pd.read_csv(tmp_path / "b.csv")["rmse"].notna().all()


def test_summaries_of_a_missing_metric_name_what_the_results_hold():
    from designloop.bench.summary import plot_curves, summarize
    from designloop.errors import InputError

    results = pd.DataFrame({"strategy": ["a", "a"], "seed": [0, 0], "n_observed": [1, 2],
                            "best_so_far": [1.0, 2.0], "rmse": [np.nan, np.nan]})
    for summary in (summarize, plot_curves):
        with pytest.raises(InputError, match="no metric 'rmse'; they hold best_so_far"):
            summary(results, "rmse")


def test_lookup_errors_name_the_file(tmp_path, capsys, monkeypatch):
    table = pd.DataFrame({"candidate_id": [0, 1, 2, 3], "x": [1.0, 2.0, 3.0, 4.0],
                          "y": [1.0, 2.0, 3.0, 4.0]})
    table.to_csv(tmp_path / "lookup [1].csv", index=False)
    for target, message in (("y", "the column name 'candidate_id' is reserved"),
                            ("z", "has no column 'z'")):
        code, _, err = run(["benchmark", "--lookup", tmp_path / "lookup [1].csv", "--target",
                            target, "--seeds", "1", "--budget", "2"], capsys, monkeypatch)
        assert code == 2 and err.count("\n") == 1, err
        assert f"lookup file {tmp_path / 'lookup [1].csv'}" in err and message in err


# ---------------------------------------------------------------- release
@pytest.mark.parametrize("ids", ["", ",", " "])
def test_release_with_empty_ids_releases_nothing(lab, capsys, monkeypatch, ids):
    d, db = lab
    code, _, err = run(["suggest", db, "-n", "2"], capsys, monkeypatch)
    assert code == 0, err
    before = dump(db)
    code, out, err = run(["release", db, "--ids", ids], capsys, monkeypatch)
    assert code == 2 and err.startswith("error: --ids needs at least one candidate id"), err
    assert err.count("\n") == 1 and out == "" and dump(db) == before


# ---------------------------------------------------------------- a feature given as target
def test_a_target_filled_in_on_every_row_is_refused(lab, capsys, monkeypatch):
    d, _ = lab
    db = d / "new.db"
    for args in (["init", db, "-c", d / "candidates.csv", "-t", "temperature"],
                 ["suggest", "--candidates", d / "candidates.csv", "--target", "temperature"]):
        code, out, err = run(args, capsys, monkeypatch)
        assert code == 2 and err.count("\n") == 1 and out == "", err
        assert err.startswith(f"error: {d / 'candidates.csv'}: the target column 'temperature' "
                              "is filled in on every row (12 candidates)")
        assert not db.exists()
    table = pd.read_csv(d / "candidates.csv").assign(y=[1.0] + [None] * 11)
    table.to_csv(d / "partly.csv", index=False)
    code, out, err = run(["init", db, "-c", d / "partly.csv", "-t", "y"], capsys, monkeypatch)
    assert code == 0 and "1 already measured" in out, err


# ---------------------------------------------------------------- TRUE and FALSE are not numbers
@pytest.mark.parametrize("text, message", [
    ("candidate_id,yield\nTRUE,0.5\n", "line 2: candidate_id True is not a candidate"),
    ("candidate_id,yield\n3,TRUE\n4,FALSE\n",
     "column 'yield' must hold numbers for a regression target; line(s) [2, 3] hold "
     "[True, False]"),
])
def test_true_and_false_are_neither_ids_nor_numbers(lab, capsys, monkeypatch, text, message):
    d, db = lab
    (d / "r.csv").write_text(text)
    before = dump(db)
    code, out, err = run(["observe", db, d / "r.csv"], capsys, monkeypatch)
    assert code == 2 and err.count("\n") == 1 and message in err, err
    assert dump(db) == before


def test_true_and_false_labels_of_a_classification_are_kept():
    import designloop as dl

    campaign = dl.Campaign(pd.DataFrame({"x": [1.0, 2.0, 3.0]}), target="ok",
                           task="classification")
    assert campaign.observe(pd.DataFrame({"candidate_id": [0, 1], "ok": [True, False]})) == 2
    assert campaign.observations()["ok"].tolist() == ["True", "False"]


# ---------------------------------------------------------------- files that are not UTF-8 CSV
@pytest.mark.parametrize("content, message", [
    (b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)), "is an Excel workbook, not a CSV file"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64), "is an Excel workbook"),
    ("temperature,yield\n60,1\n".encode("utf-16"), "is UTF-16 text"),
    (b"temperature,yield\n60,1\x00\n", "is binary data, not a CSV table"),
    ("temperature,solvent,yield\n60,thf,1\n70,café,2\n".encode("latin-1"),
     "is not UTF-8 text (line 3 holds the byte 0xe9"),
])
def test_files_that_are_not_utf8_csv_say_what_they_are(lab, capsys, monkeypatch, content,
                                                       message):
    d, db = lab
    (d / "r.csv").write_bytes(content)
    before = dump(db)
    code, out, err = run(["observe", db, d / "r.csv"], capsys, monkeypatch)
    assert code == 2 and err.count("\n") == 1 and out == "", err
    assert err.startswith(f"error: results file {d / 'r.csv'} {message}")
    assert "save it as CSV UTF-8" in err and dump(db) == before


def test_acquisition_errors_quote_the_name_as_given(lab, capsys, monkeypatch):
    d, _ = lab
    for extra, message in ((["--acquisition", "ei"],
                            "acquisition 'ei' (log_expected_improvement) optimises; set goal"),
                           (["--acquisition", "LC"],
                            "acquisition 'LC' (least_confidence) is for classification")):
        code, _, err = run(["init", d / "new.db", "-c", d / "candidates.csv", "-t", "y",
                            *extra], capsys, monkeypatch)
        assert code == 2 and err.count("\n") == 1 and message in err, err
        assert not (d / "new.db").exists()
