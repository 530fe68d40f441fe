"""The first hour of a scientist with the command line: their own text printed as written,
outputs checked before anything is logged, plain numbers to act on, CSV files that are safe
to open in a spreadsheet, and read-only commands that start quickly."""

import sqlite3
import sys

import pandas as pd
import pytest

from designloop.cli import main


def run(args, capsys, monkeypatch, columns=200):
    monkeypatch.setattr(sys, "argv", ["designloop", *map(str, args)])
    monkeypatch.setenv("COLUMNS", str(columns))
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code or 0
    captured = capsys.readouterr()
    return code, captured.out, captured.err


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
    from designloop import molecules
    from designloop.errors import InputError

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
            "import designloop.simulate; assert callable(dl.simulate); "
            "assert dl.Campaign.__name__ == 'Campaign' and 'GPRegressor' in dir(dl); "
            "print(sorted(set(dl.__all__) - set(dir(dl))))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_acquisition_meanings_open_their_docstrings():
    from designloop import acquisition, acquisition_names

    assert list(acquisition.ACQUISITIONS) == list(acquisition_names.MEANINGS)
    for name, fn in acquisition.ACQUISITIONS.items():
        first = (fn.__doc__ or "").strip().split("\n\n")[0]
        assert " ".join(line.strip() for line in first.splitlines()).rstrip(".") == \
            acquisition_names.MEANINGS[name]
        assert acquisition.describe(name.replace("_", "-")) == acquisition_names.MEANINGS[name]
