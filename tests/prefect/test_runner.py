"""The prefect runner kind against a real Prefect server and a flow served by `flow.serve()`:
deployments as pipelines, trigger with params, the live task graph, logs read, searched and
followed through events, failures, retry of a failed run, cancel of a running one, and every
refusal one line naming the runner."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shipdeck.errors import InvalidInput, NotFound, Refused, Unsupported
from shipdeck.model import (
    LogEvent,
    RerunMode,
    Run,
    RunDetail,
    RunEvent,
    RunStatus,
    TaskEvent,
    TaskStatus,
)
from shipdeck.model.capabilities import Capability, EventDelivery
from shipdeck.runners.prefect.api import FlowRun
from shipdeck.runners.prefect.mapping import FLOW_TASK
from shipdeck.runners.prefect.runner import PrefectRunner
from tests.prefect.conftest import PrefectServer
from tests.prefect.test_api import eventually

pytestmark = pytest.mark.timeout(400)


@pytest.fixture
async def runner(prefect_server: PrefectServer) -> AsyncIterator[PrefectRunner]:
    opened = PrefectRunner(prefect_server.url, name="orchestra", poll_interval=0.5)
    try:
        yield opened
    finally:
        await opened.close()


def short(name: str) -> str:
    """A task run's name without the suffix Prefect adds (`extract-a1b`)."""
    return name if name == FLOW_TASK else name.rsplit("-", 1)[0]


async def settled(runner: PrefectRunner, run_id: str, count: int = 5) -> RunDetail:
    """The run's detail once Prefect has recorded its tasks' final states (they may land
    after the flow run's own)."""

    async def read() -> RunDetail | None:
        detail = await runner.run(run_id)
        done = all(task.status.finished for task in detail.tasks)
        return detail if done and len(detail.tasks) >= count else None

    return await eventually(read)


async def test_capabilities_say_what_prefect_does_and_why_not(runner: PrefectRunner) -> None:
    caps = await runner.capabilities()
    assert caps.kind == "prefect" and caps.events is EventDelivery.POLL
    assert caps.poll_interval == 0.5
    assert caps.has(Capability.RERUN_ALL) and caps.has(Capability.CANCEL)
    assert not caps.has(Capability.STATIC_DAG) and not caps.has(Capability.RERUN_FAILED)
    assert "only once they have run" in caps.why_not(Capability.STATIC_DAG, "orchestra")


async def test_trigger_with_params_then_graph_and_logs(
    runner: PrefectRunner, prefect_server: PrefectServer
) -> None:
    (nightly,) = [p for p in await runner.pipelines() if p.name == "etl/nightly"]
    assert nightly.params == {"rows": 10, "slow": 0.0, "flag": ""}
    after = await runner.last_seq()
    # Running for 1.5 s: longer than a poll, so the poller sees it running.
    run = await runner.start_run("etl/nightly", {"rows": "4", "slow": "1.5"})
    assert run.pipeline == "etl/nightly"
    assert run.params == {"rows": 4, "slow": 1.5, "flag": ""}
    assert run.status is RunStatus.QUEUED and run.label and run.label != run.id
    assert await runner.resolve_run(run.label) == run.id
    assert await runner.resolve_run("last:etl/nightly") == run.id
    assert (await runner.runs(limit=1))[0].id == run.id
    assert [r.id for r in await runner.runs(text=run.label)] == [run.id]

    # The run appears live: its state changes come as events, in order.
    # Task states may land after the flow run's end: they come as events all the same.
    seen: list[RunStatus] = []
    task_events: dict[str, TaskStatus] = {}
    while not seen or not seen[-1].finished or task_events.get("load") != TaskStatus.SUCCEEDED:
        page = await runner.wait_events(after, wait=5.0)
        after = page.last_seq
        for event in page.events:
            if isinstance(event, RunEvent) and event.run_id == run.id:
                seen.append(event.data.status)
            elif isinstance(event, TaskEvent) and event.run_id == run.id:
                task_events[short(event.data.name)] = event.data.status
    assert seen[-1] is RunStatus.SUCCEEDED and RunStatus.RUNNING in seen

    detail = await settled(runner, run.id)
    tasks = {short(task.name): task for task in detail.tasks}
    assert detail.tasks[0].name == FLOW_TASK
    assert set(tasks) == {FLOW_TASK, "extract", "transform_a", "transform_b", "load"}
    assert {status.status for status in tasks.values()} == {TaskStatus.SUCCEEDED}
    extract = tasks["extract"].name
    assert tasks["transform_a"].needs == [extract]
    assert set(tasks["load"].needs or []) == {tasks["transform_a"].name, tasks["transform_b"].name}
    assert detail.run.tasks_total == 4 and detail.run.tasks_done == 4
    assert set(task_events) == set(tasks) - {FLOW_TASK}

    async def logged() -> list[str] | None:
        chunk = await runner.read_log(run.id, extract)
        texts = [line.text for line in chunk.lines]
        return texts if "extracting 4 rows" in texts else None

    assert "extracting 4 rows" in await eventually(logged)
    flow_log = await runner.read_log(run.id, FLOW_TASK)
    assert flow_log.total == len(flow_log.lines) > 0
    tail = await runner.read_log(run.id, FLOW_TASK, start=-1)
    assert tail.start == flow_log.total - 1 and tail.lines == flow_log.lines[-1:]
    found = await runner.search_log(run.id, extract, "EXTRACTING", ignore_case=True)
    assert found.done and len(found.lines) == 1
    with pytest.raises(NotFound, match=r"has no task 'nope'"):
        await runner.read_log(run.id, "nope")


