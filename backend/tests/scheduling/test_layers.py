"""``app.scheduling`` and ``app.resilience`` meet only in the orchestration packages."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
ORCHESTRATION = ("fallbacks", "crisis")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_scheduling_never_imports_resilience() -> None:
    for path in (APP / "scheduling").rglob("*.py"):
        assert not any(n.startswith("app.resilience") for n in _imports(path)), path


def test_resilience_imports_scheduling_only_from_orchestration_packages() -> None:
    for path in (APP / "resilience").rglob("*.py"):
        part = path.relative_to(APP / "resilience").parts[0]
        if part not in ORCHESTRATION and part != "tasks.py":
            assert not any(n.startswith("app.scheduling") for n in _imports(path)), path
