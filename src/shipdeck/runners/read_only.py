"""ReadOnlyRunner: another runner with every action refused, for `shipdeck --read-only` and
for a configured runner with `read_only = true` (opened wrapped by `runners/connect.py`).

The wrapper is on the client's side, so it holds whatever the runner is (in process, the
workspace daemon, a remote server, an adapter): a person who adds `--read-only` to be safe
gets reads only, and every action says so in one line (Refused, exit 1) before anything is
sent."""

from __future__ import annotations

from functools import partial
from typing import Any, NoReturn, TypeVar

from shipdeck.config import RunnerEntry
from shipdeck.errors import Refused
from shipdeck.model.capabilities import Capabilities
from shipdeck.runners.delegating import DelegatingRunner
from shipdeck.runners.protocol import Runner

REFUSED_ACTIONS = {
    "start_run": "run",
    "rerun": "rerun",
    "cancel": "cancel",
    "alias": "alias",
    "deploy": "deploy",
    "promote": "promote",
    "rollback": "rollback",
    "pause_schedule": "pause",
    "resume_schedule": "resume",
    "check_monitor": "check",
    "ack_alert": "acknowledge",
}
"""The methods of the Runner contract that change something, by the word their refusal
starts with (the CLI's: `pause refused: read-only mode (...)`). Every other method reads and
is the inner runner's."""

_Opened = TypeVar("_Opened", bound=Runner)


class ReadOnlyRunner(DelegatingRunner):
    read_only = True

    def __init__(self, inner: Runner, *, because: str = "--read-only") -> None:
        """`because` ends the refusal: what made the runner read-only."""
        super().__init__(inner)
        self.because = because

    async def capabilities(self) -> Capabilities:
        return (await self.inner.capabilities()).read_only_copy()

    def __getattr__(self, attribute: str) -> Any:
        action = REFUSED_ACTIONS.get(attribute)
        if action is None:
            return super().__getattr__(attribute)
        return partial(self._refuse, action)

    async def _refuse(self, action: str, *args: Any, **kwargs: Any) -> NoReturn:
        """An action method: whatever it is given, refused when awaited, as the method
        would be."""
        raise Refused(f"{action} refused: read-only mode ({self.because})")


def configured_read_only(entry: RunnerEntry, opened: _Opened) -> _Opened | ReadOnlyRunner:
    """The runner opened for a configured `entry`, held read-only when the entry says
    `read_only = true`."""
    if not entry.read_only:
        return opened
    return ReadOnlyRunner(opened, because=f"runner {entry.name} is read_only in the config")
