"""The files an `on_change` trigger watches, by content digest.

Each look globs the patterns under the workspace root and stats what matches; a file is read
and hashed (SHA-256) only when its size, mtime or inode changed since the last look, so a
look at unchanged files costs a stat each. Touching a file, or writing the same bytes again,
changes nothing: only a new digest is a change.
"""

from __future__ import annotations

import hashlib
import logging
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

MAX_FILES = 10_000
"""Files one trigger watches at most; beyond, the rest are ignored (and the log says so)."""
_CHUNK = 1 << 20

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Changes:
    changed: list[str]
    """New or changed files (their digest differs from the recorded one), sorted."""
    removed: list[str]


def diff(recorded: Mapping[str, str], current: Mapping[str, str]) -> Changes:
    changed = sorted(path for path, digest in current.items() if recorded.get(path) != digest)
    removed = sorted(path for path in recorded if path not in current)
    return Changes(changed, removed)


class FileDigests:
    """Digests of the files matching some patterns, re-hashing only what was modified."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: dict[str, tuple[tuple[int, int, int], str]] = {}
        self._warned: set[tuple[str, ...]] = set()

    def look(self, patterns: Iterable[str]) -> dict[str, str]:
        """{path relative to the root: sha256} of every regular file matching a pattern."""
        wanted = tuple(patterns)
        found: dict[str, str] = {}
        for path in self._matches(wanted):
            relative = path.relative_to(self.root).as_posix()
            if relative in found or relative.split("/")[0] == ".shipdeck":
                continue
            digest = self._digest(path, relative)
            if digest is not None:
                found[relative] = digest
            if len(found) >= MAX_FILES:
                if wanted not in self._warned:
                    self._warned.add(wanted)
                    _log.warning(
                        "shipdeck: %s match more than %d files; watching the first %d",
                        ", ".join(wanted),
                        MAX_FILES,
                        MAX_FILES,
                    )
                break
        return found

    def _matches(self, patterns: tuple[str, ...]) -> Iterable[Path]:
        for pattern in patterns:
            try:
                yield from sorted(self.root.glob(pattern))
            except (OSError, ValueError, NotImplementedError) as error:
                _log.warning("shipdeck: cannot look for %s: %s", pattern, error)

    def _digest(self, path: Path, relative: str) -> str | None:
        try:
            info = path.stat()
        except OSError:
            return None
        if not stat.S_ISREG(info.st_mode):
            return None
        stamp = (info.st_size, info.st_mtime_ns, info.st_ino)
        cached = self._cache.get(relative)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        digest = hashlib.sha256()
        try:
            with path.open("rb") as handle:
                while chunk := handle.read(_CHUNK):
                    digest.update(chunk)
        except OSError:
            return None
        self._cache[relative] = (stamp, digest.hexdigest())
        return digest.hexdigest()
