"""The `mlflow` runner kind: an MLflow tracking server behind shipdeck's Runner contract.

Experiments are pipelines, runs are runs (child runs are the parent's graph), metric
histories are metrics by step, the registry is the Models view, and alias moves go through
MLflow's alias API with shipdeck's record of them kept in MLflow (`alias_log`). MLflow is not
an executor: no triggering, rerunning, cancelling, no task logs, said in one line each.
Events come from polling (`watch`), at `POLL_INTERVAL` and backing off while offline.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Unpack

from shipdeck.errors import InvalidInput, NotFound
from shipdeck.model import (
    AliasMove,
    AliasMovedEvent,
    CompareSubject,
    Comparison,
    Event,
    EventPage,
    FailureStreak,
    ModelSummary,
    ModelVersion,
    PipelineSpec,
    Run,
    RunDetail,
    RunEvent,
    RunPage,
    VersionRegisteredEvent,
    known_direction,
)
from shipdeck.model.capabilities import Capabilities, Capability, EventDelivery
from shipdeck.model.compare import compare
from shipdeck.model.ids import run_label
from shipdeck.model.options import RUN_LIMIT, RunFilter
from shipdeck.runners.base import BaseRunner, compare_refs, version_ref
from shipdeck.runners.mlflow import alias_log, mapping
from shipdeck.runners.mlflow.api import FileInfo, MlflowApi, MlflowRun
from shipdeck.runners.mlflow.freshness import POLL_INTERVAL, Freshness
from shipdeck.runners.mlflow.registry import Registry
from shipdeck.runners.mlflow.runs import RUN_ID, RunReader
from shipdeck.runners.mlflow.watch import Changes, Watcher

NOT_AN_EXECUTOR = "MLflow is not an executor: it records runs that other programs make"
REASONS = {
    Capability.TRIGGER: NOT_AN_EXECUTOR,
    Capability.TRIGGER_PARAMS: NOT_AN_EXECUTOR,
    Capability.RERUN_ALL: NOT_AN_EXECUTOR,
    Capability.RERUN_FAILED: NOT_AN_EXECUTOR,
    Capability.RERUN_FROM: NOT_AN_EXECUTOR,
    Capability.RERUN_PREVIEW: NOT_AN_EXECUTOR,
    Capability.CANCEL: NOT_AN_EXECUTOR,
    Capability.LOGS: "MLflow keeps no task logs (a run's files are its artifacts)",
    Capability.LOG_SEARCH: "MLflow keeps no task logs (a run's files are its artifacts)",
    Capability.STATIC_DAG: "an MLflow experiment declares no tasks; a run's graph is its children",
    Capability.DEPLOYMENTS: "MLflow has no services: deploy its versions from a shipdeck service",
    Capability.SCHEDULES: "MLflow schedules nothing",
}
CAN = frozenset(
    {
        Capability.PIPELINES,
        Capability.METRICS,
        Capability.METRIC_STEPS,
        Capability.MODELS,
        Capability.ALIASES,
        Capability.FAILURES,
    }
)
KEPT_EVENTS = 2000
"""Events kept for followers that fall behind (a poll adds a handful)."""
FAILURE_SCAN = 100
"""Runs of an experiment looked at for its failure streak: the newest page."""
HISTORY_TTL = 30.0
"""Seconds a comparison's runs are read together when their details are asked after it."""


