"""The documentation builds strictly, its generated getting-started page can be regenerated,
and every example runs to its computed conclusion (a failing example fails CI)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ["materials_campaign", "molecule_campaign", "classification_study",
            "hartmann6_study"]


def _run(args, cwd, env=None, timeout=600):
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "MPLBACKEND": "Agg", **(env or {})}, check=False)


@pytest.mark.slow
def test_docs_build_strictly(tmp_path):
    proc = _run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path)],
                ROOT, env={"NO_MKDOCS_2_WARNING": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    api = (tmp_path / "api" / "index.html").read_text()
    assert "greedy_conditional" in api and "Campaign" in api
    assert (tmp_path / "concepts" / "index.html").exists()


@pytest.mark.slow
def test_getting_started_page_regenerates(tmp_path):
    out = tmp_path / "getting-started.md"
    proc = _run([sys.executable, "docs/getting_started.py", "--out", str(out)], ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text()
    assert text.count("$ designloop suggest lab.db -n 4") == 3
    assert text.count("Recorded 4 result(s)") == 3
    assert "Suggestions, cycle 3" in text


@pytest.mark.slow
@pytest.mark.parametrize("name", EXAMPLES)
def test_example_runs_to_its_conclusion(name, tmp_path):
    proc = _run([sys.executable, f"{name}.py"], ROOT / "examples",
                env={"DESIGNLOOP_EXAMPLE_OUTPUT": str(tmp_path), "DESIGNLOOP_SMOKE_TEST": "1"},
                timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / f"{name}.png").stat().st_size > 10_000
    assert proc.stdout.strip(), "the example prints its conclusion"


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_notebook_is_paired_with_its_script(name):
    import jupytext

    script = jupytext.read(ROOT / "examples" / f"{name}.py")
    notebook = jupytext.read(ROOT / "examples" / f"{name}.ipynb")
    assert [(c.cell_type, c.source) for c in script.cells] == [
        (c.cell_type, c.source) for c in notebook.cells], (
        f"examples/{name}.ipynb is out of date: run jupytext --sync examples/{name}.py")


# how-to pages whose Python blocks form one program on the bundled data
RUNNABLE_PAGES = ["howto/targets-and-failures.md", "howto/own-model.md", "howto/predict.md"]


def _check_targets_page(out: str) -> None:
    import re

    # the walk-through's own figures: a front and its hypervolume, failures counted
    assert re.search(r"\d+ couplings on the front, hypervolume [0-9.]+", out)
    failed, measured = map(int, re.search(r"(\d+) of (\d+) failed", out).groups())
    assert measured == 18 and 0 < failed < measured
    assert "'p_success_of_picks'" in out


def _check_own_model_page(out: str) -> None:
    import re

    assert "custom:GradientBoostingRegressor" in out and "custom:cautious" in out
    best, top = map(float, re.search(r"best of 18: ([0-9.]+) of ([0-9.]+)", out).groups())
    assert 0 < best <= top


def _check_predict_page(out: str) -> None:
    import re

    share = int(re.search(r"the 90% intervals hold (\d+)% of the measured strengths", out)[1])
    assert share >= 75  # conformal intervals cover, held-out steels included


@pytest.mark.slow
@pytest.mark.parametrize("page", RUNNABLE_PAGES)
def test_howto_page_runs_as_written(page, tmp_path):
    import re

    text = (ROOT / "docs" / page).read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 2
    script = tmp_path / "page.py"
    script.write_text("\n".join(blocks))
    proc = _run([sys.executable, str(script)], tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    {"howto/targets-and-failures.md": _check_targets_page,
     "howto/own-model.md": _check_own_model_page,
     "howto/predict.md": _check_predict_page}[page](proc.stdout)
