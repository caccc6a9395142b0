"""The workspace file as a long-lived runner sees it: reloaded when it changes.

A runner (the workspace daemon above all) lives for many edits of shipdeck.toml. Before it
uses the configuration it looks at the file (one stat): a changed file that loads replaces
the configuration; one that does not load leaves the last good configuration in place, and
its problems are kept, so actions a person starts with it can refuse with them. Schedules,
monitor checks and health checks keep running with the last good configuration.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shipdeck.errors import WorkspaceError
from shipdeck.model import WorkspaceSpec
from shipdeck.workspace import load_workspace

_log = logging.getLogger("shipdeck.runner")


@dataclass(frozen=True)
class _Stamp:
    """What changes when a file is written or replaced (editors often write a new file)."""

    inode: int
    size: int
    mtime_ns: int
    ctime_ns: int


def _stamp(spec: WorkspaceSpec) -> _Stamp | None:
    try:
        info = spec.file.stat()
    except OSError:
        return None
    return _Stamp(info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


class WorkspaceFile:
    """The configuration a runner works with, kept in step with its file."""

    def __init__(self, spec: WorkspaceSpec) -> None:
        self.spec = spec
        """The configuration in use: the file's, or the last one that loaded."""
        self.problems: list[str] = []
        """Why the file as it is now does not load ([] when it does)."""
        self._seen = _stamp(spec)

    def refresh(self) -> WorkspaceSpec | None:
        """Look at the file; the new configuration when it changed and loads, else None.

        The stamp is taken before reading, so a write that lands during the read is picked
        up by the next look."""
        stamp = _stamp(self.spec)
        if stamp == self._seen:
            return None
        self._seen = stamp
        try:
            spec = load_workspace(self.spec.file)
        except WorkspaceError as error:
            if error.problems != self.problems:  # info: no stray stderr line in a TUI
                _log.info(
                    "%s does not load; schedules, monitor checks and health checks keep running"
                    " with the configuration loaded before: %s",
                    self.spec.file.name,
                    "; ".join(error.problems),
                )
            self.problems = error.problems
            return None
        self.problems = []
        if spec == self.spec:
            return None
        _log.info("%s changed: configuration reloaded", self.spec.file.name)
        self.spec = spec
        return spec

    def check_loads(self) -> None:
        """Raise the file's problems (WorkspaceError) if it does not load now."""
        if self.problems:
            raise WorkspaceError(self.problems)
