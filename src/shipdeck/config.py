"""The user configuration: one file, one settings model, read by the CLI and the TUI alike.

```toml
[tui]
theme = "shipdeck-light"
runners = "all"              # or "workspace": inside a workspace, open only its runner

[keymap]                     # binding id = keys; the ids are in docs/keymap.md and `?`
"log.follow" = "F,f"

[[runners]]
name = "build-1"
kind = "shipdeck"            # the default; `shipdeck runner add --kind` lists the kinds
url = "https://build-1.internal:8750"
token_env = "SHIPDECK_BUILD1_TOKEN"
read_only = true
```

Where the file lives is `shipdeck.paths`' business. Edits rewrite the file with tomli-w,
keeping other runners and any sections shipdeck does not know; TOML comments are not kept.

Every problem is one line, `FILE:LINE: where: message`. Reading never raises for the TUI
(`read_settings`: problems come back as a list, the bad parts are left out); commands that work
on runners raise the first runner problem (`load_runners`).
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shipdeck.errors import Conflict, InvalidInput, NotFound, Refused
from shipdeck.paths import config_path

__all__ = [
    "RUNNER_KINDS",
    "TOKEN_ENV",
    "LoadedSettings",
    "MlflowEntry",
    "PrefectEntry",
    "RunnerEntry",
    "Settings",
    "TuiSettings",
    "add_runner",
    "check_url",
    "config_path",
    "credential_env_names",
    "entry_from_table",
    "find_runner",
    "load_runners",
    "read_settings",
    "read_token_file",
    "remove_runner",
    "runner_token",
    "without_credentials",
]

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_HTTP_URL = re.compile(r"^(https?)://([^/:]+|\[[0-9a-fA-F:]+\])(:\d{1,5})?(/[^\s]*)?$")
_SHIPDECK_URL = re.compile(r"^(https?)://([^/:]+|\[[0-9a-fA-F:]+\])(:\d{1,5})?/?$")
LEGACY_HINT = (
    "the [runners.NAME] form is the old one: shipdeck reads only its read_only; write"
    " [[runners]] entries (name, url, read_only) instead, see docs/configuration.md"
)
TOKEN_ENV = "SHIPDECK_TOKEN"
"""Token for a runner given by URL rather than by a configured name."""
_TOKEN_ENV_KEY = re.compile(r"""\btoken_env\s*=\s*["']([^"'\s]+)["']""")


class RunnerEntry(BaseModel):
    """One configured runner of kind `shipdeck`: a workspace daemon or `shipdeck serve`.

    Each other kind subclasses this with its own `kind` literal, URL rule and options, and is
    listed in `RUNNER_KINDS`; `kind` picks the class when the file is read.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["shipdeck"] = "shipdeck"
    """What the runner is; decides which options it takes and how shipdeck talks to it."""
    name: str
    """How commands (`--runner NAME`) and the TUI's header call it: letters, digits, `._-`."""
    url: str
    """Where it listens: `http(s)://HOST:PORT` or `unix:PATH` for a shipdeck runner."""
    token_env: str | None = None
    """Name of the environment variable holding the bearer token."""
    token_file: str | None = None
    """Path of a file (mode 0600) holding the bearer token."""
    read_only: bool = False
    """Hide and refuse actions (run, rerun, cancel, deploy, ...) on this runner."""

    url_rule: ClassVar[str] = "http(s)://HOST:PORT or unix:PATH"

    @classmethod
    def url_ok(cls, url: str) -> bool:
        if url.startswith("unix:"):
            return len(url) > len("unix:")
        return _SHIPDECK_URL.match(url) is not None

    def problem(self) -> tuple[str, str] | None:
        """(the option, a one-line message) for the first thing wrong with the entry."""
        if not NAME.match(self.name):
            return "name", f"runner name {self.name!r} must be letters, digits, '.', '_' or '-'"
        if not self.url_ok(self.url):
            if self.url == "unix:":
                return "url", "runner URL unix:PATH needs a path"
            return "url", f"runner URL must be {self.url_rule}, got {self.url!r}"
        if self.token_env and self.token_file:
            return "token_file", f"runner {self.name!r}: set token_env or token_file, not both"
        return None


