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
from functools import partial
from typing import Any, NoReturn, Unpack

from shipdeck import model as m
from shipdeck.errors import InvalidInput, NotFound, Unsupported
from shipdeck.model.capabilities import Capabilities, Capability
from shipdeck.model.options import RUN_LIMIT, RunFilter

RERUN_NEEDS = {
    m.RerunMode.ALL: Capability.RERUN_ALL,
    m.RerunMode.FAILED: Capability.RERUN_FAILED,
    m.RerunMode.FROM: Capability.RERUN_FROM,
}
UNSUPPORTED_WITHOUT: dict[Capability, tuple[str, ...]] = {
    Capability.PIPELINES: ("pipelines", "runs", "run"),
    Capability.TRIGGER: ("start_run",),
    Capability.RERUN_PREVIEW: ("rerun_plan",),
    Capability.CANCEL: ("cancel",),
    Capability.FAILURES: ("failures",),
    Capability.LOGS: ("read_log",),
    Capability.LOG_SEARCH: ("search_log",),
    Capability.MODELS: ("models", "model_versions", "compare"),
    Capability.ALIASES: ("alias", "alias_moves"),
    Capability.DEPLOYMENTS: (
        "services",
        "deployments",
        "plan",
        "deploy",
        "promote",
        "rollback",
        "history",
        "health_checks",
    ),
    Capability.SCHEDULES: ("schedules", "pause_schedule", "resume_schedule"),
    Capability.MONITORS: ("monitors", "monitor_history", "check_monitor", "alerts", "ack_alert"),
}
"""The methods of the Runner contract a runner kind may leave out, by the capability it then
lacks: until it implements one, the method raises Unsupported saying why (`why_not`)."""
NEEDS = {method: what for what, methods in UNSUPPORTED_WITHOUT.items() for method in methods}
COUNT_PAGE = 500
"""Runs per request when `runs_page` counts matches through `runs`."""
MAX_COMPARED = 12
WAIT_POLL = 1.0
"""Seconds between looks at a run in `wait_run`, for a runner whose events are not pushed."""


class BaseRunner(ABC):
    """A Runner that can do nothing until its subclass says (and implements) what it can.

    The methods a subclass implements take the signatures of the Runner protocol
    (runners/protocol.py, where each is documented); a method of UNSUPPORTED_WITHOUT it does
    not implement accepts any arguments and raises Unsupported, naming the capability the
    runner lacks (found by `__getattr__`: to mypy, as at run time, every subclass is a
    Runner, checked against the protocol wherever it is used as one)."""

    _name: str

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

    def __getattr__(self, attribute: str) -> Any:
        what = NEEDS.get(attribute)
        if what is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {attribute!r}")
        return partial(self._unsupported_method, what)

    async def _unsupported_method(self, what: Capability, *args: Any, **kwargs: Any) -> NoReturn:
        await self.unsupported(what)

    # Pipelines and runs ---------------------------------------------------------------------

    async def rerun(self, *args: Any, **kwargs: Any) -> m.Run:
        mode = kwargs.get("mode", args[1] if len(args) > 1 else m.RerunMode.ALL)
        await self.unsupported(RERUN_NEEDS[m.RerunMode(mode)])

    async def runs_page(self, **filters: Unpack[RunFilter]) -> m.RunPage:
        """`runs()`, and the count of every match found by paging through `runs()` from the
        newest (for a runner whose backend cannot count)."""
        page: list[m.Run] = await self.runs(**filters)
        if filters.get("before") is None and len(page) < filters.get("limit", RUN_LIMIT):
            return m.RunPage(runs=page, total=len(page))
        total, older = 0, None
        while True:
            counting: RunFilter = {**filters, "limit": COUNT_PAGE, "before": older}
            counted: list[m.Run] = await self.runs(**counting)
            total += len(counted)
            if len(counted) < COUNT_PAGE:
                return m.RunPage(runs=page, total=total)
            older = counted[-1].id

    async def resolve_run(self, ref: str) -> str:
        """`42`, `#42`, `last`, or `last:PIPELINE` (the newest run of that pipeline)."""
        text = ref.strip()
        if text == "last" or text.startswith("last:"):
            pipeline = text.removeprefix("last").removeprefix(":") or None
            if text == "last:":
                raise InvalidInput(f"run reference {ref!r}: expected last:PIPELINE")
            newest: list[m.Run] = await self.runs(pipeline=pipeline, limit=1)
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
            detail: m.RunDetail = await self.run(run_id)
            run = detail.run
            if run.status.finished:
                return run
            await asyncio.sleep(delay)

    # Events -----------------------------------------------------------------------------------

    async def wait_events(self, *args: Any, **kwargs: Any) -> m.EventPage:
        raise Unsupported(f"runner {self.name} has no event feed")

    async def last_seq(self) -> int:
        raise Unsupported(f"runner {self.name} has no event feed")

    async def close(self) -> None:
        return None

    # Compare -----------------------------------------------------------------------------------

    async def run_subject(self, ref: str) -> m.CompareSubject:
        """A run reference as a compare subject: its params and final metrics."""
        detail: m.RunDetail = await self.run(await self.resolve_run(ref))
        return m.CompareSubject(
            label=detail.run.label,
            run_id=detail.run.id,
            params=detail.run.params,
            metrics=detail.final_metrics(),
            lineage=detail.lineage,
        )


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