async def test_bad_triggers_are_one_line_naming_what_is_wrong(runner: PrefectRunner) -> None:
    with pytest.raises(InvalidInput) as wrong:
        await runner.start_run("etl/nightly", {"rows": "many"})
    assert str(wrong.value) == (
        "pipeline 'etl/nightly': param 'rows': expected an integer, got 'many'"
    )
    with pytest.raises(NotFound) as missing:
        await runner.start_run("etl/weekly")
    assert str(missing.value).startswith("no pipeline 'etl/weekly' on runner orchestra")
    assert "etl/nightly" in str(missing.value)
    # Runs are filtered by the name they record: a flow's runs without a deployment.
    assert all(run.pipeline == "etl" for run in await runner.runs(pipeline="etl"))
    with pytest.raises(NotFound, match="runner orchestra has no run 'no-such-run'"):
        await runner.resolve_run("no-such-run")


async def test_failed_run_retried_after_the_flag_is_gone(
    runner: PrefectRunner, prefect_server: PrefectServer, tmp_path: Path
) -> None:
    flag = tmp_path / "fail"
    flag.touch()
    run = await runner.start_run("etl/nightly", {"flag": str(flag)})
    assert (await runner.wait_run(run.id)).status is RunStatus.FAILED

    async def failing() -> RunDetail | None:
        detail = await runner.run(run.id)
        task = next((t for t in detail.tasks if short(t.name) == "transform_b"), None)
        return detail if task is not None and task.status is TaskStatus.FAILED else None

    detail = await eventually(failing)
    (broken,) = [t for t in detail.tasks if short(t.name) == "transform_b"]
    assert broken.reason is not None and "boom" in broken.reason
    streaks = {s.run.pipeline: s for s in await runner.failures()}
    assert streaks["etl/nightly"].run.id == run.id

    plan = await runner.rerun_plan(run.id)
    assert plan == [task.name for task in detail.tasks]
    with pytest.raises(Unsupported, match="retries a flow run as a whole"):
        await runner.rerun(run.id, RerunMode.FAILED)
    with pytest.raises(Refused, match="has already finished"):
        await runner.cancel(run.id)

    flag.unlink()
    again = await runner.rerun(run.id)
    assert again.id == run.id and again.status is RunStatus.QUEUED
    assert (await runner.wait_run(run.id)).status is RunStatus.SUCCEEDED
    final = await runner.run(run.id)
    assert final.tasks[0].attempts == 2
    assert run.id not in {s.run.id for s in await runner.failures()}


async def test_cancel_a_slow_run(runner: PrefectRunner, prefect_server: PrefectServer) -> None:
    after = await runner.last_seq()
    run = await runner.start_run("etl/nightly", {"slow": "120"})
    prefect_server.wait_run(run.id, final=False)
    with pytest.raises(Refused, match="has not finished"):
        await runner.rerun(run.id)
    cancelling = await runner.cancel(run.id)
    assert cancelling.status is RunStatus.CANCELLING  # asked, not yet stopped
    assert not cancelling.status.finished
    assert run.id in {r.id for r in await runner.runs(status=RunStatus.RUNNING)}
    assert [r.id for r in await runner.runs(status=RunStatus.CANCELLING)] in ([run.id], [])
    statuses: list[RunStatus] = []
    while RunStatus.CANCELLED not in statuses:
        page = await runner.wait_events(after, wait=5.0)
        after = page.last_seq
        statuses += [
            e.data.status for e in page.events if isinstance(e, RunEvent) and e.run_id == run.id
        ]
    # Shown as cancelling, then cancelled: never back to running in between.
    assert statuses[statuses.index(RunStatus.CANCELLING) :][-1] is RunStatus.CANCELLED
    assert RunStatus.RUNNING not in statuses[statuses.index(RunStatus.CANCELLING) :]
    assert (await runner.run(run.id)).run.status is RunStatus.CANCELLED