class PrefectEntry(RunnerEntry):
    """One Prefect server's REST API (`kind = "prefect"`): `http://HOST:4200/api`, or Prefect
    Cloud's `https://api.prefect.cloud/api/accounts/ID/workspaces/ID`. The secret from
    `token_env`/`token_file` is sent as `Authorization: Bearer` (a Prefect Cloud API key)."""

    kind: Literal["prefect"] = "prefect"  # type: ignore[assignment]
    poll_interval: float = Field(default=1.0, ge=0.2, le=60.0)
    """Seconds between looks at the server for changes (states, new log lines)."""
    live_logs: bool = True
    """Whether running runs' log lines are also taken from the server's `/api/logs/out`
    websocket (when it publishes them; polling fills in either way)."""
    auth: Literal["bearer", "basic"] = "bearer"
    """How the secret is sent: `bearer` (a Prefect Cloud API key) or `basic` (a self-hosted
    server's `PREFECT_SERVER_API_AUTH_STRING`, `user:password`)."""

    url_rule: ClassVar[str] = "http(s)://HOST:PORT/api (the Prefect API root)"

    @classmethod
    def url_ok(cls, url: str) -> bool:
        return _HTTP_URL.match(url) is not None


class MlflowEntry(RunnerEntry):
    """One MLflow tracking server (`kind = "mlflow"`), spoken to over its REST API.

    The secret from `token_env`/`token_file` is a bearer token, or with `username` the
    password of HTTP basic auth (what `mlflow server --app-name basic-auth` checks).
    """

    kind: Literal["mlflow"] = "mlflow"  # type: ignore[assignment]
    username: str | None = None
    """Basic auth as this user, the secret being the password (none: a bearer token)."""

    url_rule: ClassVar[str] = "http(s)://HOST[:PORT][/PATH]"

    @classmethod
    def url_ok(cls, url: str) -> bool:
        return _HTTP_URL.match(url) is not None

    def problem(self) -> tuple[str, str] | None:
        found = super().problem()
        if found is None and self.username is not None:
            if not self.username or ":" in self.username or self.username != self.username.strip():
                return "username", f"runner {self.name!r}: username must be non-empty, no ':'"
            if not (self.token_env or self.token_file):
                return "username", (
                    f"runner {self.name!r}: basic auth needs the password in token_env or"
                    " token_file"
                )
        return found


RUNNER_KINDS: dict[str, type[RunnerEntry]] = {
    "shipdeck": RunnerEntry,
    "mlflow": MlflowEntry,
    "prefect": PrefectEntry,
}
"""Every runner kind shipdeck can talk to, by the `kind` written in the file."""


class TuiSettings(BaseModel):
    """`[tui]`: how the cockpit looks and what it opens."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    theme: str | None = None
    """Colour theme: a bundled one (shipdeck-dark, shipdeck-light, shipdeck-high-contrast) or
    a file in `themes/` beside the config file."""
    runners: Literal["all", "workspace"] = "all"
    """Inside a workspace, open its runner together with every configured runner ("all"), or
    only the workspace's own ("workspace"). `--runner NAME` (repeatable) always wins."""
    read_only: bool = False
    """Open the TUI read-only on every runner, as `--read-only` does."""


class Settings(BaseModel):
    """The whole user configuration file."""

    model_config = ConfigDict(frozen=True)

    tui: TuiSettings = TuiSettings()
    keymap: dict[str, Any] = {}
    """Binding id = keys, e.g. `"log.follow" = "F,f"`; checked by the TUI, which knows the ids."""
    runners: tuple[RunnerEntry, ...] = ()
    """The runners this user can reach, in the order the TUI shows them."""


