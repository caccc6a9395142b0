"""The `[pipelines]` section: pipelines, their params and tasks, turned into PipelineSpecs."""

from __future__ import annotations

import functools
import math
import posixpath
import re
from collections.abc import Mapping
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from shipdeck.model import ParamValue, PipelineSpec, RegisterSpec, TaskSpec
from shipdeck.workspace.artifact_paths import artifact_problem
from shipdeck.workspace.automation import alias_problem
from shipdeck.workspace.fields import Fields, as_table, named_tables
from shipdeck.workspace.locate import KeyPath
from shipdeck.workspace.params import PARAM_NAME
from shipdeck.workspace.problems import Problems, describe, dotted, quoted
from shipdeck.workspace.triggers import TRIGGER_KEYS, check_trigger_references, parse_triggers
from shipdeck.workspace.validate import check_needs

PIPELINE_KEYS = ("description", "params", "concurrency", "tasks", *TRIGGER_KEYS)
TASK_KEYS = (
    "run",
    "env",
    "cwd",
    "timeout",
    "retries",
    "retry_delay",
    "needs",
    "registers",
    "inputs",
)
REGISTER_KEYS = ("model", "artifact", "alias")
MAX_CONCURRENCY = 10_000
"""Far beyond what runs at once on one host; leave `concurrency` out for no limit."""
MAX_RETRIES = 10
"""Each retry runs the whole command again; a task that fails more often is broken, not flaky,
and without a bound a typo (`retries = 10000`) keeps a failing task spinning for hours."""
MAX_TIMEOUT = 7 * 86400.0
MAX_RETRY_DELAY = 86400.0
MAX_INPUTS = 1000
"""Paths or globs one task may declare; each glob may name many files (engine/runs/inputs.py)."""

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
"""Pipeline and task names: they appear in commands, URLs and file names."""
NAME_RULE = "must start with a letter or digit and use only letters, digits, '-' and '_'"
MAX_NAME = 100
"""Characters in a pipeline or task name: a task's log file is named after it, and file names
stop at 255 bytes."""
_LONGEST_INT = 2**63
"""Integer params are stored as SQLite integers: 64 bits, signed."""


def load_pipelines(raw: object, problems: Problems) -> dict[str, PipelineSpec]:
    """Every pipeline in the section, in file order; problems are reported, not raised."""
    check_pipeline_name = functools.partial(_check_name, "pipeline", problems)
    pipelines = {
        name: _pipeline(name, fields)
        for name, fields in named_tables(raw, ("pipelines",), problems, check_pipeline_name)
    }
    check_trigger_references(pipelines, problems)
    return pipelines


def _pipeline(name: str, fields: Fields) -> PipelineSpec:
    fields.check_keys(PIPELINE_KEYS)
    table, path, problems = fields.table, fields.path, fields.problems
    tasks_path = (*path, "tasks")
    tasks_table = as_table(table["tasks"], tasks_path, problems) if "tasks" in table else {}
    check_task_name = functools.partial(_check_name, "task", problems)
    tasks = {
        task_name: _task(task_name, task_fields)
        for task_name, task_fields in named_tables(
            tasks_table or {}, tasks_path, problems, check_task_name
        )
    }
    if tasks_table is not None and not tasks_table:
        problems.add(path, f"pipeline has no tasks (add [{dotted((*path, 'tasks', 'NAME'))}])")
    # Tasks with an invalid table still count as declared, so nothing reports them as unknown.
    declared = {name: tasks[name].needs if name in tasks else () for name in tasks_table or {}}
    needs = check_needs(path, declared, problems)
    return PipelineSpec(
        name=name,
        description=fields.string("description"),
        params=_params(table.get("params", {}), (*path, "params"), problems),
        concurrency=_concurrency(table, path, problems),
        tasks={n: task.model_copy(update={"needs": needs[n]}) for n, task in tasks.items()},
        triggers=parse_triggers(table, path, problems),
    )


def registered_models(pipelines: Mapping[str, PipelineSpec]) -> set[str]:
    """The models the tasks of `pipelines` register."""
    return {
        task.registers.model
        for spec in pipelines.values()
        for task in spec.tasks.values()
        if task.registers is not None
    }


def _check_name(kind: str, problems: Problems, name: str, path: KeyPath) -> None:
    if not NAME.fullmatch(name):
        problems.add(path, f"{kind} name {NAME_RULE}")
    elif len(name) > MAX_NAME:
        problems.add(path, f"{kind} name must be at most {MAX_NAME} characters, got {len(name):,}")


def _concurrency(table: Mapping[str, Any], path: KeyPath, problems: Problems) -> int | None:
    if "concurrency" not in table:
        return None
    value = table["concurrency"]
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CONCURRENCY:
        problems.add(
            (*path, "concurrency"),
            f"must be an integer from 1 to {MAX_CONCURRENCY}, got {describe(value)}",
        )
        return None
    return value