async def test_a_tick_that_read_a_run_before_its_cancel_never_publishes_it_after(
    runner: PrefectRunner, prefect_server: PrefectServer
) -> None:
    """The cancel lands while a tick maps the run it read running: that tick publishes
    nothing for it (its read is older than the runner's cancelling), a later one what the
    run is by then. Before, the running it read came after the cancelling."""
    after = await runner.last_seq()  # the baseline tick: the run is not there yet
    map_runs = runner.poller.hooks.run
    run = await runner.start_run("etl/nightly", {"slow": "120"})
    told: list[RunStatus] = []

    async def cancel_while_mapping(runs: list[FlowRun]) -> list[Run]:
        if not told and any(r.id == run.id and r.state_type == "RUNNING" for r in runs):
            told.append((await runner.cancel(run.id)).status)
        return await map_runs(runs)

    runner.poller.hooks.run = cancel_while_mapping
    statuses: list[RunStatus] = []
    while RunStatus.CANCELLED not in statuses:
        page = await runner.wait_events(after, wait=5.0)
        after = page.last_seq
        statuses += [
            e.data.status for e in page.events if isinstance(e, RunEvent) and e.run_id == run.id
        ]
    assert told == [RunStatus.CANCELLING]  # told by the runner while the tick mapped
    assert RunStatus.RUNNING not in statuses[statuses.index(RunStatus.CANCELLING) :]
    assert statuses[-1] is RunStatus.CANCELLED


async def test_refusals_from_prefect_are_one_line(
    runner: PrefectRunner, prefect_server: PrefectServer
) -> None:
    flow_id = prefect_server.call("POST", "flows/", {"name": "adhoc"})["id"]
    adhoc = prefect_server.call(
        "POST", "flow_runs/", {"flow_id": flow_id, "state": {"type": "FAILED", "name": "Failed"}}
    )
    with pytest.raises(Refused) as refused:
        await runner.rerun(adhoc["id"])
    assert str(refused.value) == (
        "runner orchestra (prefect) refused:"
        " Cannot reschedule a run without an associated deployment."
    )
    assert (await runner.run(adhoc["id"])).run.pipeline == "adhoc"


async def test_log_lines_follow_as_events(runner: PrefectRunner) -> None:
    """A log read while the run goes on, then followed on the event feed: every line once,
    numbered on from the read, up to the flow's last line (which lands after its end)."""
    run = await runner.start_run("etl/nightly", {"slow": "3", "rows": "2"})
    after = await runner.last_seq()
    first = await runner.read_log(run.id, FLOW_TASK)
    numbers = [line.n for line in first.lines]
    texts = [line.text for line in first.lines]
    while not any("Finished in state Completed" in text for text in texts):
        page = await runner.wait_events(after, wait=5.0)
        after = page.last_seq
        for event in page.events:
            if isinstance(event, LogEvent) and event.run_id == run.id and event.task == FLOW_TASK:
                numbers.append(event.data.n)
                texts.append(event.data.text)
    assert numbers == list(range(len(numbers))) and len(numbers) > len(first.lines)
    final = await runner.read_log(run.id, FLOW_TASK)
    assert [line.text for line in final.lines][: len(texts)] == texts


async def test_a_subflow_is_a_node_and_a_run_of_its_own(runner: PrefectRunner) -> None:
    parent = await runner.start_run("nested/nightly")
    assert (await runner.wait_run(parent.id)).status is RunStatus.SUCCEEDED
    detail = await settled(runner, parent.id, count=2)
    (child_node,) = [task for task in detail.tasks if task.name != FLOW_TASK]
    # Prefect labels a subflow's node FLOW / RUN-NAME.
    flow, _, name = child_node.name.partition(" / ")
    assert flow == "etl"
    child_id = await runner.resolve_run(name)
    child = (await runner.run(child_id)).run
    assert child.pipeline == "etl" and child.trigger == f"subflow of {parent.label}"
    assert child.id in [run.id for run in await runner.runs(pipeline="etl")]
    assert child.params == {"rows": 2, "slow": 0.0, "flag": ""}
    assert child.status is RunStatus.SUCCEEDED

    async def logged() -> bool | None:
        chunk = await runner.read_log(parent.id, FLOW_TASK)
        return True if "before the subflow" in [line.text for line in chunk.lines] else None

    assert await eventually(logged)
