"""Content-addressed artifact storage: .shipdeck/artifacts/<sha256>, private to the user.

An artifact is a file inside the workspace, named relative to its root. Symlinks are followed
when it is copied, and a file that turns out to be outside the workspace (`dist/app.tgz` a
symlink to ~/.ssh/id_rsa) or inside shipdeck's own state is refused: the store is served to
every client of the runner and handed to deploy commands.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from pathlib import Path

from shipdeck.state_dir import ARTIFACT_FILE, make_private_dir

_CHUNK = 1 << 20


class ArtifactRefused(Exception):
    """The artifact is not a regular file inside the workspace; the message says why."""


def artifacts_dir(state_dir: Path) -> Path:
    return state_dir / "artifacts"


def artifact_path(state_dir: Path, sha256: str) -> Path:
    return artifacts_dir(state_dir) / sha256


def store_artifact(state_dir: Path, root: Path, relative: str) -> str:
    """Copy the workspace file `relative` into the store (hashing while copying) and return
    its sha256.

    The copy goes to a temporary name and is renamed into place, so a crash never leaves a
    partial file under a digest name; the rename also refreshes the mtime of a digest stored
    before, which `shipdeck gc` reads as "in use". Raises ArtifactRefused for a file outside
    the workspace or not a regular file, FileNotFoundError when there is none, OSError when
    it cannot be read.
    """
    with os.fdopen(open_inside(root, relative, state_dir), "rb") as reader:
        directory = artifacts_dir(state_dir)
        make_private_dir(state_dir)
        make_private_dir(directory)
        digest = hashlib.sha256()
        temporary = directory / f".incoming-{os.getpid()}-{id(digest)}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        try:
            with os.fdopen(os.open(temporary, flags, 0o600), "wb") as writer:
                while chunk := reader.read(_CHUNK):
                    digest.update(chunk)
                    writer.write(chunk)
                writer.flush()
                os.fchmod(writer.fileno(), ARTIFACT_FILE)
                os.fsync(writer.fileno())
            sha256 = digest.hexdigest()
            temporary.rename(directory / sha256)
            return sha256
        finally:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()


def open_inside(root: Path, relative: str, state_dir: Path) -> int:
    """A read-only descriptor of the regular file `relative` names under `root`, symlinks
    followed, once it is known to be inside `root` and outside `state_dir`.

    Where the file is is read from the open descriptor (/proc/self/fd), so a symlink swapped
    in between the check and the open cannot redirect the copy; elsewhere it is the path
    resolved just before opening."""
    real_root = os.path.realpath(root)
    path = Path(real_root) / relative
    resolved = os.path.realpath(path)
    _check_place(relative, resolved, real_root, os.path.realpath(state_dir))
    # O_NONBLOCK: a FIFO left at the artifact's path must not hang the runner on open.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        with contextlib.suppress(OSError):
            resolved = str(Path(f"/proc/self/fd/{fd}").readlink()).removesuffix(" (deleted)")
        _check_place(relative, resolved, real_root, os.path.realpath(state_dir))
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ArtifactRefused(f"artifact {relative} is not a regular file")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _check_place(relative: str, resolved: str, real_root: str, real_state: str) -> None:
    if not _within(resolved, real_root):
        raise ArtifactRefused(
            f"artifact {relative} resolves to {resolved}, outside the workspace {real_root}"
        )
    if _within(resolved, real_state):
        raise ArtifactRefused(
            f"artifact {relative} resolves to {resolved}, inside shipdeck's own state"
        )


def _within(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)
