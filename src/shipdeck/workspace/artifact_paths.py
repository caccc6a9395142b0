"""Artifact paths (`registers.artifact`, a service's `artifact`): files inside the workspace.

Checked as written here; the runner checks again when it copies the file, with symlinks
resolved (engine/runs/artifacts.py), since a link can only be judged once it exists.
"""

from __future__ import annotations

from pathlib import PurePosixPath, PureWindowsPath

STATE_DIR = ".shipdeck"


def artifact_problem(path: str) -> str | None:
    """Why `path` cannot name an artifact, or None when it can."""
    if "\0" in path:
        return f"must not contain a NUL character, got {path!r}"
    if PurePosixPath(path).is_absolute() or PureWindowsPath(path).is_absolute():
        return f"must be relative to the workspace root, got {path!r}"
    parts = [part for part in PurePosixPath(path).parts if part != "."]
    if ".." in parts:
        return f"must stay inside the workspace ('..' is not allowed), got {path!r}"
    if not parts or path.endswith("/"):
        return f"must name a file, got {path!r}"
    if parts[0] == STATE_DIR:
        return f"must not be inside {STATE_DIR}/ (shipdeck's own state), got {path!r}"
    return None
