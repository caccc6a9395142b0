"""The Prefect REST client against a real `prefect server` and a flow served by `flow.serve()`:
deployments with their parameter schema, trigger, task graph, logs, retry, cancel, refusals."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from shipdeck.errors import InvalidInput, NotFound, Refused, Unavailable
from shipdeck.runners.prefect.api import GraphNode, LogLine, PrefectApi
from tests.prefect.conftest import PrefectServer, free_port

# The first test waits for the session's server and served flow (a minute on a loaded host).
pytestmark = pytest.mark.timeout(400)

T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T | None]], within: float = 30.0) -> T:
    """The first non-None answer of `probe`, asked every 0.3 s."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        found = await probe()
        if found is not None:
            return found
        assert asyncio.get_running_loop().time() < deadline, "never happened"
        await asyncio.sleep(0.3)


async def test_deployments_with_their_flow_and_parameters(prefect_server: PrefectServer) -> None:
    api = PrefectApi(prefect_server.url, name="orchestra")
    try:
        deployments = await api.deployments()
        nightly = next(d for d in deployments if d.name == "nightly")
        (flow,) = await api.flows([nightly.flow_id])
        assert flow.name == "etl"
        schema = nightly.parameter_openapi_schema or {}
        assert schema["properties"]["rows"] == {
            "default": 10,
            "position": 0,
            "title": "rows",
            "type": "integer",
        }
        assert (await api.deployment_by_name("etl", "nightly")).id == nightly.id
    finally:
        await api.close()


async def test_trigger_graph_and_logs(prefect_server: PrefectServer) -> None:
    api = PrefectApi(prefect_server.url, name="orchestra")
    try:
        run = await api.create_flow_run(prefect_server.deployment_id(), {"rows": 5})
        assert run.parameters == {"rows": 5}
        assert prefect_server.wait_run(run.id) == "COMPLETED"

        # Task runs report their states as events, which may land after the flow run's end.
        async def settled() -> dict[str, GraphNode] | None:
            graph = await api.graph(run.id)
            nodes = {node.label.rsplit("-", 1)[0]: node for _, node in graph.nodes}
            done = all(node.state_type == "COMPLETED" for node in nodes.values())
            return nodes if done and len(nodes) == 4 else None

        nodes = await eventually(settled)
        assert set(nodes) == {"extract", "transform_a", "transform_b", "load"}
        extract_id = nodes["extract"].id
        assert nodes["transform_a"].parent_ids == [extract_id]
        assert set(nodes["load"].parent_ids) == {nodes["transform_a"].id, nodes["transform_b"].id}

        # The flow's process ships its logs in batches (every 2 s): they may land after the end.
        async def logged() -> list[LogLine] | None:
            lines = await api.logs(run.id, limit=200)
            return lines if any(x.message == "extracting 5 rows" for x in lines) else None

        lines = await eventually(logged)
        stamps = [line.timestamp for line in lines]
        assert stamps == sorted(stamps)
        task_lines = await api.logs(run.id, task_run_id=extract_id)
        assert [line.message for line in task_lines if "rows" in line.message] == [
            "extracting 5 rows"
        ]
        assert await api.count_flow_runs(deployment_ids=[run.deployment_id or ""]) >= 1
    finally:
        await api.close()


async def test_failed_run_retried_after_the_cause_is_gone(
    prefect_server: PrefectServer, tmp_path: Path
) -> None:
    flag = tmp_path / "fail"
    flag.touch()
    api = PrefectApi(prefect_server.url, name="orchestra")
    try:
        run = await api.create_flow_run(prefect_server.deployment_id(), {"flag": str(flag)})
        assert prefect_server.wait_run(run.id) == "FAILED"

        async def failed() -> bool | None:
            graph = await api.graph(run.id)
            states = {n.label.rsplit("-", 1)[0]: n.state_type for _, n in graph.nodes}
            return True if states.get("transform_b") == "FAILED" else None

        assert await eventually(failed)
        flag.unlink()
        state = await api.retry(run.id)
        assert (state.type, state.name) == ("SCHEDULED", "AwaitingRetry")
        assert prefect_server.wait_run(run.id) == "COMPLETED"
        assert (await api.flow_run(run.id)).run_count == 2
    finally:
        await api.close()


async def test_cancel_a_running_flow(prefect_server: PrefectServer) -> None:
    api = PrefectApi(prefect_server.url, name="orchestra")
    try:
        run = await api.create_flow_run(prefect_server.deployment_id(), {"slow": 120})
        prefect_server.wait_run(run.id, final=False)
        state = await api.cancel(run.id)
        assert state.type == "CANCELLING"
        assert prefect_server.wait_run(run.id) == "CANCELLED"
    finally:
        await api.close()


async def test_refusals_and_errors_are_one_line(prefect_server: PrefectServer) -> None:
    flow_id = prefect_server.call("POST", "flows/", {"name": "adhoc"})["id"]
    adhoc = prefect_server.call(
        "POST", "flow_runs/", {"flow_id": flow_id, "state": {"type": "FAILED", "name": "Failed"}}
    )
    api = PrefectApi(prefect_server.url, name="orchestra")
    try:
        with pytest.raises(Refused) as refused:
            await api.retry(adhoc["id"])
        assert str(refused.value) == (
            "runner orchestra (prefect) refused:"
            " Cannot reschedule a run without an associated deployment."
        )
        with pytest.raises(InvalidInput, match=r"'abc' is not of type 'integer'"):
            await api.create_flow_run(prefect_server.deployment_id(), {"rows": "abc"})
        with pytest.raises(NotFound, match=r"^runner orchestra \(prefect\): Flow run not found$"):
            await api.flow_run("00000000-0000-0000-0000-000000000000")
    finally:
        await api.close()
    offline = PrefectApi(f"http://127.0.0.1:{free_port()}/api", name="gone", timeout=2.0)
    try:
        with pytest.raises(Unavailable, match=r"^runner gone \(prefect\) is unreachable at "):
            await offline.health()
    finally:
        await offline.close()
