"""Digests of the files a task declares in `inputs`, taken when the task starts: what it read.

Each file is hashed (sha256, streamed) unless the digest cache already knows it unchanged:
the cache (table `input_digests` of the run history) keys a file by its path, size, mtime,
ctime and device:inode, so a 10 GB training set unchanged since the last run costs one stat
instead of a minute of reading. ctime catches a rewrite that put the old mtime back (`touch
-d`, `cp -p`, an rsync); a file modified within RACY_NS of being hashed is not cached, since a
second write in the same clock tick could leave all of those unchanged (git's "racy clean").

Everything here blocks: the engine calls it in a worker thread.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import logging
import os
import posixpath
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from shipdeck.engine.database import connect, transaction
from shipdeck.model.lineage import InputFile

MAX_INPUT_FILES = 10_000
"""Files one task may declare (after expanding globs): each is a row of the run's lineage and
a stat at every start. A data set of more files is better declared by a manifest file."""
CHUNK = 1 << 20
LARGE_FILE = 256 << 20
"""Files at least this big are announced in the task's log before hashing: it takes seconds."""
RACY_NS = 2_000_000_000
"""A file modified less than this before it was hashed is not cached (coarse file-system
clocks: 2 s on FAT, 1 s on HFS+, a jiffy on ext4)."""
GLOB_CHARS = frozenset("*?[")

_log = logging.getLogger(__name__)


class InputProblem(Exception):
    """A declared input cannot be read: the task fails with this one-line message."""


class InputsCancelled(Exception):
    """The run was cancelled while its inputs were being hashed."""


def is_glob(pattern: str) -> bool:
    return any(char in GLOB_CHARS for char in pattern)


def expand(root: Path, patterns: Sequence[str]) -> list[str]:
    """The files `patterns` name under `root`, as sorted workspace-relative paths. A missing
    file, a glob that matches nothing, or a directory is an InputProblem."""
    found: dict[str, None] = {}
    for pattern in patterns:
        if is_glob(pattern):
            matched = 0
            # glob, not Path.glob: a trailing `**` names the files too (Path.glob's, before
            # 3.13, names directories only), and hidden files (.git/, .shipdeck/) stay out
            # unless the pattern names them.
            for match in glob.iglob(pattern, root_dir=root, recursive=True):  # noqa: PTH207
                if (root / match).is_file():
                    found.setdefault(posixpath.normpath(Path(match).as_posix()), None)
                    matched += 1
                    _check_count(len(found), pattern)
            if not matched:
                raise InputProblem(f"input {pattern}: no file matches it")
            continue
        path = root / pattern
        if path.is_dir():
            wildcard = pattern.rstrip("/") + "/**"
            raise InputProblem(
                f"input {pattern} is a directory: declare the files in it, like {wildcard}"
            )
        if not path.exists():
            raise InputProblem(f"input {pattern} not found (the task declares it in inputs)")
        if not path.is_file():
            raise InputProblem(f"input {pattern} is not a regular file")
        found.setdefault(posixpath.normpath(pattern), None)
        _check_count(len(found), pattern)
    return sorted(found)


def _check_count(count: int, pattern: str) -> None:
    if count > MAX_INPUT_FILES:
        raise InputProblem(
            f"inputs name more than {MAX_INPUT_FILES:,} files (at {pattern});"
            " declare a manifest of the data set instead"
        )


@dataclass(frozen=True)
class FileState:
    """What the digest cache compares: a file with all of these unchanged has not changed."""

    size: int
    mtime_ns: int
    ctime_ns: int
    file_id: str

    @classmethod
    def of(cls, status: os.stat_result) -> FileState:
        return cls(
            size=status.st_size,
            mtime_ns=status.st_mtime_ns,
            ctime_ns=status.st_ctime_ns,
            file_id=f"{status.st_dev}:{status.st_ino}",
        )


