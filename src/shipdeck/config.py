"""User configuration: the runners a user can reach, in $XDG_CONFIG_HOME/shipdeck/config.toml.

```toml
[[runners]]
name = "build-1"
url = "https://build-1.internal:8750"
token_env = "SHIPDECK_BUILD1_TOKEN"
read_only = true
```

`SHIPDECK_CONFIG` points at another file (tests use it). Edits rewrite the file with tomli-w,
keeping other runners and any sections shipdeck does not know; TOML comments are not kept.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import BaseModel, ConfigDict

from shipdeck.errors import Conflict, InvalidInput, NotFound, Refused

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
TOKEN_ENV = "SHIPDECK_TOKEN"
"""Token for a runner given by URL rather than by a configured name."""
_TOKEN_ENV_KEY = re.compile(r"""\btoken_env\s*=\s*["']([^"'\s]+)["']""")
KNOWN_KEYS = {"name", "url", "token_env", "token_file", "read_only"}


class RunnerEntry(BaseModel):
    """One configured runner."""

    model_config = ConfigDict(frozen=True)

    name: str
    url: str
    """`http(s)://HOST:PORT` or `unix:PATH`."""
    token_env: str | None = None
    """Name of the environment variable holding the bearer token."""
    token_file: str | None = None
    """Path of a file (mode 0600) holding the bearer token."""
    read_only: bool = False
    """Hide and refuse actions (run, rerun, cancel, deploy, ...) on this runner."""


def config_path() -> Path:
    override = os.environ.get("SHIPDECK_CONFIG")
    if override:
        return Path(override).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "shipdeck" / "config.toml"


def check_url(url: str) -> None:
    if url.startswith("unix:"):
        if len(url) == len("unix:"):
            raise InvalidInput("runner URL unix:PATH needs a path")
        return
    match = re.match(r"^(https?)://([^/:]+|\[[0-9a-fA-F:]+\])(:\d{1,5})?/?$", url)
    if match is None:
        raise InvalidInput(f"runner URL must be http(s)://HOST:PORT or unix:PATH, got {url!r}")


def validate_entry(entry: RunnerEntry, where: str = "") -> None:
    prefix = f"{where}: " if where else ""
    if not NAME.match(entry.name):
        raise InvalidInput(
            f"{prefix}runner name {entry.name!r} must be letters, digits, '.', '_' or '-'"
        )
    try:
        check_url(entry.url)
    except InvalidInput as error:
        raise InvalidInput(f"{prefix}{error}") from None
    if entry.token_env and entry.token_file:
        raise InvalidInput(f"{prefix}runner {entry.name!r}: set token_env or token_file, not both")


def _read_raw(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput(f"{path}: cannot read: {error}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InvalidInput(f"{path}: {error}") from None


def _entries(raw: dict[str, Any], path: Path) -> list[RunnerEntry]:
    items = raw.get("runners", [])
    if not isinstance(items, list):
        raise InvalidInput(f"{path}: 'runners' must be an array of tables ([[runners]])")
    entries: list[RunnerEntry] = []
    seen: set[str] = set()
    for index, item in enumerate(items, start=1):
        where = f"{path}: runners #{index}"
        if not isinstance(item, dict):
            raise InvalidInput(f"{where}: must be a table")
        missing = [key for key in ("name", "url") if not isinstance(item.get(key), str)]
        if missing:
            raise InvalidInput(f"{where}: needs a string {missing[0]!r}")
        fields = {key: value for key, value in item.items() if key in KNOWN_KEYS}
        for key in ("token_env", "token_file"):
            if key in fields and not isinstance(fields[key], str):
                raise InvalidInput(f"{where}: {key} must be a string")
        if "read_only" in fields and not isinstance(fields["read_only"], bool):
            raise InvalidInput(f"{where}: read_only must be true or false")
        entry = RunnerEntry.model_validate(fields)
        validate_entry(entry, where)
        if entry.name in seen:
            raise InvalidInput(f"{where}: runner {entry.name!r} is defined twice")
        seen.add(entry.name)
        entries.append(entry)
    return entries


def load_runners(path: Path | None = None) -> list[RunnerEntry]:
    path = path or config_path()
    return _entries(_read_raw(path), path)


def find_runner(name: str, path: Path | None = None) -> RunnerEntry:
    path = path or config_path()
    runners = load_runners(path)
    for entry in runners:
        if entry.name == name:
            return entry
    known = ", ".join(entry.name for entry in runners) or "none configured"
    raise NotFound(f"no runner named {name!r} in {path} (known: {known})")


def _write_raw(path: Path, raw: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o600
    # Write beside the file and rename, so a crash never leaves half a config.
    fd, temp = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            tomli_w.dump(raw, handle)
        Path(temp).chmod(mode)
        Path(temp).replace(path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def add_runner(entry: RunnerEntry, path: Path | None = None) -> Path:
    path = path or config_path()
    validate_entry(entry)
    raw = _read_raw(path)
    existing = _entries(raw, path)
    if any(other.name == entry.name for other in existing):
        raise Conflict(f"a runner named {entry.name!r} already exists in {path}")
    item = entry.model_dump(exclude_none=True, exclude_defaults=True)
    item["name"], item["url"] = entry.name, entry.url
    raw.setdefault("runners", []).append(item)
    _write_raw(path, raw)
    return path


def remove_runner(name: str, path: Path | None = None) -> Path:
    path = path or config_path()
    raw = _read_raw(path)
    existing = _entries(raw, path)
    if not any(entry.name == name for entry in existing):
        known = ", ".join(entry.name for entry in existing) or "none configured"
        raise NotFound(f"no runner named {name!r} in {path} (known: {known})")
    raw["runners"] = [item for item in raw["runners"] if item.get("name") != name]
    _write_raw(path, raw)
    return path


def credential_env_names(path: Path | None = None) -> set[str]:
    """The environment variables holding shipdeck's own credentials: $SHIPDECK_TOKEN and the
    `token_env` of every configured runner. A config file that does not load still gives the
    names it can (its runners are then unusable anyway, but their tokens stay secret)."""
    names = {TOKEN_ENV}
    path = path or config_path()
    try:
        raw = _read_raw(path)
    except InvalidInput:
        with contextlib.suppress(OSError):
            names.update(_TOKEN_ENV_KEY.findall(path.read_text(errors="replace")))
        return names
    runners = raw.get("runners")
    for item in runners if isinstance(runners, list) else []:
        if isinstance(item, dict) and isinstance(item.get("token_env"), str):
            names.add(item["token_env"])
    return names


def without_credentials(environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` minus shipdeck's credentials: for a process that needs the rest of it (the
    daemon keeps SHIPDECK_CONFIG, SHIPDECK_IDLE_EXIT, ...) but not a client's tokens."""
    credentials = credential_env_names()
    return {key: value for key, value in environ.items() if key not in credentials}


def runner_token(entry: RunnerEntry) -> str | None:
    """The entry's bearer token, read from its environment variable or file."""
    if entry.token_env:
        token = os.environ.get(entry.token_env, "").strip()
        if not token:
            raise InvalidInput(
                f"runner {entry.name!r} takes its token from ${entry.token_env}, which is not set"
            )
        return token
    if entry.token_file:
        return read_token_file(Path(entry.token_file).expanduser())
    return None


def read_token_file(path: Path) -> str:
    """The token in `path`; refuses a file that anyone but its owner can read or write."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InvalidInput(f"token file {path} does not exist") from None
    except OSError as error:
        raise InvalidInput(f"token file {path}: {error.strerror}") from None
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise Refused(
            f"token file {path} is accessible by others (mode {mode:04o}); run: chmod 600 {path}"
        )
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput(f"token file {path} is unreadable: {error}") from None
    if not token:
        raise InvalidInput(f"token file {path} is empty")
    if any(ch.isspace() for ch in token):
        raise InvalidInput(f"token file {path} must hold one token without spaces")
    return token
