"""The layers of docs/architecture.md, checked on every import in src/ (lazy ones included).

Imports only point down: model <- workspace <- engine <- runners <- (tui | server) <- cli. The
TUI and the server are siblings that reach pipelines only through the Runner contract; nothing
below the TUI imports textual, nothing outside the server imports its web framework, and the
adapters for other engines (runners/mlflow, runners/prefect) never touch the embedded engine.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "shipdeck"
EVERYWHERE = {
    "errors",
    "startup",
    "__init__",
    "__version__",
    "logtext",
    "formatting",
    "background",
}
"""Leaf modules any layer may use: the error classes, start-up GC control, the version, what
a line of task output shows (logtext: the same rule for the engine's search, the TUI and
`shipdeck logs`), how durations, ages, sizes and numbers read (formatting), and how a
background asyncio task is stopped (background)."""

ALLOWED: dict[str, set[str]] = {
    "model": {"model"},
    "workspace": {"workspace", "model"},
    "engine": {"engine", "workspace", "model", "config", "paths", "state_dir"},
    "monitoring": {"monitoring", "model"},
    "paths": set(),
    "logtext": set(),
    "formatting": set(),
    "state_dir": set(),
    "config": {"paths", "workspace"},
    "runners": {"runners", "engine", "workspace", "model", "config", "paths", "state_dir"},
    "server": {"server", "runners", "model", "config", "paths"},
    "tui": {"tui", "runners", "model", "config", "paths"},
    "demo": {"demo", "runners", "model"},
    "testing": {"testing", "runners", "model"},
}
"""For each top-level part of the package, the parts it may import (cli may import any)."""

FOREIGN_ONLY_IN = {
    "textual": {"tui"},
    "textual_plotext": {"tui"},
    "fastapi": {"server"},
    "uvicorn": {"server", "cli"},
    "starlette": {"server"},
}
"""Third-party packages that belong to one layer (the CLI starts the server's uvicorn)."""

ENGINE_PARTS: dict[str, set[str]] = {
    "runs": set(),
    "deploy": {"runs"},
    "automation": {"runs", "deploy"},
}
"""The engine's subpackages and the others each may import. The run engine knows nothing of
deployments or automation, deployments nothing of automation; all use the shared modules at
engine/ top (database, events, declared), which import none of them. `shipdeck.engine` itself
re-exports the run engine (Engine, ...), so importing it counts as importing runs."""

TUI_FOLDERS_NEVER_IMPORT: dict[str, set[str]] = {
    "view_data": {"views", "dialogs", "screens", "log", "widgets", "app", "current", "textual"},
    "log": {"views", "dialogs", "screens", "view_data", "app"},
    "widgets": {"views", "dialogs", "screens", "view_data", "log", "app"},
    "dialogs": {"views", "screens", "app"},
    "views": {"app"},
    "screens": {"app"},
}
"""Inside the TUI: what each folder may not import. View data is plain data read from the
runners (no textual, no widgets); the log and the widgets know no view; a dialog knows no view
or screen underneath it (it gets what it asks about); and none of them reaches into the app
(they use its cockpit, `current.cockpit_of`). `textual` stands for the framework."""

ADAPTERS = ("runners/mlflow", "runners/prefect")
"""Runner kinds for other engines: they speak HTTP to their engine, never use ours."""


def modules() -> list[Path]:
    return sorted(path for path in SRC.rglob("*.py") if "demo/files" not in path.as_posix())


def imported(path: Path) -> list[tuple[int, str]]:
    """Every module `path` imports, absolute, with its line (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ["shipdeck", *path.relative_to(SRC).parent.parts]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            if name == "shipdeck":
                found += [(node.lineno, f"shipdeck.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, name))
    return found


def part_of(path: Path) -> str:
    first = path.relative_to(SRC).parts[0]
    return first.removesuffix(".py")


def tui_folder(path: Path) -> str | None:
    parts = path.relative_to(SRC).parts
    return parts[1] if len(parts) > 2 and parts[0] == "tui" else None


def tui_target(name: str) -> str | None:
    """`views` for shipdeck.tui.views.x, `app` for shipdeck.tui.app, `textual` for textual.x."""
    parts = name.split(".")
    if parts[0] == "textual":
        return "textual"
    return parts[2] if parts[:2] == ["shipdeck", "tui"] and len(parts) > 2 else None


def violations() -> list[str]:
    problems: list[str] = []
    for path in modules():
        part = part_of(path)
        where = path.relative_to(SRC.parent).as_posix()
        adapter = any(where.startswith(f"shipdeck/{a}/") for a in ADAPTERS)
        for line, name in imported(path):
            top, _, rest = name.partition(".")
            if top == "shipdeck":
                target = rest.partition(".")[0] or "__init__"
                allowed = ALLOWED.get(part)
                if allowed is not None and target not in allowed | EVERYWHERE | {part}:
                    problems.append(f"{where}:{line}: {part} imports shipdeck.{rest}")
                if adapter and target == "engine":
                    problems.append(f"{where}:{line}: an adapter imports shipdeck.{rest}")
            elif top in FOREIGN_ONLY_IN and part not in FOREIGN_ONLY_IN[top]:
                problems.append(f"{where}:{line}: {part} imports {name}")
            folder = tui_folder(path)
            if folder is not None and tui_target(name) in TUI_FOLDERS_NEVER_IMPORT.get(folder, ()):
                problems.append(f"{where}:{line}: tui/{folder} imports {name}")
    return problems


def test_imports_only_point_down() -> None:
    assert violations() == []


def engine_violations() -> list[str]:
    problems: list[str] = []
    for path in modules():
        parts = path.relative_to(SRC).parts
        if parts[0] != "engine" or parts[1:] == ("__init__.py",):
            continue
        part = parts[1] if len(parts) > 2 else None  # None: a shared module at engine/ top
        allowed = ENGINE_PARTS[part] if part is not None else set()
        where = path.relative_to(SRC.parent).as_posix()
        for line, name in imported(path):
            pieces = name.split(".")
            if pieces[:2] != ["shipdeck", "engine"]:
                continue
            target = pieces[2] if len(pieces) > 2 else "runs"
            if target in ENGINE_PARTS and target != part and target not in allowed:
                problems.append(f"{where}:{line}: engine/{part or ''} imports {name}")
    return problems


def test_engine_parts_import_only_what_they_build_on() -> None:
    assert engine_violations() == []


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        ("runs/bad.py", "from shipdeck.engine.deploy import registry\n", "deploy"),
        ("deploy/bad.py", "def f():\n    from ..automation import scheduler\n", "automation"),
        ("events.py", "from shipdeck.engine import Engine\n", "shipdeck.engine"),
    ],
)
def test_the_engine_check_sees_a_violation(
    path: str, source: str, expected: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = tmp_path / "shipdeck" / "engine"
    for part in ENGINE_PARTS:
        (fake / part).mkdir(parents=True)
    (fake / path).write_text(source)
    monkeypatch.setattr(__import__(__name__, fromlist=["SRC"]), "SRC", fake.parent)
    found = engine_violations()
    assert len(found) == 1 and found[0].endswith(expected), found


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from shipdeck.tui.app import ShipdeckApp\n", "engine imports shipdeck.tui.app"),
        ("import textual.widgets\n", "engine imports textual.widgets"),
        ("def f():\n    from ..runners import local\n", "engine imports shipdeck.runners"),
        ("from shipdeck.testing.frozen import BASE\n", "tui imports shipdeck.testing.frozen"),
        ("import textual.widgets\n", "tui/view_data imports textual.widgets"),
        ("from ..views import overview\n", "tui/view_data imports shipdeck.tui.views"),
        ("from shipdeck.tui.dialogs import confirm\n", "tui/log imports shipdeck.tui.dialogs"),
        ("from shipdeck.tui.app import ShipdeckApp\n", "tui/views imports shipdeck.tui.app"),
    ],
)
def test_the_check_sees_a_violation(
    source: str, expected: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The rule is not vacuous: a module written against it, lazy imports included, is caught."""
    where = expected.split(" imports ")[0]
    fake = tmp_path / "shipdeck"
    (fake / where).mkdir(parents=True)
    (fake / where / "bad.py").write_text(source)
    monkeypatch.setattr(__import__(__name__, fromlist=["SRC"]), "SRC", fake)
    found = violations()
    assert len(found) == 1 and found[0].endswith(expected), found


CONTRACT_GUESSES = (
    "DeployRunner",
    "ScheduleRunner",
    "MonitorRunner",
    "HealthRunner",
    "Runner",
    "LocalRunner",
    "RemoteRunner",
)
"""Classes a front end might test a runner against instead of asking its capabilities."""
FRONT_ENDS = ("tui", "server", "cli", "demo")


def guesses(tree: ast.AST) -> list[str]:
    """`isinstance(x, <a runner class>)` and `getattr(x, "read_only")` in a module."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            continue
        if node.func.id == "isinstance" and len(node.args) == 2:
            kinds = node.args[1]
            names = kinds.elts if isinstance(kinds, ast.Tuple) else [kinds]
            for name in names:
                if isinstance(name, ast.Name) and name.id in CONTRACT_GUESSES:
                    found.append(f"line {node.lineno}: isinstance(..., {name.id})")
        if node.func.id == "getattr" and len(node.args) >= 2:
            attr = node.args[1]
            if isinstance(attr, ast.Constant) and attr.value == "read_only":
                found.append(f"line {node.lineno}: getattr(..., 'read_only')")
    return found


def test_front_ends_ask_capabilities_instead_of_guessing() -> None:
    """The TUI, the server and the CLI ask `capabilities()`; a runner's class says nothing
    about what it can do (an adapter subclasses BaseRunner)."""
    problems = [
        f"{path.relative_to(SRC)} {problem}"
        for area in FRONT_ENDS
        for path in sorted((SRC / area).rglob("*.py"))
        for problem in guesses(ast.parse(path.read_text()))
    ]
    assert problems == []


def test_the_guess_check_sees_one() -> None:
    source = "if isinstance(r, DeployRunner) or getattr(r, 'read_only', False): pass"
    assert len(guesses(ast.parse(source))) == 2
