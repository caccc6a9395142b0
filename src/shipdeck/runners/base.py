"""BaseRunner: every method of the Runner contract, refusing with `Unsupported` until a runner
kind implements it, and the behaviour every kind shares.

A runner kind subclasses it, implements `capabilities()` and the methods its engine has, and
inherits: run references (`12`, `#12`, `last`, `last:PIPELINE`) over `runs()`, `runs_page`
from `runs`, `wait_run` by polling `run`, log reads paged and tailed (`read_log_pages`), and
compare references (`churn@v3` against a run reference).
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, Unpack

from shipdeck import model as m
from shipdeck.errors import InvalidInput, NotFound, Refused, Unsupported
from shipdeck.model.capabilities import Capabilities, Capability
from shipdeck.model.options import RUN_LIMIT, RunFilter

RERUN_NEEDS = {
    m.RerunMode.ALL: Capability.RERUN_ALL,
    m.RerunMode.FAILED: Capability.RERUN_FAILED,
    m.RerunMode.FROM: Capability.RERUN_FROM,
}
COUNT_PAGE = 500
"""Runs per request when `runs_page` counts matches through `runs`."""
MAX_COMPARED = 12
WAIT_POLL = 1.0
"""Seconds between looks at a run in `wait_run`, for a runner whose events are not pushed."""


class BaseRunner(ABC):
    """A Runner that can do nothing until its subclass says (and implements) what it can.

    The methods a subclass implements take the signatures of the Runner protocol
    (runners/protocol.py, where each is documented); the fallbacks here accept any arguments
    and raise Unsupported, naming the capability the runner lacks."""

    _name: str
    read_only: bool = False
    """Refuse every change (`_check_writable`); reflected in `capabilities()` by subclasses."""

    @property
    def name(self) -> str:
        return self._name

    @abstractmethod
    async def capabilities(self) -> Capabilities:
        """What this runner can do (implementations cache it)."""

    async def unsupported(self, what: Capability) -> NoReturn:
        """Raise Unsupported saying why this runner cannot do `what`."""
        capabilities = await self.capabilities()
        raise Unsupported(capabilities.why_not(what, self.name))

    def _check_writable(self, action: str) -> None:
        if self.read_only:
            raise Refused(f"runner {self.name} is read-only: cannot {action}")

    # Pipelines and runs ---------------------------------------------------------------------

    async def pipelines(self) -> list[m.PipelineSpec]:
        await self.unsupported(Capability.PIPELINES)

    async def start_run(self, *args: Any, **kwargs: Any) -> m.Run:
        await self.unsupported(Capability.TRIGGER)

    async def rerun(self, *args: Any, **kwargs: Any) -> m.Run:
        mode = kwargs.get("mode", args[1] if len(args) > 1 else m.RerunMode.ALL)
        await self.unsupported(RERUN_NEEDS[m.RerunMode(mode)])

    async def rerun_plan(self, *args: Any, **kwargs: Any) -> list[str]:
        await self.unsupported(Capability.RERUN_PREVIEW)

    async def cancel(self, *args: Any, **kwargs: Any) -> m.Run:
        await self.unsupported(Capability.CANCEL)

    async def runs(self, *args: Any, **kwargs: Any) -> list[m.Run]:
        await self.unsupported(Capability.PIPELINES)

    async def runs_page(self, **filters: Unpack[RunFilter]) -> m.RunPage:
        """`runs()`, and the count of every match found by paging through `runs()` from the
        newest (for a runner whose backend cannot count)."""
        page = await self.runs(**filters)
        if filters.get("before") is None and len(page) < filters.get("limit", RUN_LIMIT):
            return m.RunPage(runs=page, total=len(page))
        total, older = 0, None
        while True:
            counting: RunFilter = {**filters, "limit": COUNT_PAGE, "before": older}
            counted = await self.runs(**counting)
            total += len(counted)
            if len(counted) < COUNT_PAGE:
                return m.RunPage(runs=page, total=total)
            older = counted[-1].id

    async def failures(self, *args: Any, **kwargs: Any) -> list[m.FailureStreak]:
        await self.unsupported(Capability.FAILURES)

    async def run(self, *args: Any, **kwargs: Any) -> m.RunDetail:
        await self.unsupported(Capability.PIPELINES)

    async def resolve_run(self, ref: str) -> str:
        """`42`, `#42`, `last`, or `last:PIPELINE` (the newest run of that pipeline)."""
        text = ref.strip()
        if text == "last" or text.startswith("last:"):
            pipeline = text.removeprefix("last").removeprefix(":") or None
            if text == "last:":
                raise InvalidInput(f"run reference {ref!r}: expected last:PIPELINE")
            newest = await self.runs(pipeline=pipeline, limit=1)
            if not newest:
                if pipeline is not None:
                    await self.check_pipeline(pipeline)
                where = f" of pipeline {pipeline!r}" if pipeline else ""
                raise NotFound(f"there are no runs{where} yet")
            return newest[0].id
        run_id = self.run_id_of(text.removeprefix("#"), ref)
        await self.check_run(run_id)
        return run_id

    def run_id_of(self, text: str, ref: str) -> str:
        """The run id that reference `ref` names (`text` is it without its `#`): the id as
        it is, for a runner whose ids are opaque; runners with numbered runs refuse others."""
        if not text or not text.isprintable():
            raise InvalidInput(f"run reference {ref!r}: expected a run id, #N or 'last'")
        return text

    async def check_pipeline(self, name: str) -> None:
        """Raise NotFound unless `name` is a pipeline of this runner (`last:NAME` with no runs:
        a known pipeline has none yet, an unknown name is a typo)."""
        known = [p.name for p in await self.pipelines()]
        if name not in known:
            names = ", ".join(known) or "none"
            raise NotFound(f"no pipeline {name!r} on runner {self.name} (pipelines: {names})")

    async def check_run(self, run_id: str) -> None:
        """Raise NotFound unless the run exists."""
        await self.run(run_id)

    async def wait_run(self, run_id: str) -> m.Run:
        """Block until the run has finished: looks at it every WAIT_POLL seconds (or the
        runner's poll interval)."""
        delay = (await self.capabilities()).poll_interval or WAIT_POLL
        while True:
            run = (await self.run(run_id)).run
            if run.status.finished:
                return run
            await asyncio.sleep(delay)

    # Logs -------------------------------------------------------------------------------------

    async def read_log(self, *args: Any, **kwargs: Any) -> m.LogChunk:
        await self.unsupported(Capability.LOGS)

    async def search_log(self, *args: Any, **kwargs: Any) -> m.LogSearchPage:
        await self.unsupported(Capability.LOG_SEARCH)

    # Events -----------------------------------------------------------------------------------

    async def wait_events(self, *args: Any, **kwargs: Any) -> m.EventPage:
        raise Unsupported(f"runner {self.name} has no event feed")

    async def last_seq(self) -> int:
        raise Unsupported(f"runner {self.name} has no event feed")

    async def close(self) -> None:
        return None

    # Models ------------------------------------------------------------------------------------

    async def models(self) -> list[m.ModelSummary]:
        await self.unsupported(Capability.MODELS)

    async def model_versions(self, *args: Any, **kwargs: Any) -> list[m.ModelVersion]:
        await self.unsupported(Capability.MODELS)

    async def alias(self, *args: Any, **kwargs: Any) -> m.AliasMove:
        await self.unsupported(Capability.ALIASES)

    async def alias_moves(self, *args: Any, **kwargs: Any) -> list[m.AliasMove]:
        await self.unsupported(Capability.ALIASES)

    async def compare(self, *args: Any, **kwargs: Any) -> m.Comparison:
        await self.unsupported(Capability.MODELS)

    async def run_subject(self, ref: str) -> m.CompareSubject:
        """A run reference as a compare subject: its params and final metrics."""
        detail = await self.run(await self.resolve_run(ref))
        return m.CompareSubject(
            label=detail.run.label,
            run_id=detail.run.id,
            params=detail.run.params,
            metrics=detail.final_metrics(),
            lineage=detail.lineage,
        )

    # Deployments -------------------------------------------------------------------------------

    async def services(self) -> list[m.ServiceSpec]:
        await self.unsupported(Capability.DEPLOYMENTS)

    async def deployments(self) -> list[m.EnvironmentState]:
        await self.unsupported(Capability.DEPLOYMENTS)

    async def plan(self, *args: Any, **kwargs: Any) -> m.ActionPlan:
        await self.unsupported(Capability.DEPLOYMENTS)

    async def deploy(self, *args: Any, **kwargs: Any) -> m.HistoryEntry:
        await self.unsupported(Capability.DEPLOYMENTS)

    async def promote(self, *args: Any, **kwargs: Any) -> m.HistoryEntry:
        await self.unsupported(Capability.DEPLOYMENTS)

    async def rollback(self, *args: Any, **kwargs: Any) -> m.HistoryEntry:
        await self.unsupported(Capability.DEPLOYMENTS)

    async def history(self, *args: Any, **kwargs: Any) -> list[m.HistoryEntry]:
        await self.unsupported(Capability.DEPLOYMENTS)

    # Schedules ---------------------------------------------------------------------------------

    async def schedules(self) -> m.ScheduleList:
        await self.unsupported(Capability.SCHEDULES)

    async def pause_schedule(self, *args: Any, **kwargs: Any) -> m.ScheduleAction:
        await self.unsupported(Capability.SCHEDULES)

    async def resume_schedule(self, *args: Any, **kwargs: Any) -> m.ScheduleAction:
        await self.unsupported(Capability.SCHEDULES)

    async def health_checks(self, *args: Any, **kwargs: Any) -> list[m.HealthCheck]:
        await self.unsupported(Capability.DEPLOYMENTS)

    # Monitors ----------------------------------------------------------------------------------

    async def monitors(self) -> list[m.MonitorInfo]:
        await self.unsupported(Capability.MONITORS)

    async def monitor_history(self, *args: Any, **kwargs: Any) -> list[m.MonitorCheck]:
        await self.unsupported(Capability.MONITORS)

    async def check_monitor(self, *args: Any, **kwargs: Any) -> m.MonitorCheck:
        await self.unsupported(Capability.MONITORS)

    async def alerts(self, *args: Any, **kwargs: Any) -> list[m.Alert]:
        await self.unsupported(Capability.MONITORS)

    async def ack_alert(self, *args: Any, **kwargs: Any) -> m.Alert:
        await self.unsupported(Capability.MONITORS)


def compare_refs(refs: list[str]) -> None:
    """Raise InvalidInput unless `refs` is something to compare: two to MAX_COMPARED."""
    if len(refs) < 2:
        raise InvalidInput("compare needs at least two runs or model versions")
    if len(refs) > MAX_COMPARED:
        raise InvalidInput(f"compare takes at most {MAX_COMPARED} at once, got {len(refs)}")


def version_ref(ref: str) -> tuple[str, str] | None:
    """`MODEL@VERSION` (`churn@v3`, `churn@champion`) as (model, version); None for a run
    reference; InvalidInput for a half-written one (`churn@`, `@v3`)."""
    model, at, version = ref.partition("@")
    if not at:
        return None
    if not model or not version:
        raise InvalidInput(f"bad reference {ref!r}: expected MODEL@VERSION like churn@v3")
    return model, version


LogFetch = Callable[[int, int], Awaitable[m.LogChunk]]
"""Reads lines [start, start+limit) of one task's log (start may be negative: from the end)."""


async def read_log_pages(
    fetch: LogFetch, *, start: int = 0, limit: int | None = 1000, page: int = 10_000
) -> m.LogChunk:
    """A log read of any size as reads of at most `page` lines each, so no single answer grows
    without bound. A negative `start` (a tail) is answered by the first read, which says where
    it began; the following reads go on from there."""
    first = page if limit is None else min(page, limit)
    chunk = await fetch(start, first)
    lines = list(chunk.lines)
    if len(chunk.lines) < first:
        return chunk
    while limit is None or len(lines) < limit:
        wanted = page if limit is None else min(page, limit - len(lines))
        following = await fetch(chunk.start + len(lines), wanted)
        lines.extend(following.lines)
        chunk = chunk.model_copy(update={"total": following.total, "finished": following.finished})
        if len(following.lines) < wanted:
            break
    return chunk.model_copy(update={"lines": lines})