class DigestCache:
    """The `input_digests` table, through a connection of this thread's own. A cache that
    cannot be read or written is skipped (every file is hashed), never an error."""

    def __init__(self, database: Path) -> None:
        self._db: sqlite3.Connection | None = None
        self._pending: list[tuple[str, FileState, str]] = []
        try:
            self._db = connect(database)
        except sqlite3.Error as error:
            _log.debug("shipdeck: no input digest cache: %s", error)

    def lookup(self, path: str, state: FileState) -> str | None:
        if self._db is None:
            return None
        try:
            row = self._db.execute(
                "SELECT sha256 FROM input_digests WHERE path = ? AND size = ? AND mtime_ns = ?"
                " AND ctime_ns = ? AND file_id = ?",
                (path, state.size, state.mtime_ns, state.ctime_ns, state.file_id),
            ).fetchone()
        except sqlite3.Error as error:
            _log.debug("shipdeck: input digest cache: %s", error)
            return None
        return None if row is None else str(row[0])

    def remember(self, path: str, state: FileState, sha256: str) -> None:
        self._pending.append((path, state, sha256))

    def close(self) -> None:
        if self._db is None:
            return
        try:
            if self._pending:
                with transaction(self._db) as db:
                    db.executemany(
                        "INSERT OR REPLACE INTO input_digests"
                        " (path, size, mtime_ns, ctime_ns, file_id, sha256)"
                        " VALUES (?, ?, ?, ?, ?, ?)",
                        [
                            (p, s.size, s.mtime_ns, s.ctime_ns, s.file_id, sha)
                            for p, s, sha in self._pending
                        ],
                    )
        except sqlite3.Error as error:
            _log.debug("shipdeck: input digest cache not updated: %s", error)
        finally:
            self._db.close()


@dataclass(frozen=True)
class Hashed:
    sha256: str
    status: os.stat_result
    """The file as it was when hashing ended."""
    stable: bool
    """False when the file changed while it was read."""


def hash_file(path: Path, cancel: threading.Event) -> Hashed:
    """sha256 of the file, read in CHUNK pieces (memory stays flat for any size); raises
    InputsCancelled as soon as `cancel` is set."""
    digest = hashlib.sha256()
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    with path.open("rb", buffering=0) as handle:
        before = os.fstat(handle.fileno())
        with contextlib.suppress(AttributeError, OSError):  # a hint, where the OS has it
            os.posix_fadvise(handle.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
        while count := handle.readinto(buffer):
            if cancel.is_set():
                raise InputsCancelled
            digest.update(view[:count])
        after = os.fstat(handle.fileno())
    return Hashed(digest.hexdigest(), after, FileState.of(before) == FileState.of(after))


@dataclass
class Digested:
    files: list[InputFile]
    hashed: int = 0
    """Files read in full; the rest came from the cache."""


def digest_inputs(
    root: Path,
    database: Path,
    task: str,
    patterns: Sequence[str],
    cancel: threading.Event,
    note: Callable[[str], None],
) -> Digested:
    """Expand the task's patterns and digest every file, through the cache. `note` gets a
    line for the task's log (it must be safe to call from this thread)."""
    try:
        names = expand(root, patterns)
    except OSError as error:  # a directory on the way that cannot be listed
        raise InputProblem(f"inputs {', '.join(patterns)}: {error.strerror or error}") from None
    cache = DigestCache(database)
    result = Digested(files=[])
    try:
        for name in names:
            if cancel.is_set():
                raise InputsCancelled
            result.files.append(_digest_one(root, name, task, cache, cancel, note, result))
    finally:
        cache.close()
    return result


def _digest_one(
    root: Path,
    name: str,
    task: str,
    cache: DigestCache,
    cancel: threading.Event,
    note: Callable[[str], None],
    result: Digested,
) -> InputFile:
    path = root / name
    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):
            raise InputProblem(f"input {name} is not a regular file")
        state = FileState.of(status)
        sha256 = cache.lookup(name, state)
        if sha256 is None:
            if status.st_size >= LARGE_FILE:
                note(f"hashing input {name} ({status.st_size / (1 << 30):.1f} GiB)")
            hashed = hash_file(path, cancel)
            if not hashed.stable:
                hashed = hash_file(path, cancel)  # once more: a writer may just have finished
            result.hashed += 1
            status, sha256 = hashed.status, hashed.sha256
            if not hashed.stable:
                note(f"input {name} changed while it was hashed: something is still writing it")
            elif time.time_ns() - status.st_mtime_ns >= RACY_NS:
                cache.remember(name, FileState.of(status), sha256)
    except FileNotFoundError:
        raise InputProblem(f"input {name} disappeared while it was being hashed") from None
    except OSError as error:
        raise InputProblem(f"input {name} cannot be read: {error.strerror or error}") from None
    return InputFile(
        task=task,
        path=name,
        sha256=sha256,
        size=status.st_size,
        mtime=datetime.fromtimestamp(status.st_mtime_ns / 1e9, UTC),
    )
