"""The house's rules, read from the code: who imports whom (layers, no cycles), the domain stays plain, the
service stays away from Slack, HTTP and SQL and says no sentence, handlers never reach the database or the
console, production code never reaches the simulators and the benchmarks never reach the tests, one way into
execution, and rooms a person can read (module and function sizes)."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "storage")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _modules(*relative: str) -> list[Path]:
    paths = []
    for item in relative:
        target = ROOT / item
        paths += sorted(target.rglob("*.py")) if target.is_dir() else [target]
    return [path for path in paths if "migrations" not in path.parts]


def _name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def _imports(path: Path, *, runtime_only: bool = False) -> set[str]:
    """Modules the file imports (absolute names); with runtime_only, not those under `if TYPE_CHECKING:`."""
    tree = _tree(path)
    skipped = set()
    if runtime_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skipped |= {id(child) for child in ast.walk(node)}
    names = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def _top(name: str) -> str:
    return name.split(".")[0]


def _ids(path: Path) -> str:
    return str(path.relative_to(ROOT))


# -- who imports whom -------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", _modules("bot/domain"), ids=_ids)
def test_domain_uses_only_the_standard_library_and_itself(path):
    for name in _imports(path):
        assert _top(name) in sys.stdlib_module_names or name.startswith(("bot.domain", "bot.errors")), name


FORBIDDEN_IN_SERVICE = ("slack_bolt", "slack_sdk", "httpx", "sqlalchemy", "sqlmodel", "storage", "handlers",
                        "starlette", "uvicorn", "prometheus_client", "bot.slack", "bot.console", "bot.shell",
                        "bot.simulators", "bot.container", "bot.server")


@pytest.mark.parametrize("path", _modules("bot/service", "bot/ports.py", "bot/leases.py"), ids=_ids)
def test_service_layer_imports_no_adapter(path):
    assert not [name for name in _imports(path) if name.startswith(FORBIDDEN_IN_SERVICE)]


@pytest.mark.parametrize("path", _modules("handlers"), ids=_ids)
def test_handlers_never_touch_storage_or_the_console(path):
    for name in _imports(path):
        assert _top(name) not in {"storage", "sqlalchemy", "sqlmodel", "httpx"}, name
        assert not name.startswith("bot.console"), name


# Each module's floor; a module may import only from its floor or below. Most specific prefix wins.
FLOORS = {
    "bot.errors": 0, "bot.ambient": 0, "bot.clock": 0, "bot.domain": 1, "bot.logs": 1, "bot.concurrency": 1,
    "bot.policy": 2, "bot.ports": 2, "bot.settings": 2, "bot.leases": 3, "bot.service": 4,
    "bot.console": 5, "bot.slack": 5, "bot.metrics": 5, "bot.jobs": 5, "storage": 5,
    "handlers": 6, "bot.sweeper": 6, "bot.server": 7, "bot.socket_mode": 7, "bot.container": 8, "bot.checks": 9,
    "bot.simulators": 9, "bot.shell": 10, "bot.cli": 11, "bot.__main__": 12, "bot": 12,
}


def _floor(name: str) -> int | None:
    best = max((prefix for prefix in FLOORS if name == prefix or name.startswith(prefix + ".")), key=len,
               default=None)
    return FLOORS[best] if best else None


def _project_imports(path: Path) -> set[str]:
    """The project's modules a file imports at run time (a bare package name is its empty __init__)."""
    return {name for name in _imports(path, runtime_only=True)
            if _top(name) in PACKAGES and name not in PACKAGES and _floor(name) is not None}


@pytest.mark.parametrize("path", _modules(*PACKAGES), ids=_ids)
def test_no_import_runs_upward(path):
    mine = _floor(_name(path))
    upward = [name for name in _project_imports(path) if _floor(name) > mine]
    assert not upward, f"{_name(path)} (floor {mine}) imports from above: {upward}"


def test_no_import_cycle():
    modules = {_name(path): path for path in _modules(*PACKAGES)}
    graph = {name: {target for target in _project_imports(path) if target in modules and target != name}
             for name, path in modules.items()}
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                pytest.fail("import cycle: " + " -> ".join([*trail[trail.index(target):], target]))
            if target not in state:
                visit(target, [*trail, target])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


