"""Which runner a command talks to: `--runner NAME|URL`, else the workspace daemon."""

from __future__ import annotations

import os
from collections.abc import Callable

from shipdeck.config import TOKEN_ENV, RunnerEntry, check_url, find_runner, runner_token
from shipdeck.errors import WorkspaceError
from shipdeck.model import WorkspaceSpec
from shipdeck.runners.daemon import attach, attach_lazily
from shipdeck.runners.protocol import Runner
from shipdeck.runners.read_only import configured_read_only
from shipdeck.runners.remote import RemoteRunner

IN_PROCESS_ENV = "SHIPDECK_IN_PROCESS"
"""Set to 1 to run pipelines inside the command itself instead of the workspace daemon."""


def in_process() -> bool:
    """Whether the workspace's runner is opened inside this process (IN_PROCESS_ENV=1)."""
    return os.environ.get(IN_PROCESS_ENV) == "1"


def is_url(spec: str) -> bool:
    return spec.startswith(("http://", "https://", "unix:"))


def _open_shipdeck(entry: RunnerEntry) -> Runner:
    return RemoteRunner(entry.url, token=runner_token(entry), name=entry.name)


def _open_mlflow(entry: RunnerEntry) -> Runner:
    from shipdeck.runners.mlflow.open import open_api
    from shipdeck.runners.mlflow.runner import MlflowRunner

    return MlflowRunner(open_api(entry))


def _open_prefect(entry: RunnerEntry) -> Runner:
    from shipdeck.config import PrefectEntry
    from shipdeck.runners.prefect.runner import PrefectRunner

    interval = entry.poll_interval if isinstance(entry, PrefectEntry) else 1.0
    basic = isinstance(entry, PrefectEntry) and entry.auth == "basic"
    return PrefectRunner(
        entry.url,
        name=entry.name,
        api_key=runner_token(entry),
        basic=basic,
        poll_interval=interval,
        live_logs=not isinstance(entry, PrefectEntry) or entry.live_logs,
    )


OPENERS: dict[str, Callable[[RunnerEntry], Runner]] = {
    "shipdeck": _open_shipdeck,
    "mlflow": _open_mlflow,
    "prefect": _open_prefect,
}
"""How to open a configured runner, by its kind (each kind in `shipdeck.config.RUNNER_KINDS`)."""


def open_entry(entry: RunnerEntry) -> Runner:
    """A client for one configured runner, of whatever kind it is (`read_only = true`: held
    in a ReadOnlyRunner)."""
    return configured_read_only(entry, OPENERS[entry.kind](entry))


def open_remote(spec: str) -> Runner:
    """A client for a configured runner name or a URL (its token from $SHIPDECK_TOKEN)."""
    if is_url(spec):
        check_url(spec)
        token = os.environ.get(TOKEN_ENV, "").strip() or None
        return RemoteRunner(spec, token=token, name=spec)
    return open_entry(find_runner(spec))


async def connect(
    workspace: WorkspaceSpec | None, runner: str | None, *, lazily: bool = False
) -> Runner:
    """`runner` (a configured name or a URL) if given, else the workspace's daemon.

    The daemon is started on demand, saying so on stderr; `lazily`, quietly by the first
    request instead (`attach_lazily`). With SHIPDECK_IN_PROCESS=1 the pipelines run inside
    this process instead (scripts and tests that want no daemon).
    """
    if runner:
        return open_remote(runner)
    if workspace is None:
        raise WorkspaceError(["no workspace here: pass -C DIR, or --runner NAME|URL"])
    if in_process():
        from shipdeck.runners.local import open_local_runner

        return await open_local_runner(workspace)
    if lazily:
        return await attach_lazily(workspace)
    return await attach(workspace)
