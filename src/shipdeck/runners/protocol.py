"""The one contract between front ends (CLI, TUI, HTTP server) and whatever executes pipelines.

Implementations subclass `runners.base.BaseRunner`: the local runner (the embedded engine, in
process) and the remote runner (HTTP, for the workspace daemon and `shipdeck serve`). Every
method may raise a `shipdeck.errors.ShipdeckError` subclass; what a runner cannot do raises
`Unsupported`, and `capabilities()` says beforehand which methods those are.
"""

from __future__ import annotations

from typing import Protocol, Unpack, runtime_checkable

from shipdeck.model import (
    ActionPlan,
    Alert,
    AliasMove,
    Comparison,
    DeployAction,
    DeployOptions,
    EnvironmentState,
    EventPage,
    FailureStreak,
    HealthCheck,
    HistoryEntry,
    Launch,
    LogChunk,
    LogSearchOptions,
    LogSearchPage,
    ModelSummary,
    ModelVersion,
    MonitorCheck,
    MonitorInfo,
    PipelineSpec,
    RerunMode,
    RerunOptions,
    RollbackOptions,
    Run,
    RunDetail,
    RunFilter,
    RunPage,
    ScheduleAction,
    ScheduleList,
    ServiceSpec,
)
from shipdeck.model.capabilities import Capabilities


