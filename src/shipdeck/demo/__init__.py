"""The demo workspace shipped inside the package, and writing it out to a directory."""

from __future__ import annotations

import os
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from shipdeck.errors import InvalidInput

DEMO_PIPELINES = ("ci", "train")
# What the pipelines and Python write, in case the shipped tree was ever run in place.
_STATE_DIRS = frozenset({".shipdeck", "build", "dist", "data", "out", "envs", "stream"})


def demo_files() -> Traversable:
    """The root of the shipped demo tree (a directory holding shipdeck.toml)."""
    return files("shipdeck.demo").joinpath("files")


def default_demo_dir() -> Path:
    """Where `shipdeck demo` keeps the demo when no DIR is given: the user's data directory."""
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "shipdeck" / "demo"


def ensure_demo(target: Path) -> tuple[Path, bool]:
    """The demo workspace in `target`, written first if it has no shipdeck.toml yet.

    Returns (absolute path, whether it was written now). A non-empty `target` without a
    shipdeck.toml is refused like `init_demo` refuses it.
    """
    if (target / "shipdeck.toml").is_file():
        return target.expanduser().absolute(), False
    return init_demo(target), True


def init_demo(target: Path, *, force: bool = False) -> Path:
    """Write the demo workspace into `target` and return its absolute path.

    Refuses a non-empty `target` unless `force`, in which case the demo's own files are
    overwritten and anything else in the directory is left alone.
    """
    target = target.expanduser().absolute()
    if target.exists() and not target.is_dir():
        raise InvalidInput(f"{target} exists and is not a directory")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise InvalidInput(
            f"{target} is not empty; choose another directory or pass --force to overwrite "
            "the demo files in it"
        )
    try:
        _copy_tree(demo_files(), target, skip=_STATE_DIRS)
    except OSError as error:
        reason = error.strerror or str(error)
        if error.filename and Path(error.filename) != target:
            reason = f"{error.filename}: {reason}"
        raise InvalidInput(f"cannot write the demo workspace to {target}: {reason}") from None
    return target


def _copy_tree(source: Traversable, destination: Path, skip: frozenset[str]) -> None:
    destination.mkdir(parents=True, exist_ok=True)
    for entry in sorted(source.iterdir(), key=lambda item: item.name):
        if entry.name in skip or entry.name == "__pycache__" or entry.name.endswith(".pyc"):
            continue
        if entry.is_dir():
            _copy_tree(entry, destination / entry.name, skip=frozenset())
        else:
            (destination / entry.name).write_bytes(entry.read_bytes())
