"""The `prefect` runner kind: a Prefect server as a shipdeck runner.

Deployments are pipelines, flow runs are runs, their task runs and subflows the tasks (only
those that ran: Prefect has no DAG before a run), logs are read by range, searched and
followed; a deployment is triggered with checked params, a finished flow run retried (Prefect
runs the whole flow again, in the same flow run) and a running one cancelled. Changes come by
polling (see `poller`), log lines of running runs also from the server's live socket when
it publishes them (see `live`). Mapping: `mapping`; logs: `logs`; the REST calls: `api`.
"""

from __future__ import annotations

import asyncio
import re
from collections import OrderedDict
from datetime import datetime
from typing import Unpack

from shipdeck import model as m
from shipdeck.errors import InvalidInput, NotFound, Refused
from shipdeck.model.capabilities import Capabilities, Capability, EventDelivery
from shipdeck.model.events import EventKind, LogData
from shipdeck.model.ids import run_label
from shipdeck.runners.base import BaseRunner, read_log_pages
from shipdeck.runners.prefect import live, mapping, states
from shipdeck.runners.prefect import logs as log_text
from shipdeck.runners.prefect.api import Connection, FlowRun, Graph, PrefectApi
from shipdeck.runners.prefect.api import TaskRun as PrefectTaskRun
from shipdeck.runners.prefect.feed import Feed
from shipdeck.runners.prefect.live import LiveLogs
from shipdeck.runners.prefect.logs import LogKey, LogStore
from shipdeck.runners.prefect.params import check_params
from shipdeck.runners.prefect.poller import POLL_INTERVAL, Hooks, Poller

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
RUNS_SCAN = 2000
"""At most this many newest flow runs are looked through for a text filter (Prefect's API
filters by name, state, deployment and tags, not by shipdeck's words)."""
TASK_DETAILS = 200
"""At most this many task runs of a run are read for their attempts and reasons."""
TASK_NAMES = 50_000
"""Task run names remembered (for log events), newest kept."""
FAILURE_DEPTH = 50
"""Finished runs per deployment looked at for a failure streak."""
CANCELLED_HERE = "cancelled from shipdeck"


def capabilities_of(interval: float) -> Capabilities:
    can = {
        Capability.PIPELINES,
        Capability.TRIGGER,
        Capability.TRIGGER_PARAMS,
        Capability.RERUN_ALL,
        Capability.RERUN_PREVIEW,
        Capability.CANCEL,
        Capability.LOGS,
        Capability.LOG_SEARCH,
        Capability.FAILURES,
    }
    return Capabilities(
        kind="prefect",
        can=frozenset(can),
        events=EventDelivery.POLL,
        poll_interval=interval,
        reasons={
            Capability.STATIC_DAG: "Prefect knows a flow's tasks only once they have run",
            Capability.RERUN_FAILED: "Prefect retries a flow run as a whole, not its failed tasks",
            Capability.RERUN_FROM: "Prefect retries a flow run as a whole, not from a task",
            Capability.METRICS: "Prefect does not record metrics",
            Capability.METRIC_STEPS: "Prefect does not record metrics",
            Capability.MODELS: "Prefect has no model registry",
            Capability.ALIASES: "Prefect has no model registry",
            Capability.DEPLOYMENTS: "Prefect deployments are shipdeck's pipelines here, not"
            " services to deploy",
            Capability.SCHEDULES: "Prefect's schedules are managed in Prefect",
        },
    )


