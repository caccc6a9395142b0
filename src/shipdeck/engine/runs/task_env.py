"""The environment a task inherits from the runner: the runner's own, minus shipdeck's
credentials and settings, narrowed by the workspace's `[task_env]`.

Tasks run arbitrary code and their logs are read by anyone the runner serves (read-only remote
clients included), so a token that reached a task's environment would be one `env` away from
a log. The task's own `env` table and the SHIPDECK_* variables the executor sets come on top.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Collection, Iterable, Mapping
from fnmatch import fnmatchcase
from pathlib import Path

from shipdeck.config import credential_env_names
from shipdeck.model import TaskEnvSpec

SHIPDECK_PREFIX = "SHIPDECK_"
"""The runner's own settings and credentials (SHIPDECK_TOKEN, SHIPDECK_CONFIG, ...); tasks see
SHIPDECK_* variables only as the executor sets them for the task."""

BASE_NAMES = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LANGUAGE",
    "LC_*",
    "TZ",
    "TMPDIR",
    "TERM",
)
"""Inherited even with a `pass` list: without them the simplest command misbehaves."""


def matches(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatchcase(name, pattern) for pattern in patterns)


def inherited_environment(
    environ: Mapping[bytes, bytes], spec: TaskEnvSpec, credentials: Collection[str]
) -> dict[bytes, bytes]:
    """The part of `environ` a task inherits: no SHIPDECK_* variable, none of `credentials`
    (variable names), none matching `spec.secret`, and with `spec.passthrough` only the
    variables it (or BASE_NAMES) matches."""
    allowed = None if spec.passthrough is None else (*BASE_NAMES, *spec.passthrough)
    inherited: dict[bytes, bytes] = {}
    for key, value in environ.items():
        name = os.fsdecode(key)
        if name.upper().startswith(SHIPDECK_PREFIX) or name in credentials:
            continue
        if matches(name, spec.secret):
            continue
        if allowed is not None and not matches(name, allowed):
            continue
        inherited[key] = value
    return inherited


def with_shipdeck_on_path(environ: dict[bytes, bytes], bin_dir: Path) -> dict[bytes, bytes]:
    """`environ` with `bin_dir` (where the runner's own `shipdeck` is) at the end of PATH,
    unless PATH holds it already: a task or a monitor can run `shipdeck drift ...` when the
    runner was started from a virtualenv nobody activated. At the end, so a `shipdeck` that
    PATH finds first still wins."""
    if not (bin_dir / "shipdeck").is_file():
        return environ
    directory = os.fsencode(bin_dir)
    path = environ.get(b"PATH")
    if path is None:
        return {**environ, b"PATH": directory}
    if directory in path.split(os.pathsep.encode()):
        return environ
    return {**environ, b"PATH": path + os.pathsep.encode() + directory if path else directory}


def task_environment(spec: TaskEnvSpec) -> dict[bytes, bytes]:
    """What tasks inherit from this process's environment, credentials read from the user
    config as it is now (a runner added since the runner started counts at once), with this
    shipdeck's directory on PATH."""
    inherited = inherited_environment(os.environb, spec, credential_env_names())
    return with_shipdeck_on_path(inherited, Path(sys.executable).parent)
