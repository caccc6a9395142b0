"""Prefect's REST API (`http://HOST:4200/api`) over httpx: the calls shipdeck makes, typed.

Nothing here knows shipdeck's runner contract; the Prefect runner maps these onto it. Every
failure is a ShipdeckError with one line naming the runner and Prefect's own reason:
unreachable or timed out (Unavailable), 401/403 (Unauthorized), 404 (NotFound), 422 (the
parameters or the request: InvalidInput), and a state change Prefect's orchestration rules
refuse (`REJECT` / `ABORT`, e.g. "Cannot reschedule a run without an associated deployment."):
Refused. Prefect Cloud's API keys go in the same `Authorization: Bearer` header.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from datetime import datetime
from typing import Any, TypedDict, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict

from shipdeck.errors import (
    InvalidInput,
    NotFound,
    Refused,
    ShipdeckError,
    Unauthorized,
    Unavailable,
)

PAGE = 100
BUSY_RETRIES = (0.2, 0.5, 1.0)
"""Seconds before asking again after a 503 (the server's database was busy)."""
TASK_PAGE = 200
TIMEOUT = 10.0


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


_Row = TypeVar("_Row", bound=_Loose)


class State(_Loose):
    type: str
    """SCHEDULED, PENDING, RUNNING, COMPLETED, FAILED, CANCELLING, CANCELLED, CRASHED, PAUSED."""
    name: str = ""
    message: str | None = None
    timestamp: datetime | None = None


class Flow(_Loose):
    id: str
    name: str


class Deployment(_Loose):
    id: str
    name: str
    flow_id: str
    description: str | None = None
    parameters: dict[str, Any] = {}
    """The deployment's default parameter values."""
    parameter_openapi_schema: dict[str, Any] | None = None
    tags: list[str] = []
    paused: bool = False


class FlowRun(_Loose):
    id: str
    name: str
    flow_id: str
    deployment_id: str | None = None
    state_type: str | None = None
    state_name: str | None = None
    state: State | None = None
    parameters: dict[str, Any] = {}
    tags: list[str] = []
    run_count: int = 0
    start_time: datetime | None = None
    end_time: datetime | None = None
    expected_start_time: datetime | None = None
    created: datetime | None = None
    parent_task_run_id: str | None = None
    created_by: dict[str, Any] | None = None


class GraphNode(_Loose):
    id: str
    kind: str
    """task-run or flow-run (a subflow)."""
    label: str
    state_type: str
    start_time: datetime | None = None
    end_time: datetime | None = None
    parents: list[dict[str, str]] = []
    children: list[dict[str, str]] = []

    @property
    def parent_ids(self) -> list[str]:
        return [parent["id"] for parent in self.parents]


class Graph(_Loose):
    start_time: datetime | None = None
    end_time: datetime | None = None
    root_node_ids: list[str] = []
    nodes: list[tuple[str, GraphNode]] = []


class TaskRun(_Loose):
    id: str
    name: str
    flow_run_id: str | None = None
    task_key: str = ""
    state_type: str | None = None
    state_name: str | None = None
    state: State | None = None
    run_count: int = 0
    start_time: datetime | None = None
    end_time: datetime | None = None


class LogLine(_Loose):
    id: str
    name: str = ""
    level: int = 20
    message: str
    timestamp: datetime
    flow_run_id: str | None = None
    task_run_id: str | None = None


class Connection(TypedDict, total=False):
    """How a Prefect server is reached besides its URL (PrefectApi's keywords, handed on by
    the runner)."""

    api_key: str | None
    """A Prefect Cloud API key (sent as a bearer token), or with `basic` a self-hosted
    server's PREFECT_SERVER_API_AUTH_STRING."""
    basic: bool
    timeout: float
    """Seconds a request may take (TIMEOUT)."""


class PrefectApi:
    """One Prefect server. `name` is the configured runner's, for messages."""

    def __init__(
        self,
        url: str,
        *,
        name: str,
        api_key: str | None = None,
        basic: bool = False,
        timeout: float = TIMEOUT,
    ) -> None:
        self.name = name
        self.url = url.rstrip("/")
        headers = {}
        if api_key and basic:  # a self-hosted server's PREFECT_SERVER_API_AUTH_STRING
            encoded = base64.b64encode(api_key.encode()).decode()
            headers["Authorization"] = f"Basic {encoded}"
        elif api_key:  # a Prefect Cloud API key
            headers["Authorization"] = f"Bearer {api_key}"
        self.api_key = api_key
        self.headers = dict(headers)
        """What every request carries (the live log socket's handshake too)."""
        self._client = httpx.AsyncClient(
            base_url=f"{self.url}/",
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        where = f"runner {self.name} (prefect)"
        for delay in (*BUSY_RETRIES, None):
            try:
                response = await self._client.request(method, path, json=body)
            except httpx.TimeoutException:
                raise Unavailable(f"{where} timed out at {self.url}") from None
            except httpx.TransportError as error:
                reason = str(error) or type(error).__name__
                raise Unavailable(f"{where} is unreachable at {self.url}: {reason}") from None
            if response.status_code != 503 or delay is None:
                break
            # Prefect answers 503 when its database is busy (SQLite locked): nothing was done.
            await asyncio.sleep(delay)
        if response.is_success:
            try:
                return response.json()
            except ValueError:
                raise Unavailable(f"{where} answered {path} with something not JSON") from None
        raise self._error(response, where)

    @staticmethod
    def _error(response: httpx.Response, where: str) -> ShipdeckError:
        detail: Any = ""
        try:
            body = response.json()
            detail = body.get("detail") or body.get("exception_message") or ""
        except (ValueError, AttributeError):
            detail = response.text.strip()
        if isinstance(detail, list):  # FastAPI's validation errors
            detail = "; ".join(str(item.get("msg", item)) for item in detail[:3])
        message = " ".join(str(detail).split()) or f"HTTP {response.status_code}"
        status = response.status_code
        if status in (401, 403):
            return Unauthorized(f"{where} refused the credentials: {message}")
        if status == 404:
            return NotFound(f"{where}: {message}")
        if status in (400, 409, 422):
            return InvalidInput(f"{where}: {message}")
        if status == 429:
            return Unavailable(f"{where} is rate limiting requests: {message}")
        if status >= 500:
            return Unavailable(f"{where} failed: {message}")
        return ShipdeckError(f"{where}: {message}")

    async def health(self) -> None:
        await self._call("GET", "health")

    async def version(self) -> str:
        """The server's Prefect version."""
        return str(await self._call("GET", "admin/version"))

    # Flows and deployments.

    async def deployments(self, offset: int = 0, limit: int = PAGE) -> list[Deployment]:
        data = await self._call(
            "POST", "deployments/filter", {"offset": offset, "limit": limit, "sort": "NAME_ASC"}
        )
        return [Deployment.model_validate(item) for item in data]

    async def flows(self, ids: list[str]) -> list[Flow]:
        if not ids:
            return []
        body = {"flows": {"id": {"any_": ids}}, "limit": max(len(ids), 1)}
        return [
            Flow.model_validate(item) for item in await self._call("POST", "flows/filter", body)
        ]

    async def deployment(self, deployment_id: str) -> Deployment:
        return Deployment.model_validate(await self._call("GET", f"deployments/{deployment_id}"))

    async def deployment_by_name(self, flow: str, deployment: str) -> Deployment:
        data = await self._call("GET", f"deployments/name/{flow}/{deployment}")
        return Deployment.model_validate(data)

    # Flow runs.

    async def flow_runs(
        self,
        *,
        deployment_ids: list[str] | None = None,
        state_types: list[str] | None = None,
        flow_names: list[str] | None = None,
        ended_after: datetime | None = None,
        expected_before: datetime | None = None,
        offset: int = 0,
        limit: int = PAGE,
    ) -> list[FlowRun]:
        """Flow runs, newest first (by when they were to start), one page."""
        body: dict[str, Any] = {
            "offset": offset,
            "limit": limit,
            "sort": "EXPECTED_START_TIME_DESC",
        }
        body.update(self._run_filter(deployment_ids, state_types, flow_names))
        if ended_after is not None:
            runs = body.setdefault("flow_runs", {})
            runs["end_time"] = {"after_": ended_after.isoformat()}
        if expected_before is not None:
            runs = body.setdefault("flow_runs", {})
            runs["expected_start_time"] = {"before_": expected_before.isoformat()}
        data = await self._call("POST", "flow_runs/filter", body)
        return [FlowRun.model_validate(item) for item in data]

    async def count_flow_runs(
        self,
        *,
        deployment_ids: list[str] | None = None,
        state_types: list[str] | None = None,
        flow_names: list[str] | None = None,
    ) -> int:
        body = self._run_filter(deployment_ids, state_types, flow_names)
        data = await self._call("POST", "flow_runs/count", body)
        return int(data)

    @staticmethod
    def _run_filter(
        deployment_ids: list[str] | None,
        state_types: list[str] | None,
        flow_names: list[str] | None = None,
    ) -> dict[str, Any]:
        """`flow_names`: the runs of those flows that have no deployment."""
        body: dict[str, Any] = {}
        runs: dict[str, Any] = {}
        if deployment_ids is not None:
            body["deployments"] = {"id": {"any_": deployment_ids}}
        if state_types is not None:
            runs["state"] = {"type": {"any_": state_types}}
        if flow_names is not None:
            body["flows"] = {"name": {"any_": flow_names}}
            runs["deployment_id"] = {"is_null_": True}
        if runs:
            body["flow_runs"] = runs
        return body

    async def flow_run(self, run_id: str) -> FlowRun:
        return FlowRun.model_validate(await self._call("GET", f"flow_runs/{run_id}"))

    async def graph(self, run_id: str) -> Graph:
        """The flow run's task runs and subflows with their parent edges (only what ran)."""
        return Graph.model_validate(await self._call("GET", f"flow_runs/{run_id}/graph-v2"))

    async def logs(
        self,
        run_id: str,
        *,
        task_run_id: str | None = None,
        flow_only: bool = False,
        since: datetime | None = None,
        offset: int = 0,
        limit: int = 200,
        newest_first: bool = False,
    ) -> list[LogLine]:
        """One page of a flow run's logs by time: one task run's (`task_run_id`), the flow's
        own (`flow_only`: those of no task), or all; `since` includes that instant."""
        logs: dict[str, Any] = {"flow_run_id": {"any_": [run_id]}}
        if task_run_id is not None:
            logs["task_run_id"] = {"any_": [task_run_id]}
        elif flow_only:
            logs["task_run_id"] = {"is_null_": True}
        if since is not None:
            logs["timestamp"] = {"after_": since.isoformat()}
        body = {
            "logs": logs,
            "offset": offset,
            "limit": limit,
            "sort": "TIMESTAMP_DESC" if newest_first else "TIMESTAMP_ASC",
        }
        return [
            LogLine.model_validate(item) for item in await self._call("POST", "logs/filter", body)
        ]

    async def task_runs(self, run_id: str) -> list[TaskRun]:
        """Every task run of a flow run (their names, states and attempt counts)."""
        found: list[TaskRun] = []
        while True:
            page = await self.task_runs_of([run_id], offset=len(found), limit=TASK_PAGE)
            found.extend(page)
            if len(page) < TASK_PAGE:
                return found

    async def task_runs_of(
        self,
        run_ids: list[str],
        *,
        state_types: list[str] | None = None,
        offset: int = 0,
        limit: int = TASK_PAGE,
    ) -> list[TaskRun]:
        """One page of the task runs of these flow runs (in these states)."""
        if not run_ids:
            return []
        body: dict[str, Any] = {
            "flow_runs": {"id": {"any_": run_ids}},
            "offset": offset,
            "limit": limit,
            "sort": "EXPECTED_START_TIME_ASC",
        }
        if state_types is not None:
            body["task_runs"] = {"state": {"type": {"any_": state_types}}}
        data = await self._call("POST", "task_runs/filter", body)
        return [TaskRun.model_validate(item) for item in data]

    async def _by_id(self, kind: str, ids: list[str], model: type[_Row]) -> list[_Row]:
        """The `kind` (flow_runs, task_runs) with these ids, in one request."""
        if not ids:
            return []
        body = {kind: {"id": {"any_": ids}}, "limit": len(ids)}
        return [
            model.model_validate(item) for item in await self._call("POST", f"{kind}/filter", body)
        ]

    async def task_runs_by_id(self, ids: list[str]) -> list[TaskRun]:
        return await self._by_id("task_runs", ids, TaskRun)

    async def task_run(self, task_run_id: str) -> TaskRun:
        return TaskRun.model_validate(await self._call("GET", f"task_runs/{task_run_id}"))

    async def flow_runs_named(self, name: str) -> list[FlowRun]:
        body = {"flow_runs": {"name": {"any_": [name]}}, "limit": 2, "sort": "START_TIME_DESC"}
        data = await self._call("POST", "flow_runs/filter", body)
        return [FlowRun.model_validate(item) for item in data]

    async def flow_runs_by_id(self, ids: list[str]) -> list[FlowRun]:
        return await self._by_id("flow_runs", ids, FlowRun)

    async def create_flow_run(
        self, deployment_id: str, parameters: dict[str, Any], *, tags: list[str] | None = None
    ) -> FlowRun:
        # The key makes asking again after a 503 safe: Prefect creates the run once.
        body: dict[str, Any] = {"parameters": parameters, "idempotency_key": str(uuid.uuid4())}
        if tags:
            body["tags"] = tags
        data = await self._call("POST", f"deployments/{deployment_id}/create_flow_run", body)
        return FlowRun.model_validate(data)

    async def set_state(
        self, run_id: str, state_type: str, name: str, message: str | None = None
    ) -> State:
        """Ask Prefect to move the run to a state; its orchestration rules may refuse."""
        state: dict[str, Any] = {"type": state_type, "name": name}
        if message:
            state["message"] = message
        data = await self._call("POST", f"flow_runs/{run_id}/set_state", {"state": state})
        status = str(data.get("status", ""))
        if status in ("REJECT", "ABORT"):
            reason = (data.get("details") or {}).get("reason") or status.lower()
            raise Refused(f"runner {self.name} (prefect) refused: {reason}")
        if status == "WAIT":
            delay = (data.get("details") or {}).get("delay_seconds")
            raise Refused(f"runner {self.name} (prefect) asks to wait {delay} s before that")
        return State.model_validate(data["state"])

    async def retry(self, run_id: str, message: str = "retried from shipdeck") -> State:
        """Reschedule a finished run as Prefect's UI does: the whole flow runs again."""
        return await self.set_state(run_id, "SCHEDULED", "AwaitingRetry", message)

    async def cancel(self, run_id: str, message: str = "cancelled from shipdeck") -> State:
        """Ask the run's worker to cancel it: CANCELLING now, CANCELLED once it has stopped."""
        return await self.set_state(run_id, "CANCELLING", "Cancelling", message)