class PrefectRunner(BaseRunner):
    def __init__(
        self,
        url: str,
        *,
        name: str,
        poll_interval: float = POLL_INTERVAL,
        live_logs: bool = True,
        **connection: Unpack[Connection],
    ) -> None:
        self._name = name
        self.url = url
        self.api = PrefectApi(url, name=name, **connection)
        self.names = mapping.Names()
        self._capabilities = capabilities_of(poll_interval)
        self._logs = LogStore(self.api, on_added=self._publish_lines)
        self._due: OrderedDict[str, datetime | None] = OrderedDict()
        """When the last run of each page listed was due: the next page starts before it."""
        self._task_names: OrderedDict[str, str] = OrderedDict()
        """Task run id -> its name in the run's tasks (for log events)."""
        self._task_ids: dict[str, dict[str, str]] = {}
        """Per flow run: task name -> task run id, from its last graph read."""
        self._labels: dict[str, str] = {}
        """Flow run id -> name, for subflows' parents."""
        self.feed = Feed()
        self.poller = Poller(
            self.api,
            self.feed,
            Hooks(
                run=self._runs_of,
                task=self._task_of,
                logs=self._follow_logs,
                landed=self._logs_landed,
            ),
            poll_interval,
        )
        self._live: LiveLogs | None = None
        if live_logs:
            self._live = LiveLogs(
                url,
                token=self.api.api_key,
                headers=self.api.headers,
                sync=self._sync_live,
                received=self._logs.add_live,
                idle=max(live.IDLE, 5 * poll_interval),
            )

    async def capabilities(self) -> Capabilities:
        return self._capabilities

    # Names ------------------------------------------------------------------------------------

    async def _learn(self, runs: list[FlowRun]) -> None:
        flows, deployments = self.names.missing(runs)
        if deployments:
            await self._load_deployments()
        flows -= set(self.names.flows)
        if flows:
            for flow in await self.api.flows(sorted(flows)):
                self.names.flows[flow.id] = flow.name

    async def _load_deployments(self) -> list[m.PipelineSpec]:
        found = []
        offset = 0
        while True:
            page = await self.api.deployments(offset=offset)
            found.extend(page)
            if len(page) < 100:
                break
            offset += len(page)
        self.names.deployments = {d.id: d for d in found}
        missing = sorted({d.flow_id for d in found} - set(self.names.flows))
        for flow in await self.api.flows(missing):
            self.names.flows[flow.id] = flow.name
        specs = [mapping.pipeline(d, self.names.flows.get(d.flow_id, d.flow_id)) for d in found]
        return sorted(specs, key=lambda spec: spec.name)

    async def _runs_of(self, runs: list[FlowRun]) -> list[m.Run]:
        await self._learn(runs)
        parents = await self._parents(runs)
        return [mapping.run(run, self.names, parent=parents.get(run.id)) for run in runs]

    async def _parents(self, runs: list[FlowRun]) -> dict[str, str]:
        """Subflow run id -> its parent flow run's name."""
        found: dict[str, str] = {}
        for run in runs:
            if run.parent_task_run_id is None:
                continue
            task_run = await self.api.task_run(run.parent_task_run_id)
            parent_id = task_run.flow_run_id
            if parent_id is None:
                continue
            if parent_id not in self._labels:
                for parent in await self.api.flow_runs_by_id([parent_id]):
                    self._labels[parent_id] = parent.name
            found[run.id] = self._labels.get(parent_id, parent_id)
        return found

    # Pipelines and runs -------------------------------------------------------------------------

    async def pipelines(self) -> list[m.PipelineSpec]:
        return await self._load_deployments()

    async def _deployment(self, pipeline: str) -> tuple[str, str]:
        """(deployment id, flow name) of the pipeline `FLOW/DEPLOYMENT`, or `FLOW` when that
        flow has one deployment."""
        known = self.names.by_pipeline(pipeline)
        if known is not None:
            return known
        specs = await self.pipelines()
        known = self.names.by_pipeline(pipeline)
        if known is not None:
            return known
        names = ", ".join(spec.name for spec in specs) or "none"
        flow, slash, _ = pipeline.partition("/")
        choices = [spec.name for spec in specs if spec.name.startswith(f"{flow}/")]
        if not slash and len(choices) > 1:
            raise InvalidInput(
                f"pipeline {pipeline!r} is a flow with {len(choices)} deployments: name one"
                f" ({', '.join(choices)})"
            )
        raise NotFound(f"no pipeline {pipeline!r} on runner {self.name} (pipelines: {names})")

    async def _where(self, pipeline: str | None) -> dict[str, list[str]] | None:
        """The flow run filter for a recorded pipeline name: `FLOW/DEPLOYMENT` that
        deployment's runs, `FLOW` that flow's runs without a deployment (None: there are
        none)."""
        if pipeline is None:
            return {}
        if "/" not in pipeline:
            return {"flow_names": [pipeline]}
        try:
            return {"deployment_ids": [(await self._deployment(pipeline))[0]]}
        except NotFound:
            return None

    async def start_run(
        self, pipeline: str, params: dict[str, str] | None = None, **launch: Unpack[m.Launch]
    ) -> m.Run:
        deployment_id, _ = await self._deployment(pipeline)
        deployment = self.names.deployments[deployment_id]
        values = check_params(
            pipeline,
            deployment.parameter_openapi_schema,
            deployment.parameters,
            dict(params or {}),
        )
        tags = ["shipdeck", f"{mapping.TRIGGER_TAG}{launch.get('trigger', m.TRIGGER)}"]
        flow_run = await self.api.create_flow_run(deployment_id, values, tags=tags)
        return (await self._runs_of([flow_run]))[0]

    def _check_id(self, run_id: str) -> None:
        if not _UUID.match(run_id):
            raise NotFound(f"runner {self.name} has no run {run_label(run_id)}")

    async def _flow_run(self, run_id: str) -> FlowRun:
        self._check_id(run_id)
        return await self.api.flow_run(run_id)

    async def rerun(
        self, run_id: str, mode: m.RerunMode = m.RerunMode.ALL, **options: Unpack[m.RerunOptions]
    ) -> m.Run:
        if m.RerunMode(mode) is not m.RerunMode.ALL:
            await super().rerun(run_id, mode, **options)
        flow_run = await self._flow_run(run_id)
        if flow_run.state_type not in states.FINAL:
            raise Refused(
                f"runner {self.name}: run {flow_run.name} has not finished"
                f" ({(flow_run.state_name or flow_run.state_type or '').lower()}):"
                " cancel it first"
            )
        await self.api.retry(run_id)
        return (await self._runs_of([await self.api.flow_run(run_id)]))[0]

    async def rerun_plan(
        self, run_id: str, mode: m.RerunMode = m.RerunMode.ALL, *, from_task: str | None = None
    ) -> list[str]:
        """Every task: Prefect retries the whole flow run (the same run, its run count one
        more), and which tasks it runs is decided by the flow's code as it runs."""
        if m.RerunMode(mode) is not m.RerunMode.ALL:
            await super().rerun(run_id, mode, from_task=from_task)
        detail = await self.run(run_id)
        return [task.name for task in detail.tasks]

    async def cancel(self, run_id: str) -> m.Run:
        flow_run = await self._flow_run(run_id)
        if flow_run.state_type in states.FINAL:
            raise Refused(
                f"runner {self.name}: run {flow_run.name} has already finished"
                f" ({(flow_run.state_type or '').lower()})"
            )
        if flow_run.state_type in states.WAITING:
            # Not started: nothing to stop, and no worker would ever move it on.
            await self.api.set_state(run_id, "CANCELLED", "Cancelled", CANCELLED_HERE)
        else:
            await self.api.cancel(run_id, CANCELLED_HERE)
        (run,) = await self._runs_of([await self.api.flow_run(run_id)])
        # Told now: the worker may stop the run before the next poll sees it cancelling.
        self.poller.told(run.id)
        self.feed.publish(EventKind.RUN, run, run_id=run.id)
        return run

    async def runs(self, **filters: Unpack[m.RunFilter]) -> list[m.Run]:
        where = await self._where(filters.get("pipeline"))
        if where is None:
            return []
        state_types = self._state_types(filters)
        words = (filters.get("text") or "").lower().split()
        limit, before = filters.get("limit", m.RUN_LIMIT), filters.get("before")
        # A page `before` a run starts with that run (the filter includes its instant).
        size = 200 if words else limit + (before is not None)
        older_than = None
        if before is not None:
            older_than = self._due.get(before) or (await self._flow_run(before)).expected_start_time
        found: list[m.Run] = []
        offset = 0
        while len(found) < limit and offset < RUNS_SCAN:
            page = await self.api.flow_runs(
                deployment_ids=where.get("deployment_ids"),
                flow_names=where.get("flow_names"),
                state_types=state_types,
                expected_before=older_than,
                offset=offset,
                limit=size,
            )
            offset += len(page)
            rows = page
            for row in page[-1:]:  # where the next page (`before` it) starts
                self._due[row.id] = row.expected_start_time
                while len(self._due) > 1000:
                    self._due.popitem(last=False)
            if before is not None:
                # The filter includes runs due at the same instant: keep those after it.
                ids = [run.id for run in rows]
                rows = rows[ids.index(before) + 1 :] if before in ids else rows
            mapped = await self._runs_of(rows)
            reasons = await self._reasons(rows) if words else {}
            found.extend(
                run
                for run, row in zip(mapped, rows, strict=True)
                if _matches(run, words, reasons.get(row.id))
            )
            if len(page) < size:
                break
        return found[:limit]

    async def _reasons(self, rows: list[FlowRun]) -> dict[str, str]:
        """Why each run ended as it did: its state's message and its failed tasks' (one
        request for the page's failed runs)."""
        found = {row.id: row.state.message or "" for row in rows if row.state is not None}
        failed = [row.id for row in rows if row.state_type in ("FAILED", "CRASHED")]
        for task_run in await self.api.task_runs_of(failed, state_types=["FAILED", "CRASHED"]):
            message = task_run.state.message if task_run.state else None
            if task_run.flow_run_id and message:
                found[task_run.flow_run_id] = f"{found.get(task_run.flow_run_id, '')} {message}"
        return found

    async def runs_page(self, **filters: Unpack[m.RunFilter]) -> m.RunPage:
        if filters.get("text"):
            return await super().runs_page(**filters)
        found = await self.runs(**filters)
        where = await self._where(filters.get("pipeline"))
        if where is None:
            return m.RunPage(runs=[], total=0)
        total = await self.api.count_flow_runs(
            deployment_ids=where.get("deployment_ids"),
            flow_names=where.get("flow_names"),
            state_types=self._state_types(filters),
        )
        return m.RunPage(runs=found, total=total)

    @staticmethod
    def _state_types(filters: m.RunFilter) -> list[str] | None:
        status = filters.get("status")
        return states.state_types(status) if status is not None else None

    async def failures(self, *, limit: int = 20) -> list[m.FailureStreak]:
        await self._load_deployments()

        async def streak(deployment_id: str) -> m.FailureStreak | None:
            finished = await self.api.flow_runs(
                deployment_ids=[deployment_id],
                state_types=sorted(states.FINAL),
                limit=FAILURE_DEPTH,
            )
            count = 0
            for flow_run in finished:
                if flow_run.state_type in ("FAILED", "CRASHED"):
                    count += 1
                elif flow_run.state_type == "COMPLETED":
                    break
            failed = [r for r in finished if r.state_type in ("FAILED", "CRASHED")]
            if not count or not failed:
                return None
            (newest,) = await self._runs_of([failed[0]])
            return m.FailureStreak(run=newest, count=count)

        found = await asyncio.gather(*(streak(d) for d in self.names.deployments))
        streaks = [item for item in found if item is not None]
        streaks.sort(key=lambda item: item.run.created_at, reverse=True)
        return streaks[:limit]

    async def _detail(self, run_id: str) -> tuple[FlowRun, m.RunDetail]:
        self._check_id(run_id)
        flow_run, graph = await asyncio.gather(self.api.flow_run(run_id), self.api.graph(run_id))
        # Attempts and reasons from the task runs that did not simply complete (the graph has
        # only states): the few worth a second look, not every task of a big flow.
        unusual = [
            node_id
            for node_id, node in graph.nodes
            if node.kind == "task-run" and node.state_type != "COMPLETED"
        ]
        task_runs = await self.api.task_runs_by_id(unusual[:TASK_DETAILS])
        mapped = await self._runs_of([flow_run])
        return flow_run, self._with_tasks(flow_run, graph, task_runs, mapped)

    def _with_tasks(
        self, flow_run: FlowRun, graph: Graph, task_runs: list[PrefectTaskRun], mapped: list[m.Run]
    ) -> m.RunDetail:
        tasks, ids = mapping.tasks(flow_run, graph, task_runs)
        self._task_ids[flow_run.id] = ids
        for name, task_run_id in ids.items():
            self._name_task(task_run_id, name)
        while len(self._task_ids) > 256:
            self._task_ids.pop(next(iter(self._task_ids)))
        total, done = mapping.counts(tasks)
        run = mapped[0].model_copy(update={"tasks_total": total, "tasks_done": done})
        return m.RunDetail(run=run, tasks=tasks)

    async def run(self, run_id: str) -> m.RunDetail:
        return (await self._detail(run_id))[1]

    async def wait_run(self, run_id: str) -> m.Run:
        """Once the run has finished and its log records have landed (Prefect's worker
        ships them after the state): what a caller reads next is complete."""
        run = await super().wait_run(run_id)
        delay = min(self.poller.interval, 0.25)
        while True:
            flow_run = await self._flow_run(run_id)
            if flow_run.state_type not in states.FINAL:
                return await self.wait_run(run_id)  # retried meanwhile
            if await self._logs_landed(flow_run):
                return run
            await asyncio.sleep(delay)

    async def _logs_landed(self, flow_run: FlowRun) -> bool:
        ended = flow_run.end_time or log_text.now()
        await self._logs.refresh(flow_run.id, ended, flow_run.run_count)
        return self._logs.complete(flow_run.id)

    async def resolve_run(self, ref: str) -> str:
        """A flow run id, its name (`crafty-lemur`), `last` or `last:FLOW/DEPLOYMENT`."""
        text = ref.strip().removeprefix("#")
        if not text or not text.isprintable() or any(char.isspace() for char in text):
            # Prefect's run names are slugs (`crafty-lemur`): a name with a space is a typo
            # or a flow's own template (then its id names it).
            raise InvalidInput(
                f"run reference {ref!r}: expected a flow run's name or id, or last[:PIPELINE]"
            )
        if text == "last" or text.startswith("last:"):
            return await super().resolve_run(text)
        if _UUID.match(text):
            await self._flow_run(text)
            return text.lower()
        named = await self.api.flow_runs_named(text)
        if not named:
            raise NotFound(f"runner {self.name} has no run {ref!r}")
        return named[0].id

    # Logs -------------------------------------------------------------------------------------

    async def _log_key(self, run_id: str, task: str) -> tuple[LogKey, FlowRun, bool]:
        """The log of a task (or of the flow itself), its flow run, and whether it ended."""
        flow_run = await self._flow_run(run_id)
        if task == mapping.FLOW_TASK:
            ended = flow_run.state_type in states.FINAL
            return LogKey(run_id, None), flow_run, ended
        ids = self._task_ids.get(run_id)
        if ids is None or task not in ids:
            await self._detail(run_id)
            ids = self._task_ids.get(run_id, {})
        if task not in ids:
            raise NotFound(f"run {flow_run.name} has no task {task!r}")
        return LogKey(run_id, ids[task]), flow_run, flow_run.state_type in states.FINAL

    async def _read(self, run_id: str, task: str) -> tuple[list[m.LogLine], bool]:
        key, flow_run, ended = await self._log_key(run_id, task)
        end_time = flow_run.end_time if ended else None
        if ended and end_time is None:
            end_time = log_text.now()
        log, _ = await self._logs.read(key, end_time, flow_run.run_count)
        return log.lines, log.complete

    async def read_log(
        self, run_id: str, task: str, *, start: int = 0, limit: int | None = 1000
    ) -> m.LogChunk:
        lines, finished = await self._read(run_id, task)

        async def fetch(begin: int, count: int) -> m.LogChunk:
            at, part = log_text.window(lines, begin, count)
            return m.LogChunk(
                run_id=run_id, task=task, start=at, lines=part, total=len(lines), finished=finished
            )

        return await read_log_pages(fetch, start=start, limit=limit)

    async def search_log(
        self, run_id: str, task: str, pattern: str, **options: Unpack[m.LogSearchOptions]
    ) -> m.LogSearchPage:
        lines, finished = await self._read(run_id, task)
        found, following, done = log_text.search(lines, pattern, **options)
        return m.LogSearchPage(
            run_id=run_id,
            task=task,
            start=max(0, options.get("start", 0)),
            next=following,
            spans=log_text.spans(found),
            total=len(lines),
            finished=finished,
            done=done,
        )

    # Events -----------------------------------------------------------------------------------

    def _name_task(self, task_run_id: str, name: str) -> None:
        self._task_names[task_run_id] = name
        self._task_names.move_to_end(task_run_id)
        while len(self._task_names) > TASK_NAMES:
            self._task_names.popitem(last=False)

    def _task_of(self, run_id: str, task_run: PrefectTaskRun) -> m.TaskRun:
        name = self._task_names.get(task_run.id, task_run.name)
        self._name_task(task_run.id, name)
        status = states.task_status(task_run.state_type, task_run.state_name)
        message = task_run.state.message if task_run.state else None
        return m.TaskRun(
            run_id=run_id,
            name=name,
            status=status,
            attempts=task_run.run_count,
            started_at=task_run.start_time,
            finished_at=task_run.end_time if status.finished else None,
            reason=mapping.reason(task_run.state_type, message),
        )

    async def _follow_logs(self, runs: dict[str, tuple[datetime | None, int]]) -> None:
        if self._live is not None:
            self._live.watch({run_id for run_id, (ended, _) in runs.items() if ended is None})
        for run_id, (ended, attempts) in runs.items():
            await self._logs.refresh(run_id, ended, attempts)

    async def _sync_live(self, run_ids: frozenset[str]) -> None:
        """A poll of the runs the live socket has just subscribed to: what it sends after
        this is newer than anything read."""
        for run_id in sorted(run_ids):
            await self._logs.catch_up(run_id)

    def _publish_lines(self, run_id: str, task_run_id: str | None, lines: list[m.LogLine]) -> None:
        task = mapping.FLOW_TASK
        if task_run_id is not None:
            task = self._task_names.get(task_run_id, task_run_id)
        for line in lines:
            data = LogData(n=line.n, stream=line.stream, text=line.text, ts=line.ts.isoformat())
            self.feed.publish(EventKind.LOG, data, run_id=run_id, task=task)

    async def last_seq(self) -> int:
        await self.poller.first_tick()
        if self.poller.error is not None:
            raise self.poller.error
        return self.feed.seq

    async def wait_events(
        self, after: int, *, wait: float = 15.0, limit: int = 5000
    ) -> m.EventPage:
        self.poller.ensure_running()
        if self.poller.error is not None:
            await asyncio.sleep(min(wait, self.poller.interval))
            if self.poller.error is not None:
                raise self.poller.error
        return await self.feed.wait(after, wait=wait, limit=limit)

    async def close(self) -> None:
        await self.poller.stop()
        if self._live is not None:
            await self._live.stop()
        await self.api.close()


def _matches(run: m.Run, words: list[str], reason: str | None) -> bool:
    """Every word is in the run's id, label, pipeline, status, trigger, user, params or the
    reason Prefect gave for its state (`RuntimeError: boom`)."""
    if not words:
        return True
    haystack = " ".join(
        [
            reason or "",
            run.id,
            run.label,
            run.pipeline,
            run.status.value,
            run.trigger,
            run.user,
            *(f"{key}={value}" for key, value in run.params.items()),
        ]
    ).lower()
    return all(word.removeprefix("#") in haystack for word in words)
