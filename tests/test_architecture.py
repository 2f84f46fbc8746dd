"""Who imports whom: the domain stays plain, the service stays away from Slack, HTTP and SQL,
handlers never reach the database or the console, production code never reaches the simulators and the
benchmarks never reach the tests."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(*relative: str) -> list[Path]:
    paths = []
    for item in relative:
        target = ROOT / item
        paths += sorted(target.rglob("*.py")) if target.is_dir() else [target]
    return paths


def _top(name: str) -> str:
    return name.split(".")[0]


@pytest.mark.parametrize("path", _modules("bot/domain"), ids=lambda p: str(p.relative_to(ROOT)))
def test_domain_uses_only_the_standard_library_and_itself(path):
    for name in _imports(path):
        assert _top(name) in sys.stdlib_module_names or name.startswith(("bot.domain", "bot.errors")), name


FORBIDDEN_IN_SERVICE = {"slack_bolt", "slack_sdk", "httpx", "sqlalchemy", "sqlmodel", "storage", "handlers",
                        "starlette", "uvicorn", "prometheus_client"}


@pytest.mark.parametrize("path", _modules("bot/service.py", "bot/executor.py", "bot/access.py", "bot/ports.py"),
                         ids=lambda p: p.name)
def test_service_layer_imports_no_adapter(path):
    assert not {_top(name) for name in _imports(path)} & FORBIDDEN_IN_SERVICE


@pytest.mark.parametrize("path", _modules("handlers"), ids=lambda p: p.name)
def test_handlers_never_touch_storage_or_the_console(path):
    for name in _imports(path):
        assert _top(name) not in {"storage", "sqlalchemy", "sqlmodel", "httpx"}, name
        assert not name.startswith("bot.console"), name


def test_only_the_settings_module_reads_the_environment():
    readers = [path.relative_to(ROOT) for path in _modules("bot", "handlers", "storage")
               if "os.environ" in path.read_text(encoding="utf-8") or "getenv" in path.read_text(encoding="utf-8")]
    assert readers == []


def test_slack_ids_are_never_typed_twice():
    from bot.slack.ids import ActionId, CallbackId

    for path in _modules("bot", "handlers"):
        if path.name == "ids.py":
            continue
        text = path.read_text(encoding="utf-8")
        for value in [*ActionId, *CallbackId]:
            assert f'"{value.value}"' not in text, f"{path.relative_to(ROOT)} spells out {value.value}"


@pytest.mark.parametrize("path", _modules("bench"), ids=lambda p: p.name)
def test_benchmarks_never_import_the_tests(path):
    assert not any(_top(name) == "tests" for name in _imports(path)), "bench/ imports from bot.simulators, not tests/"


def _production_modules() -> list[Path]:
    outside = (ROOT / "bot" / "simulators", ROOT / "bot" / "shell")
    return [path for path in _modules("bot", "handlers", "storage") if not path.is_relative_to(outside[0])
            and not path.is_relative_to(outside[1])]


@pytest.mark.parametrize("path", _production_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_production_code_never_imports_the_simulators(path):
    """Only the shell, the simulators themselves, the tests and the benchmarks use bot.simulators."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = _imports(path) | {f"{node.module}.{alias.name}" for node in ast.walk(tree)
                              if isinstance(node, ast.ImportFrom) and node.module for alias in node.names}
    for name in names:
        assert name != "bot.simulators" and not name.startswith("bot.simulators."), name
