"""DelegatingRunner: a runner that answers as another does; subclasses change a few answers.

Used for wrappers such as the frozen-clock runners of the snapshot tests: they override the
methods whose answers they rewrite and inherit the forwarding of the rest.
"""

from __future__ import annotations

from typing import Any

from shipdeck import model as m
from shipdeck.model.capabilities import Capabilities
from shipdeck.runners.base import BaseRunner
from shipdeck.runners.protocol import Runner


class DelegatingRunner(BaseRunner):
    """Forwards every method of the Runner contract to `inner`, arguments as given (each
    method's signature is the Runner protocol's)."""

    def __init__(self, inner: Runner) -> None:
        self.inner = inner

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def state(self) -> object | None:
        """The inner runner's connection state, if it keeps one (a remote runner's
        live/reconnecting/offline, an adapter's freshness): front ends read it beside the
        contract, and a wrapper must not hide it."""
        return getattr(self.inner, "state", None)

    async def capabilities(self) -> Capabilities:
        return await self.inner.capabilities()

    async def pipelines(self) -> list[m.PipelineSpec]:
        return await self.inner.pipelines()

    async def start_run(self, *args: Any, **kwargs: Any) -> m.Run:
        return await self.inner.start_run(*args, **kwargs)

    async def rerun(self, *args: Any, **kwargs: Any) -> m.Run:
        return await self.inner.rerun(*args, **kwargs)

    async def rerun_plan(self, *args: Any, **kwargs: Any) -> list[str]:
        return await self.inner.rerun_plan(*args, **kwargs)

    async def cancel(self, *args: Any, **kwargs: Any) -> m.Run:
        return await self.inner.cancel(*args, **kwargs)

    async def runs(self, *args: Any, **kwargs: Any) -> list[m.Run]:
        return await self.inner.runs(*args, **kwargs)

    async def runs_page(self, *args: Any, **kwargs: Any) -> m.RunPage:
        return await self.inner.runs_page(*args, **kwargs)

    async def failures(self, *args: Any, **kwargs: Any) -> list[m.FailureStreak]:
        return await self.inner.failures(*args, **kwargs)

    async def run(self, *args: Any, **kwargs: Any) -> m.RunDetail:
        return await self.inner.run(*args, **kwargs)

    async def resolve_run(self, *args: Any, **kwargs: Any) -> str:
        return await self.inner.resolve_run(*args, **kwargs)

    async def read_log(self, *args: Any, **kwargs: Any) -> m.LogChunk:
        return await self.inner.read_log(*args, **kwargs)

    async def search_log(self, *args: Any, **kwargs: Any) -> m.LogSearchPage:
        return await self.inner.search_log(*args, **kwargs)

    async def wait_events(self, *args: Any, **kwargs: Any) -> m.EventPage:
        return await self.inner.wait_events(*args, **kwargs)

    async def last_seq(self) -> int:
        return await self.inner.last_seq()

    async def wait_run(self, *args: Any, **kwargs: Any) -> m.Run:
        return await self.inner.wait_run(*args, **kwargs)

    async def close(self) -> None:
        await self.inner.close()

    async def models(self) -> list[m.ModelSummary]:
        return await self.inner.models()

    async def model_versions(self, *args: Any, **kwargs: Any) -> list[m.ModelVersion]:
        return await self.inner.model_versions(*args, **kwargs)

    async def alias(self, *args: Any, **kwargs: Any) -> m.AliasMove:
        return await self.inner.alias(*args, **kwargs)

    async def alias_moves(self, *args: Any, **kwargs: Any) -> list[m.AliasMove]:
        return await self.inner.alias_moves(*args, **kwargs)

    async def compare(self, *args: Any, **kwargs: Any) -> m.Comparison:
        return await self.inner.compare(*args, **kwargs)

    async def services(self) -> list[m.ServiceSpec]:
        return await self.inner.services()

    async def deployments(self) -> list[m.EnvironmentState]:
        return await self.inner.deployments()

    async def plan(self, *args: Any, **kwargs: Any) -> m.ActionPlan:
        return await self.inner.plan(*args, **kwargs)

    async def deploy(self, *args: Any, **kwargs: Any) -> m.HistoryEntry:
        return await self.inner.deploy(*args, **kwargs)

    async def promote(self, *args: Any, **kwargs: Any) -> m.HistoryEntry:
        return await self.inner.promote(*args, **kwargs)

    async def rollback(self, *args: Any, **kwargs: Any) -> m.HistoryEntry:
        return await self.inner.rollback(*args, **kwargs)

    async def history(self, *args: Any, **kwargs: Any) -> list[m.HistoryEntry]:
        return await self.inner.history(*args, **kwargs)

    async def schedules(self) -> m.ScheduleList:
        return await self.inner.schedules()

    async def pause_schedule(self, *args: Any, **kwargs: Any) -> m.ScheduleAction:
        return await self.inner.pause_schedule(*args, **kwargs)

    async def resume_schedule(self, *args: Any, **kwargs: Any) -> m.ScheduleAction:
        return await self.inner.resume_schedule(*args, **kwargs)

    async def health_checks(self, *args: Any, **kwargs: Any) -> list[m.HealthCheck]:
        return await self.inner.health_checks(*args, **kwargs)

    async def monitors(self) -> list[m.MonitorInfo]:
        return await self.inner.monitors()

    async def monitor_history(self, *args: Any, **kwargs: Any) -> list[m.MonitorCheck]:
        return await self.inner.monitor_history(*args, **kwargs)

    async def check_monitor(self, *args: Any, **kwargs: Any) -> m.MonitorCheck:
        return await self.inner.check_monitor(*args, **kwargs)

    async def alerts(self, *args: Any, **kwargs: Any) -> list[m.Alert]:
        return await self.inner.alerts(*args, **kwargs)

    async def ack_alert(self, *args: Any, **kwargs: Any) -> m.Alert:
        return await self.inner.ack_alert(*args, **kwargs)
