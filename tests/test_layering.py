"""The package is layered: the experiment pipelines in spikegraph.tasks build on the library,
never the other way round."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "spikegraph"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_library_module_imports_the_experiment_layer():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.relative_to(PACKAGE).parts[0] == "tasks":
            continue
        bad = [m for m in imported_modules(path) if m.startswith("spikegraph.tasks")]
        offenders += [f"{path.relative_to(PACKAGE.parent)} imports {m}" for m in bad]
    assert not offenders, "\n".join(offenders)
