"""Finding and loading shipdeck.toml: every problem in the file is reported at once."""

from __future__ import annotations

import codecs
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shipdeck.errors import WorkspaceError
from shipdeck.model import WorkspaceSpec
from shipdeck.workspace.locate import redefinition_at
from shipdeck.workspace.metric_names import known_metric_names
from shipdeck.workspace.monitors import monitors_section, notify_section
from shipdeck.workspace.pipelines import load_pipelines
from shipdeck.workspace.problems import Problems, dotted
from shipdeck.workspace.services import metrics_section, services_section
from shipdeck.workspace.settings import retention_section, task_env_section
from shipdeck.workspace.triggers import check_alert_references

WORKSPACE_FILE = "shipdeck.toml"


@dataclass
class SectionContext:
    """What a section loader gets besides its raw value."""

    problems: Problems
    root: Path
    loaded: dict[str, Any] = field(default_factory=dict)
    """WorkspaceSpec fields from the sections loaded before, e.g. loaded["pipelines"]."""


SectionLoader = Callable[[object, SectionContext], dict[str, Any]]
"""Validates a section's raw value and returns WorkspaceSpec fields; reports problems, no raise."""


def _pipelines_section(raw: object, context: SectionContext) -> dict[str, Any]:
    return {"pipelines": load_pipelines(raw, context.problems)}


def _metrics_section(raw: object, context: SectionContext) -> dict[str, Any]:
    return metrics_section(known_metric_names(raw, context.problems), context)


SECTIONS: dict[str, SectionLoader] = {
    "pipelines": _pipelines_section,
    # Loaded in this order, so a later section can check its references against context.loaded.
    "metrics": _metrics_section,
    "services": services_section,
    "task_env": task_env_section,
    "retention": retention_section,
    "monitors": monitors_section,
    "notify": notify_section,
}


def find_workspace(start: Path) -> Path:
    """The shipdeck.toml in `start` or its nearest parent directory that has one."""
    here = start.resolve()
    if here.is_file():
        here = here.parent
    for directory in (here, *here.parents):
        candidate = directory / WORKSPACE_FILE
        if candidate.is_file():
            return candidate
    raise WorkspaceError(
        [
            f"no {WORKSPACE_FILE} found in {start} or any parent directory"
            " (use -C DIR or `shipdeck demo init DIR`)"
        ]
    )


def workspace_place(file: Path) -> WorkspaceSpec:
    """Where the workspace of `file` (its shipdeck.toml) lives, without reading the file: its
    root, file and state directory, and nothing declared. Enough to reach, query or stop its
    runner daemon while the file does not load; never a workspace to run anything in."""
    # The directory the user sees, even when shipdeck.toml itself is a symlink to elsewhere.
    root = file.absolute().parent.resolve()
    return WorkspaceSpec(root=root, file=root / file.name)


def load_workspace(path: Path) -> WorkspaceSpec:
    """The workspace in `path` (a directory or its shipdeck.toml).

    Raises WorkspaceError listing every problem in the file, one line each.
    """
    file = path / WORKSPACE_FILE if path.is_dir() else path
    label = _label(file)
    text = _read(file, label)
    problems = Problems(label, text)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise WorkspaceError([_toml_problem(label, text, error)]) from None
    except RecursionError:
        raise WorkspaceError([f"{label}:1: invalid TOML: values nested too deeply"]) from None
    except ValueError:  # tomllib lets int() refuse a number of more than 4,300 digits
        line = _line_of_match(text, _HUGE_NUMBER)
        raise WorkspaceError(
            [f"{label}:{line}: invalid TOML: a number with more than 4,300 digits"]
        ) from None
    place = workspace_place(file)
    context = SectionContext(problems, place.root)
    problems.check_keys(document, (), SECTIONS)
    for name, loader in SECTIONS.items():
        if name in document:
            context.loaded.update(loader(document[name], context))
    check_alert_references(
        context.loaded.get("pipelines", {}), context.loaded.get("monitors", {}), problems
    )
    if problems:
        raise WorkspaceError(problems.lines_in_order())
    return WorkspaceSpec(root=place.root, file=place.file, **context.loaded)


def _label(file: Path) -> str:
    """The file as the user knows it: relative to the current directory when inside it."""
    try:
        return str(file.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(file)


def _read(file: Path, label: str) -> str:
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise WorkspaceError([f"{label}: no such file"]) from None
    except OSError as error:
        raise WorkspaceError([f"{label}: cannot read: {error.strerror or error}"]) from None
    if data.startswith(codecs.BOM_UTF8):
        # tomllib would say "invalid statement" at line 1, column 1: an invisible character.
        raise WorkspaceError(
            [
                f"{label}:1: invalid TOML: the file starts with a UTF-8 byte order mark (BOM);"
                " save it as UTF-8 without BOM"
            ]
        )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        utf16 = f"{label}:1: invalid TOML: the file is UTF-16 text; save it as UTF-8"
        raise WorkspaceError([utf16])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise WorkspaceError(
            [f"{label}:{line}: invalid TOML: not UTF-8 text (byte {data[error.start]:#04x})"]
        ) from None


_HUGE_NUMBER = re.compile(r"[0-9][0-9_]{4300}")


def _line_of_match(text: str, pattern: re.Pattern[str]) -> int:
    match = pattern.search(text)
    return 1 if match is None else text.count("\n", 0, match.start()) + 1


_POSITION = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)$")
_DUPLICATE_HINTS = ("twice", "overwrite", "duplicate", "mutate", "redefine")


def _toml_problem(label: str, text: str, error: tomllib.TOMLDecodeError) -> str:
    """tomllib's message as a `file:line:` problem; a redefinition names its key and first line."""
    message = str(error)
    match = _POSITION.search(message)
    if match is None:
        return f"{label}:1: invalid TOML: {message}"
    reason = message[: match.start()]
    if match.group(1) is None:
        line = max(1, text.count("\n") + (0 if text.endswith("\n") else 1))
        where = "at end of file"
    else:
        line = int(match.group(1))
        where = f"at column {match.group(2)}"
    if any(hint in reason.lower() for hint in _DUPLICATE_HINTS):
        redefined = redefinition_at(text, line)
        if redefined is not None:
            path, first = redefined
            earlier = f"first defined on line {first}" if first < line else "twice on this line"
            return f"{label}:{line}: {dotted(path)}: duplicate key ({earlier})"
        return f"{label}:{line}: invalid TOML: duplicate key: {_lower_first(reason)} ({where})"
    return f"{label}:{line}: invalid TOML: {_lower_first(reason)} ({where})"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
