"""Storing artifacts: only regular files inside the workspace, symlinks resolved at copy time."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from shipdeck.engine.runs.artifacts import ArtifactRefused, artifact_path, store_artifact


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "dist").mkdir(parents=True)
    return root


def _state(root: Path) -> Path:
    return root / ".shipdeck"


def test_a_symlink_inside_the_workspace_is_followed(root: Path) -> None:
    (root / "dist" / "app-1.2.tgz").write_bytes(b"release 1.2")
    (root / "dist" / "latest.tgz").symlink_to("app-1.2.tgz")
    sha = store_artifact(_state(root), root, "dist/latest.tgz")
    assert sha == hashlib.sha256(b"release 1.2").hexdigest()
    stored = artifact_path(_state(root), sha)
    assert stored.read_bytes() == b"release 1.2"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o400
    assert stat.S_IMODE(stored.parent.stat().st_mode) == 0o700


def test_symlinks_leading_out_are_refused(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "id_rsa").write_text("private key")
    (root / "dist" / "key").symlink_to(outside / "id_rsa")
    (root / "linked").symlink_to(outside)  # a directory on the way out
    for relative, resolved in [("dist/key", "elsewhere/id_rsa"), ("linked/id_rsa", "id_rsa")]:
        with pytest.raises(ArtifactRefused) as caught:
            store_artifact(_state(root), root, relative)
        message = str(caught.value)
        assert message.startswith(f"artifact {relative} resolves to ")
        assert message.endswith(f"outside the workspace {root.resolve()}")
        assert resolved in message
    assert not any((_state(root) / "artifacts").glob("*"))


def test_shipdecks_own_state_and_non_files_are_refused(root: Path) -> None:
    _state(root).mkdir()
    (_state(root) / "shipdeck.db").write_text("history")
    (root / "dist" / "db").symlink_to("../.shipdeck/shipdeck.db")
    with pytest.raises(ArtifactRefused, match="inside shipdeck's own state"):
        store_artifact(_state(root), root, "dist/db")
    os.mkfifo(root / "dist" / "pipe")  # opening it for reading would wait for a writer
    with pytest.raises(ArtifactRefused, match="artifact dist/pipe is not a regular file"):
        store_artifact(_state(root), root, "dist/pipe")
    with pytest.raises(ArtifactRefused, match="artifact dist is not a regular file"):
        store_artifact(_state(root), root, "dist")
    with pytest.raises(FileNotFoundError):
        store_artifact(_state(root), root, "dist/missing")
    (root / "dist" / "dangling").symlink_to("nowhere")
    with pytest.raises(FileNotFoundError):
        store_artifact(_state(root), root, "dist/dangling")


def test_storing_again_refreshes_the_stored_copy(root: Path) -> None:
    (root / "dist" / "a").write_bytes(b"same")
    sha = store_artifact(_state(root), root, "dist/a")
    stored = artifact_path(_state(root), sha)
    os.utime(stored, (1_000_000, 1_000_000))
    assert store_artifact(_state(root), root, "dist/a") == sha
    assert stored.stat().st_mtime > 1_000_000  # what gc reads as "just used"
    assert [p.name for p in stored.parent.iterdir()] == [sha]  # no temporary left
