"""`.shipdeck/` is private to its user: made so, and an older, readable one tightened on open."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

from shipdeck.model import RunStatus

from .conftest import Engines, task, workspace


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _old_state(root: Path) -> Path:
    """A state directory as shipdeck left it before: readable by everyone."""
    state = root / ".shipdeck"
    (state / "logs" / "1").mkdir(parents=True)
    (state / "artifacts").mkdir()
    (state / "owners").mkdir()
    files = {
        state / "shipdeck.db": 0o644,
        state / "runner.log": 0o644,
        state / "logs" / "1" / "build.log": 0o666,
        state / "logs" / "1" / "params.json": 0o644,
        state / "artifacts" / ("a" * 64): 0o444,
    }
    for path, mode in files.items():
        path.write_text("x")
        path.chmod(mode)
    for directory in (state, state / "logs", state / "logs" / "1", state / "artifacts"):
        directory.chmod(0o755)
    (root / "elsewhere.txt").write_text("not shipdeck's")
    (root / "elsewhere.txt").chmod(0o644)
    (state / "link").symlink_to("../elsewhere.txt")
    return state


async def test_an_existing_state_directory_is_tightened_on_open(
    tmp_path: Path, engines: Engines
) -> None:
    state = _old_state(tmp_path)
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(state / "runner.sock"))
    os.chmod(state / "runner.sock", 0o600)  # noqa: PTH101 - as the runner makes it
    try:
        engines.open(workspace(tmp_path, task("a", "true")))
    finally:
        listener.close()
    assert _mode(state) == 0o700
    for directory in ("logs", "logs/1", "artifacts", "owners"):
        assert _mode(state / directory) == 0o700, directory
    for name in ("shipdeck.db", "runner.log", "logs/1/build.log", "logs/1/params.json"):
        assert _mode(state / name) == 0o600, name
    assert _mode(state / "artifacts" / ("a" * 64)) == 0o400
    assert _mode(state / "runner.sock") == 0o600
    assert _mode(tmp_path / "elsewhere.txt") == 0o644  # a symlink's target is not ours


async def test_a_new_state_directory_is_private_from_the_start(
    tmp_path: Path, engines: Engines
) -> None:
    previous = os.umask(0)
    try:
        engine = engines.open(workspace(tmp_path, task("a", "echo hi")))
        run = await engine.wait_run(engine.start_run("p", {}).id)
    finally:
        os.umask(previous)
    assert run.status == RunStatus.SUCCEEDED
    state = tmp_path / ".shipdeck"
    assert _mode(state) == 0o700
    assert _mode(state / "logs") == _mode(state / "logs" / str(run.id)) == 0o700
    assert _mode(state / "shipdeck.db") == 0o600
    assert _mode(state / "shipdeck.db-wal") == 0o600
