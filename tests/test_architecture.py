"""The shape of the package: short modules and functions, packages that import only what
docs/architecture.md allows, and a short path from `Campaign.suggest` to the log."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "designloop"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60  # statements and comments; the docstring does not count

# what each package may import from the others (docs/architecture.md); the core modules
# (errors, names, registry, records, prediction, io, threads) may be imported by all
CORE = {"errors", "names", "registry", "records", "prediction", "io", "threads"}
ALLOWED = {
    "acquisition": set(),
    "surrogates": set(),
    "features": set(),
    "trust": {"surrogates"},
    "batch": {"acquisition", "surrogates"},
    "campaign": {"acquisition", "surrogates", "features", "trust", "batch"},
    "bench": {"campaign", "trust", "surrogates", "features", "batch", "acquisition"},
    "cli": {"campaign", "bench"},
}


def modules():
    return sorted(p for p in PACKAGE.rglob("*.py"))


def function_lines(node) -> int:
    lines = node.end_lineno - node.lineno + 1
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant) \
            and isinstance(first.value.value, str):
        lines -= first.end_lineno - first.lineno + 1
    return lines


def test_no_module_is_long():
    long = {str(p.relative_to(PACKAGE)): n for p in modules()
            if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


def test_no_function_is_long():
    long = {}
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if (n := function_lines(node)) > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(PACKAGE)}:{node.name}"] = n
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


def imported_packages(path: Path) -> set[str]:
    """The designloop packages and core modules `path` imports (at any depth)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "designloop" and len(parts) > 1:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_packages_import_only_what_the_architecture_allows(package):
    allowed = ALLOWED[package] | CORE | {package}
    wrong = {}
    for path in (PACKAGE / package).rglob("*.py"):
        extra = imported_packages(path) - allowed
        if extra:
            wrong[str(path.relative_to(PACKAGE))] = sorted(extra)
    assert not wrong, f"{package} imports outside docs/architecture.md: {wrong}"


def test_core_modules_import_no_package():
    for name in CORE:
        assert imported_packages(PACKAGE / f"{name}.py") <= CORE, name


def test_suggest_reaches_the_log_in_few_hops():
    """Campaign.suggest -> _suggest -> modelling.pick / store.record_cycle: the path a new
    reader follows is written in two files."""
    source = (PACKAGE / "campaign" / "campaign.py").read_text()
    tree = ast.parse(source)
    methods = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    calls = {ast.unparse(c.func) for c in ast.walk(methods["_suggest"])
             if isinstance(c, ast.Call)}
    assert "self._suggest" in {ast.unparse(c.func) for c in ast.walk(methods["suggest"])
                               if isinstance(c, ast.Call)}
    assert {"self.store.record_cycle", "modelling.pick"} <= calls
