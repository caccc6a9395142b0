"""A run records the workspace's git state when it starts: commit, branch, dirty, changes.

Real repositories (git init in tmp_path), real commits and edits, real engine runs.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shipdeck.engine import Engine
from shipdeck.engine.runs.code_version import capture_code
from shipdeck.model import RunStatus
from shipdeck.model.lineage import CodeVersion
from tests.engine.conftest import Engines, task, workspace
from tests.git_repo import GitRepo


async def recorded_code(engine: Engine) -> CodeVersion | None:
    run = await engine.wait_run(engine.start_run("p", {}).id)
    assert run.status == RunStatus.SUCCEEDED
    return engine.run_detail(run.id).lineage.code


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo.init(tmp_path / "ws")
    (repo.root / "train.py").write_text("print('v1')\n")
    repo.commit("first")
    return repo


async def test_a_clean_tree_records_commit_short_and_branch(
    repo: GitRepo, engines: Engines
) -> None:
    engine = engines.open(workspace(repo.root, task("a", "true")))
    code = await recorded_code(engine)
    assert code is not None
    assert code.commit == repo.head() and len(code.commit) == 40
    assert code.short == repo.short()
    assert code.branch == "main"
    assert code.dirty is False and code.changed_files == 0 and code.changes_sha256 is None
    assert code.label == repo.short()


async def test_edits_and_untracked_files_make_it_dirty_and_are_counted(
    repo: GitRepo, engines: Engines
) -> None:
    (repo.root / "train.py").write_text("print('v2')\n")
    (repo.root / "notes.txt").write_text("untracked\n")
    engine = engines.open(workspace(repo.root, task("a", "true")))
    code = await recorded_code(engine)
    assert code is not None and code.commit == repo.head()
    assert code.dirty is True and code.changed_files == 2
    assert code.changes_sha256 is not None and len(code.changes_sha256) == 64
    assert code.label == f"{repo.short()} (dirty)"


async def test_the_changes_digest_tells_dirty_trees_apart_and_same_edits_alike(
    repo: GitRepo, engines: Engines
) -> None:
    engine = engines.open(workspace(repo.root, task("a", "true")))
    (repo.root / "train.py").write_text("print('v2')\n")
    first = await recorded_code(engine)
    again = await recorded_code(engine)
    (repo.root / "train.py").write_text("print('v3')\n")
    other = await recorded_code(engine)
    (repo.root / "train.py").write_text("print('v2')\n")
    (repo.root / "extra.py").write_text("")
    untracked = await recorded_code(engine)
    assert first is not None and again is not None and other is not None
    assert untracked is not None
    assert first.changes_sha256 == again.changes_sha256 and first.same_code(again)
    assert other.changes_sha256 != first.changes_sha256 and not first.same_code(other)
    assert untracked.changes_sha256 not in (first.changes_sha256, other.changes_sha256)


async def test_shipdecks_own_state_never_makes_the_tree_dirty(
    repo: GitRepo, engines: Engines
) -> None:
    # No .gitignore: .shipdeck/ (the run history, logs) is untracked, yet not a change.
    engine = engines.open(workspace(repo.root, task("a", "echo hi")))
    await recorded_code(engine)
    code = await recorded_code(engine)
    assert code is not None and code.dirty is False
    assert (repo.root / ".shipdeck").is_dir()


async def test_a_workspace_in_a_subdirectory_records_the_whole_repository(
    tmp_path: Path, engines: Engines
) -> None:
    repo = GitRepo.init(tmp_path / "mono")
    (repo.root / "ml").mkdir()
    (repo.root / "lib.py").write_text("x = 1\n")
    repo.commit()
    engine = engines.open(workspace(repo.root / "ml", task("a", "true")))
    code = await recorded_code(engine)
    assert code is not None and code.commit == repo.head() and code.dirty is False
    (repo.root / "lib.py").write_text("x = 2\n")  # outside the workspace, still its code
    code = await recorded_code(engine)
    assert code is not None and code.dirty is True and code.changed_files == 1


async def test_a_detached_head_has_no_branch(repo: GitRepo, engines: Engines) -> None:
    first = repo.head()
    repo.commit("second")
    repo.git("checkout", "-q", "--detach", first)
    engine = engines.open(workspace(repo.root, task("a", "true")))
    code = await recorded_code(engine)
    assert code is not None and code.commit == first and code.branch is None


async def test_nothing_is_recorded_outside_a_repository_or_before_the_first_commit(
    tmp_path: Path, engines: Engines
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    engine = engines.open(workspace(plain, task("a", "true")))
    assert await recorded_code(engine) is None
    unborn = GitRepo.init(tmp_path / "unborn")
    engine = engines.open(workspace(unborn.root, task("a", "true")))
    assert await recorded_code(engine) is None


async def test_without_git_installed_runs_go_on_and_record_no_code(
    repo: GitRepo, engines: Engines, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bin_dir = tmp_path / "bin"  # a PATH with `true` but no git
    bin_dir.mkdir()
    (bin_dir / "true").symlink_to("/bin/true")
    monkeypatch.setenv("PATH", str(bin_dir))
    engine = engines.open(workspace(repo.root, task("a", "true")))
    assert await recorded_code(engine) is None


def test_git_is_asked_about_the_workspace_not_an_inherited_git_dir(
    repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = GitRepo.init(tmp_path / "other")
    elsewhere = other.commit("elsewhere")
    head = repo.head()
    monkeypatch.setenv("GIT_DIR", str(other.root / ".git"))  # as inside a git hook
    code = capture_code(repo.root, repo.root / ".shipdeck")
    assert code is not None and code.commit == head != elsewhere


def test_a_git_slower_than_the_timeout_records_nothing(
    repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "slowbin"
    bin_dir.mkdir()
    slow = bin_dir / "git"
    slow.write_text("#!/bin/sh\nsleep 5\n")
    slow.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    assert capture_code(repo.root, repo.root / ".shipdeck", timeout=0.2) is None


def test_a_git_worktree_is_a_repository_too(repo: GitRepo, tmp_path: Path) -> None:
    # A worktree's .git is a file pointing at the main repository.
    repo.git("worktree", "add", "-q", "-b", "feature", str(tmp_path / "feature"))
    code = capture_code(tmp_path / "feature", tmp_path / "feature" / ".shipdeck")
    assert code is not None and code.commit == repo.head() and code.branch == "feature"


def test_a_staged_rename_counts_once(repo: GitRepo) -> None:
    repo.git("mv", "train.py", "fit.py")
    code = capture_code(repo.root, repo.root / ".shipdeck")
    assert code is not None and code.dirty is True and code.changed_files == 1