@dataclass
class LoadedSettings:
    """What `read_settings` made of the file, and what it had to leave out."""

    path: Path
    settings: Settings = field(default_factory=Settings)
    runner_problems: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Problems outside `[[runners]]` ([tui], the file itself)."""
    legacy_read_only: set[str] = field(default_factory=set)
    """Runner names marked read-only in the old `[runners.NAME]` form."""

    @property
    def all_problems(self) -> list[str]:
        return [*self.problems, *self.runner_problems]


def check_url(url: str, kind: str = "shipdeck") -> None:
    """Refuse a URL that a runner of `kind` cannot be reached at (one line, exit 2)."""
    found = RUNNER_KINDS.get(kind, RunnerEntry)(name="url", url=url).problem()
    if found is not None:
        raise InvalidInput(found[1])


def _message(error: ValidationError) -> tuple[str, str]:
    """(the field, a one-line message) for the first thing pydantic refused."""
    first = error.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown option"
    return where, message


def entry_from_table(table: dict[str, Any]) -> RunnerEntry:
    """Validate one `[[runners]]` table as its kind; ValueError names the option and kind."""
    kind = table.get("kind", "shipdeck")
    entry_type = RUNNER_KINDS.get(kind) if isinstance(kind, str) else None
    if entry_type is None:
        kinds = ", ".join(sorted(RUNNER_KINDS))
        raise ValueError(f"kind: unknown runner kind {kind!r} (kinds: {kinds})")
    try:
        entry = entry_type.model_validate(table)
    except ValidationError as error:
        where, message = _message(error)
        raise ValueError(f"{where}: {message}" if where else message) from None
    found = entry.problem()
    if found is not None:
        raise ValueError(f"{found[0]}: {found[1]}")
    return entry


class _Lines:
    """Line numbers for messages, scanned only when there is a problem to report."""

    def __init__(self, path: Path, text: str) -> None:
        self.path, self.text = path, text
        self._scanned: Any = None

    def at(self, *keys: str) -> str:
        from shipdeck.workspace.locate import scan_key_lines

        if self._scanned is None:
            self._scanned = scan_key_lines(self.text)
        return f"{self.path}:{self._scanned.line_of(keys)}"


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput(f"{path}: cannot read: {error}") from None


def _parse(path: Path, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        found = re.search(r"\(at line (\d+), column \d+\)", str(error))
        line = found.group(1) if found else "1"
        raise InvalidInput(f"{path}:{line}: invalid TOML: {error}") from None


def _runner_entries(raw: Any, lines: _Lines, loaded: LoadedSettings) -> list[RunnerEntry]:
    if isinstance(raw, dict):
        for name, table in raw.items():
            if isinstance(table, dict) and table.get("read_only") is True:
                loaded.legacy_read_only.add(name)
        loaded.runner_problems.append(f"{lines.at('runners')}: runners: {LEGACY_HINT}")
        return []
    if not isinstance(raw, list):
        loaded.runner_problems.append(
            f"{lines.at('runners')}: runners: must be an array of tables ([[runners]])"
        )
        return []
    entries: list[RunnerEntry] = []
    seen: set[str] = set()
    for index, table in enumerate(raw):
        where = f"runners #{index + 1}"
        at = lines.at("runners", str(index))
        if not isinstance(table, dict):
            loaded.runner_problems.append(f"{at}: {where}: must be a table")
            continue
        missing = [key for key in ("name", "url") if not isinstance(table.get(key), str)]
        if missing:
            loaded.runner_problems.append(f"{at}: {where}: needs a string {missing[0]!r}")
            continue
        where = f"runner {table['name']!r}"
        try:
            entry = entry_from_table(table)
        except ValueError as error:
            option = str(error).split(":", 1)[0]
            at = lines.at("runners", str(index), option)
            loaded.runner_problems.append(f"{at}: {where}: {error}")
            continue
        if entry.name in seen:
            loaded.runner_problems.append(f"{at}: {where}: is defined twice")
            continue
        seen.add(entry.name)
        entries.append(entry)
    return entries


def read_settings(path: Path | None = None) -> LoadedSettings:
    """The settings in `path` (default: the user config), leaving out what does not validate;
    never raises."""
    path = config_path() if path is None else path
    loaded = LoadedSettings(path)
    try:
        text = _read_text(path)
        if text is None:
            return loaded
        raw = _parse(path, text)
    except InvalidInput as error:
        loaded.problems.append(str(error))
        return loaded
    lines = _Lines(path, text)
    tui = TuiSettings()
    if "tui" in raw:
        try:
            tui = TuiSettings.model_validate(raw["tui"])
        except ValidationError as error:
            where, message = _message(error)
            if where == "theme":
                message = "expected a theme name"
            at = lines.at("tui", *where.split(".")) if where else lines.at("tui")
            loaded.problems.append(f"{at}: [tui] {where}: {message}")
    keymap = raw.get("keymap", {})
    if not isinstance(keymap, dict):
        loaded.problems.append(f"{lines.at('keymap')}: keymap: must be a table ([keymap])")
        keymap = {}
    runners = _runner_entries(raw.get("runners", []), lines, loaded)
    loaded.settings = Settings(tui=tui, keymap=keymap, runners=tuple(runners))
    return loaded


def load_runners(path: Path | None = None) -> list[RunnerEntry]:
    """The configured runners; raises the file's first problem with them (one line)."""
    loaded = read_settings(path)
    for problem in loaded.problems:
        if ": invalid TOML: " in problem or ": cannot read: " in problem:
            raise InvalidInput(problem)
    if loaded.runner_problems:
        raise InvalidInput(loaded.runner_problems[0])
    return list(loaded.settings.runners)