@runtime_checkable
class Runner(Protocol):
    @property
    def name(self) -> str:
        """A short label for front ends ("local", a host name, a configured runner name)."""
        ...

    async def capabilities(self) -> Capabilities:
        """What this runner can do; front ends offer only that (see model/capabilities.py)."""
        ...

    async def pipelines(self) -> list[PipelineSpec]:
        """The pipelines of the workspace, in declaration order."""
        ...

    async def start_run(
        self, pipeline: str, params: dict[str, str] | None = None, **launch: Unpack[Launch]
    ) -> Run:
        """Validate params (strings are coerced to each default's type), create a run, start it.

        Returns as soon as the run exists; it executes in the background.
        """
        ...

    async def rerun(
        self, run_id: str, mode: RerunMode = RerunMode.ALL, **options: Unpack[RerunOptions]
    ) -> Run:
        """Start a new run linked to `run_id`; tasks outside the rerun keep their results.
        With mode FROM, `from_task` names the task to rerun from."""
        ...

    async def rerun_plan(
        self, run_id: str, mode: RerunMode = RerunMode.ALL, *, from_task: str | None = None
    ) -> list[str]:
        """The tasks a rerun would execute, in pipeline order (for previews). A rerun from a
        task also executes the tasks upstream of it that did not succeed, with their
        downstream: kept, they would skip it again."""
        ...

    async def cancel(self, run_id: str) -> Run:
        """Kill every running task of the run and mark it cancelled."""
        ...

    async def runs(self, **filters: Unpack[RunFilter]) -> list[Run]:
        """Runs, newest first, that match the filters (a pipeline, a status, words; see
        RunFilter); `before` (a run id) pages backwards."""
        ...

    async def runs_page(self, **filters: Unpack[RunFilter]) -> RunPage:
        """`runs()`, with how many runs match the filters in all ("50 of 312")."""
        ...

    async def failures(self, *, limit: int = 20) -> list[FailureStreak]:
        """Failures no success followed, newest first: per pipeline (a service's deploy runs:
        per environment) the newest failed or interrupted run and how many there were since
        that line last succeeded."""
        ...

    async def run(self, run_id: str) -> RunDetail: ...

    async def resolve_run(self, ref: str) -> str:
        """Turn a user's run reference (`42`, `#42`, `last`, `last:PIPELINE`, or a runner's
        own id) into a run id."""
        ...

    async def read_log(
        self, run_id: str, task: str, *, start: int = 0, limit: int | None = 1000
    ) -> LogChunk:
        """Lines [start, start+limit) of a task's log. A negative start counts from the end."""
        ...

    async def search_log(
        self, run_id: str, task: str, pattern: str, **options: Unpack[LogSearchOptions]
    ) -> LogSearchPage:
        """The lines in [start, end) of a task's log whose visible text (no escape codes)
        matches `pattern`: literal, or a regular expression with `regex`; `ignore_case` None
        is smart case (ignored unless the pattern has an upper-case letter). One page: at most
        `limit` lines and a bounded stretch of the log; search again from `next` until `done`.
        A bad pattern raises InvalidInput."""
        ...

    async def wait_events(self, after: int, *, wait: float = 15.0, limit: int = 5000) -> EventPage:
        """Events with seq > after; waits up to `wait` seconds for the first one to arrive."""
        ...

    async def last_seq(self) -> int:
        """The newest event's sequence number (start following from here)."""
        ...

    async def wait_run(self, run_id: str) -> Run:
        """Block until the run has finished and return it."""
        ...

    async def close(self) -> None:
        """Release resources. Runs this runner started keep going only if it is a daemon."""
        ...

    # Models and deployments (Capability.MODELS, ALIASES, DEPLOYMENTS) ----------------------

    async def models(self) -> list[ModelSummary]:
        """Every registered model with its version count and aliases, by name."""
        ...

    async def model_versions(self, model: str) -> list[ModelVersion]:
        """The versions of a model, newest first, with their metrics, aliases and lineage."""
        ...

    async def alias(self, model: str, alias: str, version: str) -> AliasMove:
        """Point an alias (champion, challenger, ...) at a version (`v3`, `3`, another alias)."""
        ...

    async def alias_moves(self, model: str | None = None, *, limit: int = 200) -> list[AliasMove]:
        """Alias moves (of one model, or of all), newest first: the registry's audit log."""
        ...

    async def compare(self, refs: list[str]) -> Comparison:
        """Params and metrics side by side. Each ref is a run (`12`, `#12`, `last`) or a model
        version (`churn@v3`, `churn@champion`); deltas are against the first, and so are the
        lineage flags (trained on other data or code)."""
        ...

    async def services(self) -> list[ServiceSpec]:
        """The services of the workspace, in declaration order."""
        ...

    async def deployments(self) -> list[EnvironmentState]:
        """What every environment of every service holds now."""
        ...

    async def plan(
        self, action: DeployAction, service: str, env: str, *, revision: str | None = None
    ) -> ActionPlan:
        """What an action would do (commands, SHIPDECK_* variables, from -> to, gate results),
        without doing it. `env` is the target environment (for a promote, the one promoted to);
        `revision` is what to deploy, or for a rollback an optional earlier revision."""
        ...

    async def deploy(
        self, service: str, revision: str, env: str, **options: Unpack[DeployOptions]
    ) -> HistoryEntry:
        """Deploy a revision and wait for its run. `expect` is the revision the caller saw in
        the environment ("none" when empty); a mismatch raises Conflict. Failed gates raise
        Refused unless `force`. A failed deploy or health check returns outcome "failed".

        With `wait=False` (as for promote and rollback) the answer comes once the deploy run
        has started: the entry with outcome "running" and its run id; the action goes on in
        the runner and its end is the `deploy_finished` event (the entry with its outcome)."""
        ...

    async def promote(
        self, service: str, to_env: str, **options: Unpack[DeployOptions]
    ) -> HistoryEntry:
        """Deploy the revision of the environment before `to_env` to `to_env`."""
        ...

    async def rollback(
        self, service: str, env: str, **options: Unpack[RollbackOptions]
    ) -> HistoryEntry:
        """Return an environment to its previous revision, or to `to` from its history."""
        ...

    async def history(
        self, service: str, env: str | None = None, *, limit: int = 100
    ) -> list[HistoryEntry]:
        """Actions on a service (or one of its environments), newest first."""
        ...

    # Schedules (Capability.SCHEDULES) ---------------------------------------------------

    async def schedules(self) -> ScheduleList:
        """Every schedule and trigger with its next fire time, last run and paused state,
        and the pid of the process firing them (None when none is)."""
        ...

    async def pause_schedule(self, name: str, *, reason: str = "") -> ScheduleAction:
        """Stop a trigger (`PIPELINE.KIND`) or all of a pipeline's (`PIPELINE`) from firing;
        recorded with who. Refused when it is paused already."""
        ...

    async def resume_schedule(self, name: str, *, reason: str = "") -> ScheduleAction:
        """Let it fire again from now on: what came due while paused does not fire."""
        ...

    # Scheduled health checks (with DEPLOYMENTS) ------------------------------------------------

    async def health_checks(
        self, service: str, env: str | None = None, *, limit: int = 100
    ) -> list[HealthCheck]:
        """Scheduled health checks of a service (or one of its environments), newest first."""
        ...

    # Monitors and alerts (MONITORS) ----------------------------------------------------------

    async def monitors(self) -> list[MonitorInfo]:
        """Every declared monitor: its last check's values and verdict, thresholds, open
        alerts, next check and paused state."""
        ...

    async def monitor_history(self, name: str, *, limit: int = 100) -> list[MonitorCheck]:
        """A monitor's checks, newest first: values, thresholds met or crossed, verdict, run."""
        ...

    async def check_monitor(self, name: str, *, wait: bool = True) -> MonitorCheck:
        """Run a check now; with `wait`, return it judged (else as soon as its run started,
        verdict `running`)."""
        ...

    async def alerts(
        self, *, open_only: bool = False, monitor: str | None = None, limit: int = 100
    ) -> list[Alert]:
        """Alerts, open ones first, newest first within each."""
        ...

    async def ack_alert(self, alert_id: int, *, note: str) -> Alert:
        """Acknowledge an alert with a note; recorded with who and when. Refused when it was
        acknowledged already."""
        ...
