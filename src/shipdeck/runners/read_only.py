"""ReadOnlyRunner: another runner with every action refused, for `shipdeck --read-only` and
for a configured runner with `read_only = true` (opened wrapped by `runners/connect.py`).

The wrapper is on the client's side, so it holds whatever the runner is (in process, the
workspace daemon, a remote server, an adapter): a person who adds `--read-only` to be safe
gets reads only, and every action says so in one line (Refused, exit 1) before anything is
sent."""

from __future__ import annotations

from typing import Any, NoReturn

from shipdeck import model as m
from shipdeck.errors import Refused
from shipdeck.model.capabilities import Capabilities
from shipdeck.runners.delegating import DelegatingRunner
from shipdeck.runners.protocol import Runner


class ReadOnlyRunner(DelegatingRunner):
    read_only = True

    def __init__(self, inner: Runner, *, because: str = "--read-only") -> None:
        """`because` ends the refusal: what made the runner read-only."""
        super().__init__(inner)
        self.because = because

    async def capabilities(self) -> Capabilities:
        return (await self.inner.capabilities()).read_only_copy()

    def _refuse(self, action: str) -> NoReturn:
        raise Refused(f"{action} refused: read-only mode ({self.because})")

    async def start_run(self, *args: Any, **kwargs: Any) -> m.Run:
        self._refuse("run")

    async def rerun(self, *args: Any, **kwargs: Any) -> m.Run:
        self._refuse("rerun")

    async def cancel(self, *args: Any, **kwargs: Any) -> m.Run:
        self._refuse("cancel")

    async def alias(self, *args: Any, **kwargs: Any) -> m.AliasMove:
        self._refuse("alias")

    async def deploy(self, *args: Any, **kwargs: Any) -> m.HistoryEntry:
        self._refuse("deploy")

    async def promote(self, *args: Any, **kwargs: Any) -> m.HistoryEntry:
        self._refuse("promote")

    async def rollback(self, *args: Any, **kwargs: Any) -> m.HistoryEntry:
        self._refuse("rollback")

    async def pause_schedule(self, *args: Any, **kwargs: Any) -> m.ScheduleAction:
        self._refuse("pause")

    async def resume_schedule(self, *args: Any, **kwargs: Any) -> m.ScheduleAction:
        self._refuse("resume")

    async def check_monitor(self, *args: Any, **kwargs: Any) -> m.MonitorCheck:
        self._refuse("check")

    async def ack_alert(self, *args: Any, **kwargs: Any) -> m.Alert:
        self._refuse("acknowledge")