class MlflowRunner(BaseRunner):
    def __init__(self, api: MlflowApi, *, poll_interval: float = POLL_INTERVAL) -> None:
        self._name = api.name
        self.api = api
        self.poll_interval = poll_interval
        api.breaker.interval = poll_interval
        self.reader = RunReader(api)
        self.registry = Registry(api, self.reader)
        self._watcher = Watcher()
        self._events: deque[Event] = deque(maxlen=KEPT_EVENTS)
        self._seq = 0
        self._looked = 0.0
        self._look_lock = asyncio.Lock()
        self._batches: dict[str, Batch] = {}
        """Compared runs -> their comparison's batch: the first of them asked for its
        detail reads every one's histories at once."""
        self._capabilities = Capabilities(
            kind="mlflow",
            can=CAN,
            events=EventDelivery.POLL,
            poll_interval=poll_interval,
            reasons=REASONS,
        )

    async def capabilities(self) -> Capabilities:
        return self._capabilities

    @property
    def state(self) -> Freshness:
        """Live with "updated Ns ago", or offline with the one-line reason."""
        return self.api.breaker.state

    async def close(self) -> None:
        await self.api.close()

    # Pipelines and runs -----------------------------------------------------------------------

    async def pipelines(self) -> list[PipelineSpec]:
        return [mapping.pipeline(e) for e in await self.reader.experiments(fresh=True)]

    async def runs(self, **filters: Unpack[RunFilter]) -> list[Run]:
        found = await self.reader.search(**filters)
        names = await self.reader.names()
        return [
            mapping.run(r, names.get(r.info.experiment_id, r.info.experiment_id)) for r in found
        ]

    async def runs_page(self, **filters: Unpack[RunFilter]) -> RunPage:
        """A page and whether more follow: MLflow cannot count runs, and counting them would
        read every one, so `total` is this page's runs and one more when more follow
        (`exact` False then). Paging on (`before`) reads the next page only: the runs newer
        than it are not counted, so its total is never exact."""
        limit = filters.get("limit", RUN_LIMIT)
        one_more: RunFilter = {**filters, "limit": limit + 1}
        found = await self.runs(**one_more)
        more = len(found) > limit
        exact = not more and filters.get("before") is None
        return RunPage(runs=found[:limit], total=min(len(found), limit) + more, exact=exact)

    async def run(self, run_id: str) -> RunDetail:
        batch = self._batches.pop(run_id, None)
        if batch is not None and time.monotonic() - batch.at < HISTORY_TTL:
            if batch.task is None:
                batch.task = asyncio.ensure_future(self._read_batch(batch.runs))
            details = await batch.task
            if run_id in details:
                return details[run_id]
        found = await self._read(run_id)
        name, children, histories = await asyncio.gather(
            self.reader.experiment_name(found.info.experiment_id),
            self.reader.children(found),
            self.reader.histories(found),
        )
        return mapping.detail(found, name, children, histories)

    async def _read(self, run_id: str) -> MlflowRun:
        """The run, or NotFound naming it as every runner does (`no run #999`), with
        MLflow's own words."""
        try:
            return await self.api.run(run_id)
        except NotFound as missing:
            said = str(missing).removeprefix(f"runner {self._name} (mlflow): ")
            where = f"runner {self._name} (mlflow)"
            raise NotFound(f"{where}: no run {run_label(run_id)}: {said}") from missing

    async def resolve_run(self, ref: str) -> str:
        """`last`, `last:EXPERIMENT`, an MLflow run id or its first 8 (or more) hex digits."""
        text = ref.strip()
        if text == "last" or text.startswith("last:"):
            return str(await super().resolve_run(text))
        return await self.reader.resolve(text)

    async def check_run(self, run_id: str) -> None:
        await self._read(run_id)

    async def failures(self, *, limit: int = 20) -> list[FailureStreak]:
        """Per experiment, failed runs since its last finished one, within its newest 100."""
        experiments = await self.reader.experiments()
        pages = await asyncio.gather(
            *(self.api.runs([e.experiment_id], max_results=FAILURE_SCAN) for e in experiments)
        )
        streaks: list[FailureStreak] = []
        for experiment, page in zip(experiments, pages, strict=True):
            failed: list[MlflowRun] = []
            for found in page.items:
                if found.info.status in ("RUNNING", "SCHEDULED"):
                    continue
                if found.info.status != "FAILED":
                    break
                failed.append(found)
            if failed:
                newest = mapping.run(failed[0], experiment.name)
                streaks.append(FailureStreak(run=newest, count=len(failed)))
        streaks.sort(key=lambda s: s.run.created_at, reverse=True)
        return streaks[:limit]

    async def artifacts(self, run_id: str, path: str = "") -> list[FileInfo]:
        """A run's artifact list (one directory level)."""
        return await self.api.artifacts(run_id, path)

    # Events, by polling -------------------------------------------------------------------------

    async def last_seq(self) -> int:
        await self._look()
        return self._seq

    async def wait_events(self, after: int, *, wait: float = 15.0, limit: int = 5000) -> EventPage:
        deadline = time.monotonic() + wait
        if after > self._seq:
            return EventPage(events=[], last_seq=self._seq, reset=True)
        while True:
            await self._look()
            fresh = [event for event in self._events if event.seq > after]
            if fresh or time.monotonic() >= deadline:
                page = fresh[:limit]
                return EventPage(events=page, last_seq=page[-1].seq if page else self._seq)
            due = self._looked + self.api.breaker.delay() - time.monotonic()
            await asyncio.sleep(max(0.05, min(due, deadline - time.monotonic())))

    async def _look(self) -> None:
        """Look for changes when the last look is older than the poll delay (one at a time,
        shared by every follower), once the front end's reads in flight are answered (at most
        a poll interval later): a poll does not start in the middle of a view's loading."""
        async with self._look_lock:
            if self._looked and time.monotonic() - self._looked < self.api.breaker.delay():
                return
            await self.api.quiet(self.poll_interval)
            self._looked = time.monotonic()
            changes = await self._watcher.look(self.api)
            if changes:
                await self._publish(changes)

    async def _publish(self, changes: Changes) -> None:
        names = await self.reader.names()
        now = datetime.now(UTC)
        for found in changes.runs:
            name = names.get(found.info.experiment_id, found.info.experiment_id)
            self._seq += 1
            self._events.append(
                RunEvent(
                    seq=self._seq, ts=now, run_id=found.info.run_id, data=mapping.run(found, name)
                )
            )
        for version in changes.versions:
            self.registry.forget(version.name)
            self._seq += 1
            self._events.append(
                VersionRegisteredEvent(
                    seq=self._seq, ts=now, data=mapping.version(version, version.aliases, None)
                )
            )
        for record in changes.aliases:
            self.registry.forget(record.model)
            self._seq += 1
            self._events.append(AliasMovedEvent(seq=self._seq, ts=now, data=record.as_move()))

    # The registry -------------------------------------------------------------------------------

    async def models(self) -> list[ModelSummary]:
        return await self.registry.models()

    async def model_versions(self, model: str) -> list[ModelVersion]:
        return await self.registry.model_versions(model)

    async def alias(self, model: str, alias: str, version: str, *, reason: str = "") -> AliasMove:
        if not alias.strip() or alias.strip() != alias:
            raise InvalidInput(f"alias {alias!r}: expected a name like champion")
        number = await self.registry.version_number(model, version)
        record = await alias_log.move(self.api, model, alias, number, reason=reason)
        self.registry.forget(model)
        return record.as_move()

    async def alias_moves(self, model: str | None = None, *, limit: int = 200) -> list[AliasMove]:
        if model is not None:
            try:
                models = [await self.api.registered_model(model)]
            except NotFound:  # as every runner: no model, no moves
                return []
        else:
            models = await self.registry.registered_models()
        records = [record for m in models for record in alias_log.history(m)]
        records.sort(key=lambda r: r.at, reverse=True)
        return [record.as_move() for record in records[:limit]]

    async def compare(self, refs: list[str]) -> Comparison:
        compare_refs(refs)
        found = await asyncio.gather(*(self._subject(ref) for ref in refs))
        read = [run for _, run in found if run is not None]
        have = {run.info.run_id for run in read}
        missing = [s.run_id for s, run in found if run is None and s.run_id not in have]
        if missing:  # versions' source runs: one search for all of them
            read += list((await self.reader.by_ids(missing)).values())
        batch = Batch(time.monotonic(), read)
        self._batches.update((run.info.run_id, batch) for run in read)
        return compare([subject for subject, _ in found], known_direction)

    async def _subject(self, ref: str) -> tuple[CompareSubject, MlflowRun | None]:
        """A compare subject, and its run when it was read (a run reference)."""
        found = version_ref(ref)
        if found is None:
            text = ref.strip().removeprefix("#").lower()
            run_id = text if RUN_ID.match(text) else await self.resolve_run(ref)
            source = await self.api.run(run_id)
            subject = CompareSubject(
                label=mapping.label(run_id),
                run_id=run_id,
                params=dict(source.params),
                metrics=dict(source.metrics),
            )
            return subject, source
        model, ref_version = found
        version = await self.registry.version(model, ref_version)
        return CompareSubject.of_version(model, version), None

    async def _read_batch(self, read: list[MlflowRun]) -> dict[str, RunDetail]:
        """The compared runs' details with every metric's history, one request per metric for
        all of them (MLflow's bulk-interval endpoint), and their children in one search: the
        compare view asks for each run next. Read only when it does (a comparison made for
        the metric directions alone reads nothing more)."""
        runs = {run.info.run_id: run for run in read}
        keys = sorted({key for found in runs.values() for key in found.metrics})
        histories, children, names = await asyncio.gather(
            asyncio.gather(*(self.api.metric_histories(list(runs), key) for key in keys)),
            self.reader.children_of(list(runs.values())),
            self.reader.names(),
        )
        details: dict[str, RunDetail] = {}
        for run_id, found in runs.items():
            kids = children.get(run_id, [])
            values = [m for by_run in histories for m in by_run.get(run_id, [])]
            name = names.get(found.info.experiment_id, found.info.experiment_id)
            details[run_id] = mapping.detail(found, name, kids, values)
        return details


@dataclass
class Batch:
    """The runs one comparison read, and the reading of their details once asked for."""

    at: float
    runs: list[MlflowRun]
    task: asyncio.Future[dict[str, RunDetail]] | None = None
