"""pyproject.toml declares every package designloop imports: the core dependencies for imports
at module level, the core or an extra for imports made inside a function."""

import ast
import functools
import importlib.metadata
import re
import sys
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parent.parent
# import name -> distribution, for packages that may not be installed where the tests run
KNOWN = {"sklearn": "scikit-learn", "rdkit": "rdkit", "dask": "dask", "pyarrow": "pyarrow",
         "linear_operator": "linear-operator"}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    return _canonical(re.split(r"[\s<>=!~;\[(]", requirement.strip(), maxsplit=1)[0])


def _declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = {_requirement_name(r) for r in project["dependencies"]}
    extras = {_requirement_name(r) for reqs in project.get("optional-dependencies", {}).values()
              for r in reqs}
    return core, extras


def _imports():
    """(top-level module name, file, line, at module level) of every absolute import."""
    found = []
    for path in sorted((ROOT / "designloop").rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        module_level = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.append((name.split(".")[0], path.relative_to(ROOT), node.lineno,
                              id(node) in module_level))
    return found


@functools.cache
def _installed() -> dict:
    return importlib.metadata.packages_distributions()


def _distribution(module: str) -> str:
    installed = _installed().get(module)
    return _canonical(installed[0] if installed else KNOWN.get(module, module))


def test_every_third_party_import_is_declared():
    core, extras = _declared()
    third_party = [(m, f, line, top) for m, f, line, top in _imports()
                   if m not in sys.stdlib_module_names and m not in ("designloop", "__future__")]
    assert {m for m, *_ in third_party} >= {"torch", "numpy", "botorch", "linear_operator"}
    undeclared = [f"{f}:{line} imports {m} ({_distribution(m)})"
                  for m, f, line, top in third_party
                  if _distribution(m) not in (core if top else core | extras)]
    assert not undeclared, "not in pyproject.toml's dependencies: " + "; ".join(undeclared)


def test_no_private_names_of_other_packages():
    private = [f"{f}:{line}" for path in sorted((ROOT / "designloop").rglob("*.py"))
               for node in ast.walk(ast.parse(path.read_text()))
               if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
               and not node.module.startswith("designloop")
               and any(a.name.startswith("_") for a in node.names)
               for f, line in [(path.relative_to(ROOT), node.lineno)]]
    assert not private, f"private names imported from other packages at {private}"
