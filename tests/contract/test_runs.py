"""The Runner contract: every test runs against the in-process runner and over HTTP (TCP, Unix)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from shipdeck.errors import InvalidInput, NotFound, Refused, ShipdeckError
from shipdeck.model import (
    Event,
    EventKind,
    RerunMode,
    Run,
    RunPage,
    RunStatus,
    TaskStatus,
    WorkspaceSpec,
)
from shipdeck.model.capabilities import Capability
from shipdeck.runners.protocol import Runner
from tests.contract.harness import EVENTS, WORKSPACE_FILE, Seeder, needs


@pytest.fixture
def runner(contract_runner: Runner) -> Runner:
    return contract_runner


@pytest.fixture
def workspace(contract_seed: WorkspaceSpec) -> WorkspaceSpec:
    return contract_seed


async def events_until_finished(runner: Runner, after: int, run_id: str) -> list[Event]:
    """Every event after `after` up to the one announcing that `run_id` finished."""
    seen: list[Event] = []
    for _ in range(500):
        page = await runner.wait_events(after, wait=5)
        assert not page.reset
        seen.extend(page.events)
        after = page.last_seq
        for event in page.events:
            if (
                event.kind == EventKind.RUN
                and event.run_id == run_id
                and RunStatus(event.data.status).finished
            ):
                return seen
    raise AssertionError("run never finished on the event feed")


@WORKSPACE_FILE
@needs(Capability.PIPELINES, Capability.STATIC_DAG)
async def test_pipelines_in_declaration_order(runner: Runner, workspace: WorkspaceSpec) -> None:
    pipelines = await runner.pipelines()
    assert [p.name for p in pipelines] == ["build", "slow", "chatty"]
    assert pipelines[0] == workspace.pipelines["build"]
    assert list(pipelines[0].tasks) == ["compile", "test", "package"]


@needs(Capability.TRIGGER_PARAMS, Capability.LOGS, Capability.METRICS)
async def test_run_succeeds_with_tasks_logs_and_metrics(runner: Runner) -> None:
    run = await runner.start_run("build", {"greeting": "hi"}, trigger="contract")
    assert run.pipeline == "build" and run.trigger == "contract"
    assert run.params == {"fail": False, "greeting": "hi"}
    done = await runner.wait_run(run.id)
    assert done.status == RunStatus.SUCCEEDED
    detail = await runner.run(run.id)
    assert [t.name for t in detail.tasks] == ["compile", "test", "package"]
    assert all(t.status == TaskStatus.SUCCEEDED for t in detail.tasks)
    assert detail.final_metrics() == {"size": 42.0}
    log = await runner.read_log(run.id, "compile")
    assert [line.text for line in log.lines][:2] == ["compiling", "greeting=hi"]
    assert log.finished and log.total == len(log.lines)


@needs(Capability.TRIGGER_PARAMS, Capability.LOGS)
async def test_log_ranges_and_tail(runner: Runner) -> None:
    run = await runner.start_run("chatty", {"lines": "30"})
    await runner.wait_run(run.id)
    full = await runner.read_log(run.id, "talk", limit=None)
    texts = [line.text for line in full.lines if line.stream.value == "out"]
    assert texts == [f"line {i}" for i in range(30)]
    middle = await runner.read_log(run.id, "talk", start=5, limit=3)
    assert [line.n for line in middle.lines] == [5, 6, 7]
    assert middle.total == full.total
    tail = await runner.read_log(run.id, "talk", start=-2)
    assert [line.n for line in tail.lines] == [full.total - 2, full.total - 1]


@needs(
    Capability.TRIGGER_PARAMS,
    Capability.RERUN_PREVIEW,
    Capability.RERUN_FAILED,
    Capability.RERUN_FROM,
)
async def test_failure_rerun_plan_and_rerun(runner: Runner) -> None:
    run = await runner.start_run("build", {"fail": "true"})
    failed = await runner.wait_run(run.id)
    assert failed.status == RunStatus.FAILED
    detail = await runner.run(run.id)
    statuses = {t.name: t.status for t in detail.tasks}
    assert statuses == {
        "compile": TaskStatus.SUCCEEDED,
        "test": TaskStatus.FAILED,
        "package": TaskStatus.SKIPPED,
    }
    assert await runner.rerun_plan(run.id, RerunMode.FAILED) == ["test", "package"]
    # package needs test, which failed: a rerun from package runs test again first.
    assert await runner.rerun_plan(run.id, RerunMode.FROM, from_task="package") == [
        "test",
        "package",
    ]
    assert await runner.rerun_plan(run.id, RerunMode.FROM, from_task="test") == [
        "test",
        "package",
    ]
    again = await runner.rerun(run.id, RerunMode.FAILED)
    assert again.parent_id == run.id and again.rerun_mode == RerunMode.FAILED
    await runner.wait_run(again.id)
    kept = (await runner.run(again.id)).task("compile")
    assert kept is not None and kept.reused_from == run.id


@EVENTS
@needs(Capability.TRIGGER, Capability.CANCEL, Capability.LOGS)
async def test_cancel_running_run(runner: Runner) -> None:
    after = await runner.last_seq()
    run = await runner.start_run("slow")
    # Wait until the task is really running (it printed), then cancel.
    started = False
    while not started:
        page = await runner.wait_events(after, wait=5)
        after = page.last_seq
        started = any(e.kind == EventKind.LOG and e.run_id == run.id for e in page.events)
    cancelled = await runner.cancel(run.id)
    assert cancelled.id == run.id
    final = await runner.wait_run(run.id)
    assert final.status == RunStatus.CANCELLED
    with pytest.raises(Refused):
        await runner.cancel(run.id)


@needs(Capability.PIPELINES)
async def test_runs_listing_paging_and_references(
    runner: Runner, contract_seeder: Seeder, contract_pipeline: Callable[[str], str]
) -> None:
    first = await contract_seeder("build", {})
    second = await contract_seeder("chatty", {"lines": "1"})
    listed = await runner.runs()
    assert [r.id for r in listed][:2] == [second, first]
    assert [r.id for r in await runner.runs(pipeline=contract_pipeline("build"))] == [first]
    assert [r.id for r in await runner.runs(limit=1)] == [second]
    assert [r.id for r in await runner.runs(before=second)] == [first]
    assert await runner.resolve_run("last") == second
    assert await runner.resolve_run(f"#{first}") == first
    assert await runner.resolve_run(str(first)) == first


@needs(Capability.PIPELINES, Capability.METRICS)
async def test_run_detail_has_its_status_params_and_metrics(
    runner: Runner, contract_seeder: Seeder, contract_pipeline: Callable[[str], str]
) -> None:
    run_id = await contract_seeder("build", {"greeting": "hi"}, metrics={"size": [42.0]})
    detail = await runner.run(run_id)
    assert (detail.run.id, detail.run.pipeline) == (run_id, contract_pipeline("build"))
    assert detail.run.status == RunStatus.SUCCEEDED and detail.run.finished_at is not None
    assert detail.run.params["greeting"] == "hi"
    assert detail.final_metrics() == {"size": 42.0}
    broken = await contract_seeder("build", {"fail": "true"}, status=RunStatus.FAILED)
    assert (await runner.run(broken)).run.status == RunStatus.FAILED


@WORKSPACE_FILE
@needs(Capability.TRIGGER_PARAMS, Capability.PIPELINES)
async def test_runs_of_a_pipeline_filter_by_the_recorded_name_declared_or_not(
    runner: Runner, workspace: WorkspaceSpec
) -> None:
    """A filter is a recorded name, never checked against shipdeck.toml: runs of a pipeline
    removed since (or never declared, like `deploy:api`) are listed; an unknown name has none."""
    run = await runner.start_run("chatty", {"lines": "1"})
    await runner.wait_run(run.id)
    text = workspace.file.read_text()
    workspace.file.write_text(text.replace("[pipelines.chatty", "[pipelines.talky"))
    assert [p.name for p in await runner.pipelines()] == ["build", "slow", "talky"]
    assert [r.id for r in await runner.runs(pipeline="chatty")] == [run.id]
    assert await runner.runs(pipeline="talky") == []
    assert await runner.runs(pipeline="deploy:nowhere") == []
    # `last:NAME` the same way: the newest recorded run, declared or not.
    assert await runner.resolve_run("last:chatty") == run.id
    with pytest.raises(NotFound, match="no pipeline 'nowhere'"):
        await runner.resolve_run("last:nowhere")
    with pytest.raises(NotFound, match="there are no runs of pipeline 'talky' yet"):
        await runner.resolve_run("last:talky")


def listed(runs: list[Run]) -> list[str]:
    return [r.id for r in runs]


def counted(page: RunPage, total: int, *, newer: int = 0) -> int:
    """`page.total` as the test expects it: the count of every match (`total`), or, from a
    runner that cannot count (`exact` False), this page's runs and one more when more follow
    (`newer`: the matching runs listed before this page)."""
    if page.exact:
        return total
    return len(page.runs) + (newer + len(page.runs) < total)


@needs(Capability.PIPELINES)
async def test_runs_filter_on_the_runner_with_a_total(
    runner: Runner, contract_seeder: Seeder, contract_pipeline: Callable[[str], str]
) -> None:
    """Status, pipeline and words are applied by the runner, over every recorded run (not a
    page the client already has), and `runs_page` says how many match in all."""
    ids: dict[str, str] = {}
    for name, pipeline, params, status in [
        ("ok", "build", {"greeting": "hello"}, RunStatus.SUCCEEDED),
        ("broken", "build", {"fail": "true", "greeting": "hello"}, RunStatus.FAILED),
        ("quiet", "chatty", {"lines": "1"}, RunStatus.SUCCEEDED),
        ("loud", "chatty", {"lines": "3"}, RunStatus.SUCCEEDED),
        ("hi", "build", {"greeting": "hi"}, RunStatus.SUCCEEDED),
    ]:
        ids[name] = await contract_seeder(pipeline, params, status=status)

    assert listed(await runner.runs(status=RunStatus.FAILED)) == [ids["broken"]]
    build = contract_pipeline("build")
    assert listed(await runner.runs(pipeline=build, status=RunStatus.SUCCEEDED)) == [
        ids["hi"],
        ids["ok"],
    ]
    # Words: a param (its value's beginning), the run's number, all of them at once (AND).
    assert listed(await runner.runs(text="greeting=hi")) == [ids["hi"]]
    assert listed(await runner.runs(text="greeting=hel")) == [ids["broken"], ids["ok"]]
    assert listed(await runner.runs(text="fail=true")) == [ids["broken"]]
    assert listed(await runner.runs(text="lines=3")) == [ids["loud"]]
    assert listed(await runner.runs(text=f"#{ids['quiet']}")) == [ids["quiet"]]
    assert listed(await runner.runs(text=f"lines=1 #{ids['quiet']}")) == [ids["quiet"]]
    assert await runner.runs(text=f"lines=3 #{ids['quiet']}") == []

    page = await runner.runs_page(pipeline=build, limit=2)
    assert (listed(page.runs), page.total) == ([ids["hi"], ids["broken"]], counted(page, 3))
    older = await runner.runs_page(pipeline=build, limit=2, before=ids["broken"])
    assert (listed(older.runs), older.total) == ([ids["ok"]], counted(older, 3, newer=2))
    everything = await runner.runs_page(limit=1)
    assert (listed(everything.runs), everything.total) == ([ids["hi"]], counted(everything, 5))
    nothing = await runner.runs_page(status=RunStatus.CANCELLED)
    assert (nothing.runs, nothing.total) == ([], 0)


@needs(Capability.TRIGGER_PARAMS, Capability.PIPELINES)
async def test_runs_text_finds_task_reasons_and_triggers(runner: Runner) -> None:
    """Any other word is looked for in what the runner recorded of the run: its tasks'
    reasons, its pipeline and trigger (the runs are started here, with a trigger)."""
    ids: dict[str, str] = {}
    for name, pipeline, params in [
        ("broken", "build", {"fail": "true"}),
        ("quiet", "chatty", {"lines": "1"}),
        ("loud", "chatty", {"lines": "3"}),
    ]:
        run = await runner.start_run(pipeline, params, trigger="contract")
        await runner.wait_run(run.id)
        ids[name] = run.id
    assert listed(await runner.runs(text="EXIT 3")) == [ids["broken"]]
    assert listed(await runner.runs(text="chatty contract")) == [ids["loud"], ids["quiet"]]
    assert await runner.runs(text="chatty nothing-like-this") == []


@needs(Capability.FAILURES)
async def test_failures_count_each_pipelines_streak_since_it_last_succeeded(
    runner: Runner, contract_seeder: Seeder
) -> None:
    async def build(fail: bool) -> str:
        status = RunStatus.FAILED if fail else RunStatus.SUCCEEDED
        return await contract_seeder("build", {"fail": str(fail).lower()}, status=status)

    assert await runner.failures() == []
    await build(True)
    await build(False)  # fixes the first
    first = await build(True)
    await build(True)
    newest = await build(True)
    # A cancelled run neither fails nor fixes.
    await contract_seeder("slow", {}, status=RunStatus.CANCELLED)
    streaks = await runner.failures()
    assert [(s.run.id, s.count, s.env) for s in streaks] == [(newest, 3, None)]
    assert streaks[0].run.status == RunStatus.FAILED and first != newest  # ids are opaque
    await build(False)
    assert await runner.failures() == []


@EVENTS
@needs(Capability.TRIGGER_PARAMS, Capability.LOGS)
async def test_event_feed_follows_a_run(runner: Runner) -> None:
    after = await runner.last_seq()
    run = await runner.start_run("chatty", {"lines": "20"})
    events = await events_until_finished(runner, after, run.id)
    seqs = [e.seq for e in events]
    assert seqs == sorted(set(seqs)) and seqs[0] > after
    logs = [e.data.text for e in events if e.kind == EventKind.LOG and e.data.stream == "out"]
    assert logs == [f"line {i}" for i in range(20)]
    kinds = {e.kind for e in events}
    assert {EventKind.RUN, EventKind.TASK, EventKind.LOG} <= kinds


@EVENTS
async def test_wait_events_times_out_empty_and_resets_when_asked_for_the_future(
    runner: Runner,
) -> None:
    last = await runner.last_seq()
    page = await runner.wait_events(last, wait=0.2)
    assert page.events == [] and page.last_seq == last and not page.reset
    future = await runner.wait_events(last + 1000, wait=0)
    assert future.reset


def case(call: object, error: type[ShipdeckError], words: str, *needed: Capability) -> object:
    """One call that must fail so, run where the runner has what it needs."""
    return pytest.param(call, error, words, marks=needs(*needed))


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        case(lambda r: r.start_run("nope"), NotFound, "no pipeline 'nope'", Capability.TRIGGER),
        case(
            lambda r: r.start_run("build", {"bogus": "1"}),
            InvalidInput,
            "no param 'bogus'",
            Capability.TRIGGER_PARAMS,
        ),
        case(lambda r: r.run("999"), NotFound, "#999", Capability.PIPELINES),
        case(lambda r: r.run("a1b2-c3"), NotFound, "no run a1b2-c3", Capability.PIPELINES),
        case(
            lambda r: r.read_log("a?b#c d", "compile"),
            NotFound,
            "no run a?b#c d",
            Capability.LOGS,
        ),
        case(lambda r: r.resolve_run("x y"), InvalidInput, "'x y'", Capability.PIPELINES),
        case(
            lambda r: r.resolve_run(""),
            InvalidInput,
            "run reference '': expected a ",
            Capability.PIPELINES,
        ),
        case(lambda r: r.read_log("999", "compile"), NotFound, "#999", Capability.LOGS),
        case(lambda r: r.rerun("999"), NotFound, "#999", Capability.RERUN_ALL),
        case(lambda r: r.cancel("999"), NotFound, "#999", Capability.CANCEL),
    ],
)
async def test_errors_keep_their_class_and_message(
    runner: Runner, call: object, error: type[ShipdeckError], words: str
) -> None:
    assert callable(call)
    with pytest.raises(error) as raised:
        await call(runner)
    assert type(raised.value) is error
    assert words in str(raised.value)
