"""The console package's hard limits: small modules, short functions, no import cycles, and transport errors
mapped in one place (bot/console/http.py) rather than caught in each backend."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "bot" / "console"
MODULES = sorted(PACKAGE.rglob("*.py"))
MAX_LINES = 400
MAX_FUNCTION_LINES = 60


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parents[1]).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_modules_are_small_and_functions_short(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES
    long = [f"{node.name} ({node.end_lineno - node.lineno + 1} lines)" for node in ast.walk(_tree(path))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert long == []


def _imports(path: Path, names: set[str]) -> set[str]:
    """The bot.console modules `path` imports (a `from package import module` counts as the module)."""
    found = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found & names


def test_no_import_cycles():
    names = {_name(path) for path in MODULES}
    graph = {_name(path): _imports(path, names) - {_name(path)} for path in MODULES}
    done: set[str] = set()

    def visit(module: str, trail: tuple[str, ...]) -> None:
        assert module not in trail, " -> ".join((*trail, module))
        if module in done:
            return
        for imported in graph[module]:
            visit(imported, (*trail, module))
        done.add(module)

    for module in graph:
        visit(module, ())


@pytest.mark.parametrize("path", [path for path in MODULES if path.name != "http.py"], ids=_name)
def test_backends_leave_transport_errors_to_the_http_policy(path):
    caught = [ast.unparse(handler.type) for handler in ast.walk(_tree(path))
              if isinstance(handler, ast.ExceptHandler) and handler.type is not None
              and "httpx" in ast.unparse(handler.type)]
    assert caught == []
