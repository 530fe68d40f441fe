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
