"""`.shipdeck/`, the runner's state, private to its user whatever the umask.

Params, failure reasons and logs can hold secrets, so the directory and the ones inside it are
0700, the database 0600 (SQLite gives its -wal and -shm files the database's mode) and stored
artifacts 0400. Files other parts create inside (task logs, params, the metrics files tasks
append to) are private through their directories, whatever mode they get.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
ARTIFACT_FILE = 0o400
SUBDIRS = ("logs", "artifacts", "owners")
DATABASE = "shipdeck.db"


def prepare_state_dir(state_dir: Path) -> None:
    """Create the state directory private to the user, or make an existing one private.

    A directory that is already 0700 costs one stat: it was made by this function (an older
    shipdeck made it 0755, with 0644 files in it: those are tightened once, here)."""
    if not make_private_dir(state_dir):
        with contextlib.suppress(OSError):
            if stat.S_IMODE(state_dir.stat().st_mode) != PRIVATE_DIR:
                tighten(state_dir)
    for name in SUBDIRS:
        make_private_dir(state_dir / name)
    _make_private_file(state_dir / DATABASE)


def make_private_dir(path: Path) -> bool:
    """Create `path` with mode 0700; False when it existed already (left as it is)."""
    try:
        path.mkdir(mode=PRIVATE_DIR)
    except FileExistsError:
        return False
    path.chmod(PRIVATE_DIR)  # the umask may have taken bits away; never adds any
    return True


def _make_private_file(path: Path) -> None:
    """Create an empty `path` with mode 0600 unless it exists (an empty file is an empty
    SQLite database, so SQLite opens it instead of creating one under the umask)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_FILE)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)


def tighten(state_dir: Path) -> None:
    """Make everything under `state_dir` private: directories 0700, files 0600, stored
    artifacts 0400. Sockets keep their mode (the runner makes them 0600); symlinks are not
    followed. A file that vanishes meanwhile, or is someone else's, is left alone."""
    with contextlib.suppress(OSError):
        state_dir.chmod(PRIVATE_DIR)  # followed, if it is a symlink to a state kept elsewhere
    artifacts = state_dir / "artifacts"
    for directory, dirs, files in os.walk(state_dir):
        for name in dirs:
            _chmod(Path(directory, name), PRIVATE_DIR)
        mode = ARTIFACT_FILE if Path(directory) == artifacts else PRIVATE_FILE
        for name in files:
            path = Path(directory, name)
            with contextlib.suppress(OSError):
                if stat.S_ISREG(path.lstat().st_mode):
                    _chmod(path, mode)


def _chmod(path: Path, mode: int) -> None:
    with contextlib.suppress(OSError):
        if not path.is_symlink():
            path.chmod(mode)
