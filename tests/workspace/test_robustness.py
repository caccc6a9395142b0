"""Whatever the file holds, loading ends in a spec or in located one-line problems."""

from __future__ import annotations

import os
import random
import re
from pathlib import Path

import pytest

from shipdeck.errors import WorkspaceError
from shipdeck.workspace import load_workspace
from shipdeck.workspace.locate import scan_key_lines
from tests.workspace.conftest import Problems, WriteWorkspace
from tests.workspace.test_load import FULL

LOCATED = re.compile(r"shipdeck\.toml:(\d+): \S")


def _load_or_problems(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    try:
        load_workspace(path)
    except WorkspaceError as error:
        assert error.problems
        for problem in error.problems:
            match = LOCATED.match(problem)
            assert match, problem
            assert 1 <= int(match.group(1)) <= max(1, text.count("\n") + 1), problem
            assert "\n" not in problem


def test_every_truncation_of_a_valid_file(write_workspace: WriteWorkspace) -> None:
    path = write_workspace("")
    for end in range(0, len(FULL), 3):
        _load_or_problems(path, FULL[:end])


def test_random_edits_of_a_valid_file(write_workspace: WriteWorkspace) -> None:
    path = write_workspace("")
    rng = random.Random(1234)
    alphabet = "[]{}=,.\"'#\n abc0123_-"
    for _ in range(400):
        chars = list(FULL)
        for _ in range(rng.randint(1, 4)):
            position = rng.randrange(len(chars))
            action = rng.choice(("replace", "insert", "delete"))
            if action == "replace":
                chars[position] = rng.choice(alphabet)
            elif action == "insert":
                chars.insert(position, rng.choice(alphabet))
            else:
                del chars[position]
        _load_or_problems(path, "".join(chars))


def test_deep_nesting_is_a_problem_not_a_crash(problems: Problems) -> None:
    found = problems("x = " + "[" * 20000 + "]" * 20000 + "\n")
    assert found == ["shipdeck.toml:1: invalid TOML: values nested too deeply"]
    scan_key_lines("x = " + "[" * 20000)


def test_a_task_with_a_bad_table_is_still_a_known_need(problems: Problems) -> None:
    assert problems(
        """
        [pipelines.a.tasks]
        build = "make"
        test = { run = "make test", needs = ["build"] }
        """
    ) == ["shipdeck.toml:2: pipelines.a.tasks.build: must be a table, got string 'make'"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlinked_file_keeps_the_directory_it_is_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "shipdeck.toml").write_text('[pipelines.a.tasks.x]\nrun = "true"\n', "utf-8")
    project = tmp_path / "project"
    project.mkdir()
    (project / "shipdeck.toml").symlink_to(shared / "shipdeck.toml")
    monkeypatch.chdir(tmp_path)
    workspace = load_workspace(project)
    assert workspace.root == project.resolve()
    assert workspace.file == project.resolve() / "shipdeck.toml"
