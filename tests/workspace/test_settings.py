"""Artifact paths, `[task_env]` and `[retention]`: what loads, and the exact problem lines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from shipdeck.model import RetentionSpec, TaskEnvSpec
from shipdeck.workspace import load_workspace
from tests.workspace.conftest import Problems, WriteWorkspace

F = "shipdeck.toml"

ARTIFACTS = """
[pipelines.p.tasks.up]
run = "true"
registers = {{ model = "m", artifact = "{registers}" }}

[services.api]
pipeline = "p"
artifact = "{service}"
environments = ["dev"]
deploy = "true"
"""


def test_artifact_paths_must_stay_inside_the_workspace(problems: Problems) -> None:
    cases = [
        ("../../etc/shadow", "must stay inside the workspace ('..' is not allowed)"),
        ("/etc/shadow", "must be relative to the workspace root"),
        ("out/../../x", "must stay inside the workspace ('..' is not allowed)"),
        (".shipdeck/shipdeck.db", "must not be inside .shipdeck/ (shipdeck's own state)"),
        ("./", "must name a file"),
        ("dist/", "must name a file"),
    ]
    for bad, message in cases:
        assert problems(ARTIFACTS.format(registers=bad, service=bad)) == [
            f"{F}:3: pipelines.p.tasks.up.registers.artifact: {message}, got {bad!r}",
            f"{F}:7: services.api.artifact: {message}, got {bad!r}",
        ], bad


def test_artifact_paths_inside_the_workspace_load(write_workspace: WriteWorkspace) -> None:
    path = write_workspace(ARTIFACTS.format(registers="./out/model.json", service="dist/a.tgz"))
    spec = load_workspace(path)
    registers = spec.pipelines["p"].tasks["up"].registers
    assert registers is not None and registers.artifact == "./out/model.json"
    assert spec.services["api"].artifact == "dist/a.tgz"


def test_validate_reports_a_bad_artifact_and_exits_2(write_workspace: WriteWorkspace) -> None:
    path = write_workspace(ARTIFACTS.format(registers="../secret", service="dist/a.tgz"))
    result = subprocess.run(
        [sys.executable, "-m", "shipdeck", "-C", str(path.parent), "validate"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=path.parent,
    )
    assert result.returncode == 2
    assert result.stderr == (
        f"{F}:3: pipelines.p.tasks.up.registers.artifact: must stay inside the workspace"
        " ('..' is not allowed), got '../secret'\n"
    )
    assert not (Path(path.parent) / ".shipdeck").exists()


def test_task_env_and_retention_load(write_workspace: WriteWorkspace) -> None:
    path = write_workspace(
        """
        [task_env]
        pass = ["AWS_*", "CUDA_VISIBLE_DEVICES"]
        secret = ["VAULT_TOKEN", "*_PASSWORD"]

        [retention]
        keep = 20
        older_than = "30d"
        every = "10m"
        """
    )
    spec = load_workspace(path)
    assert spec.task_env == TaskEnvSpec(
        passthrough=("AWS_*", "CUDA_VISIBLE_DEVICES"), secret=("VAULT_TOKEN", "*_PASSWORD")
    )
    assert spec.retention == RetentionSpec(keep=20, older_than=30 * 86400.0, every=600.0)


def test_without_the_sections_tasks_inherit_all_and_nothing_is_deleted(
    write_workspace: WriteWorkspace,
) -> None:
    spec = load_workspace(write_workspace('[pipelines.p.tasks.a]\nrun = "true"\n'))
    assert spec.task_env == TaskEnvSpec(passthrough=None, secret=())
    assert spec.retention is None
    keep_only = load_workspace(write_workspace("[retention]\nkeep = 5\n")).retention
    assert keep_only == RetentionSpec(keep=5, older_than=None, every=3600.0)


def test_task_env_problems(problems: Problems) -> None:
    assert problems(
        """
        [task_env]
        pass = ["PATH", "9LIVES", "SHIPDECK_TOKEN", "A-B"]
        secret = "VAULT_TOKEN"
        secert = []
        """
    ) == [
        f"{F}:2: task_env.pass: bad pattern '9LIVES': use a variable name, '*' matching any"
        " characters (like 'AWS_*')",
        f"{F}:2: task_env.pass: 'SHIPDECK_TOKEN': SHIPDECK_* variables are shipdeck's own"
        " settings and credentials, never passed to tasks",
        f"{F}:2: task_env.pass: bad pattern 'A-B': use a variable name, '*' matching any"
        " characters (like 'AWS_*')",
        f"{F}:3: task_env.secret: must be an array of strings, got string 'VAULT_TOKEN'",
        f"{F}:4: task_env.secert: unknown key 'secert' (did you mean 'secret'?)",
    ]


def test_retention_problems(problems: Problems) -> None:
    assert problems(
        """
        [retention]
        keep = -1
        older_than = "a month"
        every = "0.5s"
        """
    ) == [
        f"{F}:2: retention.keep: must be a number of runs (0 or more), got integer -1",
        f"{F}:3: retention.older_than: bad duration 'a month': expected a number of seconds or"
        " a duration like '500ms', '30s', '10m', '1h30m'",
        f"{F}:4: retention.every: must be at least 1s, got '0.5s'",
    ]
    assert problems("[retention]\nevery = '1h'\n") == [
        f"{F}:1: retention: say which runs to keep: 'keep' (the newest N of each pipeline)"
        " and/or 'older_than' (a duration like '30d')"
    ]