def test_only_the_settings_module_reads_the_environment():
    readers = [path.relative_to(ROOT) for path in _modules(*PACKAGES)
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


# -- rooms a person can read ------------------------------------------------------------------------------

@pytest.mark.parametrize("path", _modules(*PACKAGES), ids=_ids)
def test_no_module_is_too_long_to_read(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{lines} lines"


@pytest.mark.parametrize("path", _modules(*PACKAGES), ids=_ids)
def test_no_function_is_too_long_to_read(path):
    long = [f"{node.name} ({node.end_lineno - node.lineno + 1} lines)" for node in ast.walk(_tree(path))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long


# -- the service and the domain speak in events and codes, never in sentences ----------------------------

SLACK_MARKUP = re.compile(r"<[@#!]|&(lt|gt|amp);|`|(?<![\w*])\*[^*\s][^*]*\*(?![\w*])|(?<!\w)_[^_\s][^_]*_(?!\w)"
                          r"|:[a-z0-9_+-]+:")
WORD = re.compile(r"^[^A-Za-z]*[A-Za-z]{2,}[a-z'\u2019,;:.!?]*$")  # a word of prose, not an identifier or a code
INTERNAL_ERRORS = {"ValueError", "TypeError", "RuntimeError", "AssertionError", "KeyError", "NotImplementedError",
                   "InvalidTransition", "LeaseLost"}


def _said_to_no_one(tree: ast.Module) -> set[int]:
    """The string nodes that never reach people: docstrings, log lines, internal errors' messages."""
    skipped: set[int] = set()
    internal_errors = INTERNAL_ERRORS | {node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef)
                                         and any(ast.unparse(base) in INTERNAL_ERRORS | {"Exception"}
                                                 for base in node.bases)}
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            skipped.add(id(body[0].value))  # a docstring
        if isinstance(node, ast.Call):
            callee = ast.unparse(node.func)
            internal = callee.split(".")[-1] in internal_errors or callee == "super().__init__"
            if internal or callee.startswith(("log.", "logger.", "logging.")):
                skipped |= {id(child) for child in ast.walk(node)}
        if isinstance(node, ast.ClassDef) and node.name in internal_errors:
            skipped |= {id(child) for child in ast.walk(node)}  # an internal error's own message
    return skipped


def sentences_and_markup(path: Path) -> list[str]:
    """The string literals of a module that carry Slack markup or read as a sentence to a person."""
    tree = _tree(path)
    skipped = _said_to_no_one(tree)
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.JoinedStr):
            text = "".join(part.value if isinstance(part, ast.Constant) else "{}" for part in node.values)
            skipped |= {id(part) for part in node.values}
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        else:
            continue
        words = [token for token in text.split() if WORD.match(token)]
        sentence = len(words) >= 3 or (len(words) >= 2 and text.rstrip().endswith((".", "!", "?")))
        if SLACK_MARKUP.search(text) or sentence:
            found.append(f"line {node.lineno}: {text!r}")
    return found


@pytest.mark.parametrize("path", _modules("bot/domain", "bot/service"), ids=_ids)
def test_the_domain_and_the_service_say_no_sentence_and_write_no_markup(path):
    assert sentences_and_markup(path) == []


def test_the_sentence_detector_sees_what_it_must(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('"""A docstring may say anything, with `markup`."""\n'
                      'import logging\nlog = logging.getLogger(__name__)\n'
                      'def answer(request):\n'
                      '    """So may this one."""\n'
                      '    log.info("a log line is for whoever runs the bot: %s", request)\n'
                      '    code = "approval_message_not_posted"\n'
                      '    text = f"Your request {request} was cancelled."\n'
                      '    who = f"<@{request}>"\n'
                      '    bold = "*Done*"\n'
                      '    raise ValueError("an internal error may explain itself to a developer")\n', encoding="utf-8")
    found = sentences_and_markup(sample)
    assert [line.split(":")[0] for line in found] == ["line 8", "line 9", "line 10"], found


# -- one way into execution ----------------------------------------------------------------------------

def test_only_the_gate_admits_a_request_into_execution():
    """Only bot/service/gate.py makes the Admission the domain's `begin` verb demands, and only it calls `begin`."""
    makers = {_ids(path) for path in _modules(*PACKAGES) if re.search(r"\bAdmission\(\w", path.read_text())}
    beginners = {_ids(path) for path in _modules(*PACKAGES) if re.search(r"(?<!def )\bbegin\(", path.read_text())}
    assert makers == {"bot/service/gate.py"}
    assert beginners == {"bot/service/gate.py"}
