"""The workspace's git state when a run starts: commit, branch, and whether the tree is dirty.

Asked of a real `git` (never through a shell), each command with a short timeout. Outside a
git repository, without git, on a repository with no commit yet, or when git refuses (a
repository owned by someone else), nothing is recorded: lineage is information, not a
reason to stop a run.

A dirty tree also records a digest of its changes (`git diff HEAD --binary` and the untracked
paths): two runs on the same commit with the same edits then compare as the same code, and
two with different edits as different, which a dirty flag alone cannot tell apart. Untracked
files count by name only; reading their content would hash whatever large data sits
untracked in the tree.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Protocol

from shipdeck.model.lineage import CodeVersion

GIT_TIMEOUT = 5.0
"""Seconds each git command may take; a slower repository is recorded without that part."""

_CHUNK = 1 << 16
_SCRUBBED = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_PREFIX")
"""Set by a git hook or wrapper that started the runner, they would point git at another
repository than the workspace's."""

_log = logging.getLogger(__name__)


class _GitFailed(Exception):
    pass


class _Digest(Protocol):
    def update(self, data: bytes, /) -> None: ...


def git_environment() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in _SCRUBBED}
    env["GIT_OPTIONAL_LOCKS"] = "0"  # `git status` must not take index.lock from the user
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["LC_ALL"] = "C"
    return env


def capture_code(
    root: Path, state_dir: Path, *, timeout: float = GIT_TIMEOUT
) -> CodeVersion | None:
    """The git state of the repository holding `root`, or None when there is none to record.
    `state_dir` (shipdeck's own files) never makes the tree dirty."""
    git = shutil.which("git")
    if git is None or not _in_repository(root):
        return None
    env = git_environment()
    try:
        head = _output([git, "rev-parse", "HEAD", "--short", "HEAD"], root, env, timeout)
    except _GitFailed:
        return None
    lines = head.split()
    if len(lines) != 2:
        return None
    commit, short = lines
    branch: str | None
    try:
        branch = _output([git, "symbolic-ref", "--short", "-q", "HEAD"], root, env, timeout)
        branch = branch.strip() or None
    except _GitFailed:
        branch = None  # detached HEAD (or git too slow): no branch to name
    clean = CodeVersion(commit=commit, short=short, branch=branch)
    scope = _pathspec(root, state_dir)
    try:
        status = _output(
            [git, "status", "--porcelain=v1", "-z", "--untracked-files=normal", "--", *scope],
            root,
            env,
            timeout,
        )
    except _GitFailed:
        return clean.model_copy(update={"dirty": None})
    entries = _status_entries(status)
    if not entries:
        return clean
    untracked = sorted(path for code, path in entries if code == "??")
    changes = _changes_digest(git, root, env, scope, untracked, timeout)
    return clean.model_copy(
        update={"dirty": True, "changed_files": len(entries), "changes_sha256": changes}
    )


def _in_repository(root: Path) -> bool:
    """Whether `root` or a directory above it holds `.git` (a directory, or a file in a
    worktree or submodule), as git itself looks: outside one, no git is started only to say
    "not a git repository" (a few ms of every run)."""
    return any((directory / ".git").exists() for directory in (root, *root.parents))


def _pathspec(root: Path, state_dir: Path) -> list[str]:
    """The whole repository (a workspace may be one directory of it) but shipdeck's state."""
    scope = [":/"]
    try:
        inside = state_dir.relative_to(root)
    except ValueError:
        return scope
    return [*scope, f":(exclude){inside.as_posix()}"]


def _status_entries(output: str) -> list[tuple[str, str]]:
    """(XY code, path) of each entry of `git status --porcelain=v1 -z`; a rename's second
    field (its old path) is not an entry of its own."""
    fields = output.split("\0")
    entries: list[tuple[str, str]] = []
    index = 0
    while index < len(fields):
        field = fields[index]
        index += 1
        if len(field) < 4:
            continue
        code, path = field[:2], field[3:]
        entries.append((code, path))
        if "R" in code or "C" in code:
            index += 1
    return entries


def _changes_digest(
    git: str,
    root: Path,
    env: dict[str, str],
    scope: list[str],
    untracked: list[str],
    timeout: float,
) -> str | None:
    """sha256 of the tracked changes (as a binary diff against HEAD) and the untracked paths;
    None when git could not produce the diff in time."""
    digest = hashlib.sha256()
    command = [
        git,
        "diff",
        "HEAD",
        "--binary",
        "--no-ext-diff",
        "--no-textconv",
        "--no-color",
        "--",
        *scope,
    ]
    try:
        _stream(command, root, env, timeout, digest)
    except _GitFailed:
        return None
    digest.update(b"\0untracked\0")
    for path in untracked:
        digest.update(path.encode("utf-8", "surrogateescape") + b"\0")
    return digest.hexdigest()


def _output(command: list[str], cwd: Path, env: dict[str, str], timeout: float) -> str:
    try:
        done = subprocess.run(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        _log.debug("shipdeck: %s: %s", " ".join(command[1:3]), error)
        raise _GitFailed from None
    if done.returncode != 0:
        raise _GitFailed
    return done.stdout.decode("utf-8", "surrogateescape")


def _stream(
    command: list[str], cwd: Path, env: dict[str, str], timeout: float, digest: _Digest
) -> None:
    """Feed the command's output to `digest` as it comes (a diff may be large); kill it when
    it runs past `timeout`."""
    try:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
    except OSError as error:
        _log.debug("shipdeck: %s: %s", " ".join(command[1:3]), error)
        raise _GitFailed from None
    timer = threading.Timer(timeout, process.kill)
    timer.start()
    try:
        assert process.stdout is not None
        while chunk := process.stdout.read(_CHUNK):
            digest.update(chunk)
        code = process.wait()
    finally:
        timer.cancel()
        if process.stdout is not None:
            process.stdout.close()
        if process.poll() is None:
            process.kill()
            process.wait()
    if code != 0:  # killed by the timer, or git failed
        raise _GitFailed