def _params(raw: object, path: KeyPath, problems: Problems) -> dict[str, ParamValue]:
    table = as_table(raw, path, problems)
    params: dict[str, ParamValue] = {}
    for key, value in (table or {}).items():
        where = (*path, key)
        if not PARAM_NAME.fullmatch(key):
            problems.add(
                where, "param names use letters, digits and '_' and do not start with a digit"
            )
        elif not isinstance(value, str | int | float):
            problems.add(
                where, f"must be a string, integer, float or boolean, got {describe(value)}"
            )
        elif isinstance(value, float) and not math.isfinite(value):
            problems.add(where, f"must be a finite number, got {describe(value)}")
        elif isinstance(value, int) and not -_LONGEST_INT <= value < _LONGEST_INT:
            problems.add(where, f"must fit in 64 bits, got {describe(value)}")
        elif isinstance(value, str) and "\0" in value:
            problems.add(where, "must not contain a NUL character (\\0)")
        elif (twin := _same_but_case(key, params)) is not None:
            problems.add(
                where,
                f"same name as param {twin!r} apart from case"
                f" (tasks get both as $SHIPDECK_PARAM_{key.upper()})",
            )
        else:
            params[key] = value
    return params


def _same_but_case(key: str, params: dict[str, ParamValue]) -> str | None:
    return next((name for name in params if name.upper() == key.upper()), None)


def _task(name: str, fields: Fields) -> TaskSpec:
    fields.check_keys(TASK_KEYS)
    return TaskSpec(
        name=name,
        run=fields.string("run", required=True),
        needs=tuple(fields.string_list("needs")),
        env=fields.env_table("env"),
        cwd=check_cwd(fields),
        timeout=fields.duration("timeout", allow_zero=False, maximum=MAX_TIMEOUT),
        retries=fields.count(
            "retries", maximum=MAX_RETRIES, why=" (each retry runs the whole command again)"
        ),
        retry_delay=fields.duration("retry_delay", allow_zero=True, maximum=MAX_RETRY_DELAY) or 0.0,
        registers=_registers(fields.table, fields.at("registers"), fields.problems),
        inputs=_inputs(fields),
    )


def check_cwd(fields: Fields) -> str | None:
    """The table's `cwd`: relative and inside the workspace (None when absent or reported)."""
    cwd = fields.optional_string("cwd")
    if cwd is None:
        return None
    if PurePosixPath(cwd).is_absolute() or PureWindowsPath(cwd).is_absolute():
        fields.problems.add(
            fields.at("cwd"), f"must be relative to the workspace root, got {quoted(cwd)}"
        )
        return None
    # Checked on the text: the directory may not exist yet (an earlier task may create it).
    # A symlink inside the workspace is followed as the system follows it.
    normal = posixpath.normpath(cwd)
    if normal == ".." or normal.startswith("../"):
        fields.problems.add(
            fields.at("cwd"), f"must stay inside the workspace root, got {quoted(cwd)}"
        )
        return None
    return cwd


def _inputs(fields: Fields) -> tuple[str, ...]:
    """Workspace-relative files or globs, each once; checked on the text (the files may not
    exist yet: an earlier task may write them). Their digests are taken when the task starts."""
    where = fields.at("inputs")
    fields.string_list("inputs")  # reports a value that is not an array of strings
    raw = fields.table.get("inputs")
    if not isinstance(raw, list):
        return ()
    if len(raw) > MAX_INPUTS:
        fields.problems.add(where, f"must list at most {MAX_INPUTS} paths or globs")
        return ()
    kept: dict[str, None] = {}
    for index, item in enumerate(raw):
        if not isinstance(item, str):
            continue
        problem = _input_problem(item)
        if problem is None and posixpath.normpath(item) in kept:
            problem = f"lists {quoted(item)} twice"
        if problem is not None:
            fields.problems.add(where, problem, line_of=(*where, str(index)))
        else:
            kept[posixpath.normpath(item)] = None
    return tuple(kept)


def _input_problem(item: str) -> str | None:
    if not item.strip():
        return "must not contain an empty path"
    if "\0" in item:
        return "must not contain a NUL character (\\0)"
    if PurePosixPath(item).is_absolute() or PureWindowsPath(item).is_absolute():
        return f"{quoted(item)} must be relative to the workspace root"
    if ".." in PurePosixPath(item).parts:
        return f"{quoted(item)} must stay inside the workspace root (no '..')"
    if item.endswith("/"):
        return f"{quoted(item)} is a directory: declare the files in it, like {quoted(item + '**')}"
    return None


def _registers(table: Mapping[str, Any], path: KeyPath, problems: Problems) -> RegisterSpec | None:
    if "registers" not in table:
        return None
    registers = as_table(table["registers"], path, problems)
    if registers is None:
        return None
    problems.check_keys(registers, path, REGISTER_KEYS)
    fields = Fields(registers, path, problems)
    model = fields.string("model", required=True)
    artifact = fields.string("artifact", required=True)
    problem = artifact_problem(artifact) if artifact else None
    if problem is not None:
        problems.add(fields.at("artifact"), problem)
    alias = fields.optional_string("alias")
    if alias is not None and (problem := alias_problem(alias)) is not None:
        problems.add(fields.at("alias"), problem)
        alias = None
    return RegisterSpec(model=model, artifact=artifact, alias=alias)