def find_runner(name: str, path: Path | None = None) -> RunnerEntry:
    path = path or config_path()
    runners = load_runners(path)
    for entry in runners:
        if entry.name == name:
            return entry
    known = ", ".join(entry.name for entry in runners) or "none configured"
    raise NotFound(f"no runner named {name!r} in {path} (known: {known})")


def _raw_for_edit(path: Path) -> dict[str, Any]:
    """The file's TOML, after checking its runners can be edited (one line if not)."""
    load_runners(path)
    text = _read_text(path)
    return {} if text is None else _parse(path, text)


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
    found = entry.problem()
    if found is not None:
        raise InvalidInput(found[1])
    raw = _raw_for_edit(path)
    existing = raw.get("runners", [])
    if any(isinstance(item, dict) and item.get("name") == entry.name for item in existing):
        raise Conflict(f"a runner named {entry.name!r} already exists in {path}")
    item = entry.model_dump(exclude_none=True, exclude_defaults=True)
    item["name"], item["url"] = entry.name, entry.url
    if entry.kind != "shipdeck":
        item = {"kind": entry.kind, **item}
    raw.setdefault("runners", []).append(item)
    _write_raw(path, raw)
    return path


def remove_runner(name: str, path: Path | None = None) -> Path:
    path = path or config_path()
    raw = _raw_for_edit(path)
    existing = raw.get("runners", [])
    if not any(item.get("name") == name for item in existing):
        known = ", ".join(str(item.get("name")) for item in existing) or "none configured"
        raise NotFound(f"no runner named {name!r} in {path} (known: {known})")
    raw["runners"] = [item for item in existing if item.get("name") != name]
    _write_raw(path, raw)
    return path


def credential_env_names(path: Path | None = None) -> set[str]:
    """The environment variables holding shipdeck's own credentials: $SHIPDECK_TOKEN and the
    `token_env` of every configured runner. A config file that does not load still gives the
    names it can (its runners are then unusable anyway, but their tokens stay secret)."""
    names = {TOKEN_ENV}
    path = path or config_path()
    try:
        text = _read_text(path)
        raw = _parse(path, text) if text is not None else {}
    except InvalidInput:
        with contextlib.suppress(OSError):
            names.update(_TOKEN_ENV_KEY.findall(path.read_text(errors="replace")))
        return names
    runners = raw.get("runners")
    if isinstance(runners, dict):  # the old [runners.NAME] form
        runners = list(runners.values())
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


def check_private_file(path: Path, what: str) -> None:
    """Refuse a secret's file (`what`: "token file", ...) that is missing, or that anyone but
    its owner can read or write."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InvalidInput(f"{what} {path} does not exist") from None
    except OSError as error:
        raise InvalidInput(f"{what} {path}: {error.strerror}") from None
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise Refused(
            f"{what} {path} is accessible by others (mode {mode:04o}); run: chmod 600 {path}"
        )


def read_token_file(path: Path) -> str:
    """The token in `path`; refuses a file that anyone but its owner can read or write."""
    check_private_file(path, "token file")
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput(f"token file {path} is unreadable: {error}") from None
    if not token:
        raise InvalidInput(f"token file {path} is empty")
    if any(ch.isspace() for ch in token):
        raise InvalidInput(f"token file {path} must hold one token without spaces")
    return token
