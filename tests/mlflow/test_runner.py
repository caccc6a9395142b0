"""The MLflow runner against a real `mlflow server`: experiments, runs, child runs, metric
histories, versions, aliases and compare, through the Runner contract."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from shipdeck.config import MlflowEntry
from shipdeck.errors import InvalidInput, NotFound, Refused, Unsupported
from shipdeck.model import RunStatus
from shipdeck.model.capabilities import Capability, EventDelivery
from shipdeck.runners.connect import open_entry
from shipdeck.runners.mlflow.api import MlflowApi
from shipdeck.runners.mlflow.runner import MlflowRunner
from tests.mlflow.conftest import MlflowServer, Seeded, seed

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
async def runner(mlflow_server: MlflowServer) -> AsyncIterator[MlflowRunner]:
    runner = MlflowRunner(MlflowApi(mlflow_server.url, name="lab"))
    try:
        yield runner
    finally:
        await runner.close()


@pytest.fixture
def seeded(mlflow_server: MlflowServer) -> Seeded:
    return seed(mlflow_server, uuid.uuid4().hex[:8], runs=3, steps=5)


async def test_capabilities_say_what_mlflow_cannot(runner: MlflowRunner) -> None:
    declared = await runner.capabilities()
    assert declared.kind == "mlflow"
    assert declared.can == {
        Capability.PIPELINES,
        Capability.METRICS,
        Capability.METRIC_STEPS,
        Capability.MODELS,
        Capability.ALIASES,
        Capability.FAILURES,
    }
    assert declared.events is EventDelivery.POLL and declared.poll_interval == 5.0
    with pytest.raises(Unsupported) as refused:
        await runner.rerun("abc")
    assert str(refused.value) == (
        "runner lab cannot rerun runs: MLflow is not an executor: it records runs that other"
        " programs make"
    )
    with pytest.raises(Unsupported, match="MLflow keeps no task logs"):
        await runner.read_log("abc", "train")
    for what in (Capability.TRIGGER, Capability.CANCEL, Capability.LOGS):
        assert not declared.has(what) and what in declared.reasons


async def test_experiments_and_runs(runner: MlflowRunner, seeded: Seeded) -> None:
    assert seeded.experiment in [p.name for p in await runner.pipelines()]
    runs = await runner.runs(pipeline=seeded.experiment)
    assert [r.label for r in runs] == [r.id[:8] for r in runs]
    newest = runs[0]
    assert newest.id == seeded.run_ids[2] and newest.pipeline == seeded.experiment
    assert newest.status is RunStatus.SUCCEEDED and newest.user == "ana"
    assert newest.params == {"lr": str(0.1 / 3), "epochs": "5"}
    assert newest.started_at is not None and newest.finished_at is not None
    assert newest.duration == 30.0
    child = next(r for r in runs if r.id == seeded.run_ids[3])
    assert child.parent_id == seeded.run_ids[0] and child.status is RunStatus.RUNNING

    failed = await runner.runs(pipeline=seeded.experiment, status=RunStatus.RUNNING)
    assert [r.id for r in failed] == [seeded.run_ids[3]]
    assert [r.id for r in await runner.runs(pipeline=seeded.experiment, text="lr=0.05")] == [
        seeded.run_ids[1]
    ]
    assert [r.id for r in await runner.runs(pipeline=seeded.experiment, text="FOLD")] == [
        seeded.run_ids[3]
    ]
    # `#` and a run's label (or id) is that run, as `#12` is run 12 of the embedded engine.
    label = seeded.run_ids[1][:8]
    assert [r.id for r in await runner.runs(text=f"#{label.upper()}")] == [seeded.run_ids[1]]
    assert [r.id for r in await runner.runs(text=f"#{label} lr=0.05")] == [seeded.run_ids[1]]
    assert await runner.runs(text=f"#{label} lr=0.1") == []
    # `key=value`: a value that begins so, ignoring case (the embedded engine's words).
    assert [r.id for r in await runner.runs(pipeline=seeded.experiment, text="lr=0.0")] == [
        seeded.run_ids[2],
        seeded.run_ids[1],
    ]


async def test_paging_backwards_by_run_id(runner: MlflowRunner, seeded: Seeded) -> None:
    everything = await runner.runs(pipeline=seeded.experiment, limit=100)
    first = await runner.runs(pipeline=seeded.experiment, limit=2)
    second = await runner.runs(pipeline=seeded.experiment, limit=2, before=first[-1].id)
    assert [r.id for r in [*first, *second]] == [r.id for r in everything]
    # A fresh client has no page token for it: it searches older runs instead.
    other = MlflowRunner(MlflowApi(runner.api.url, name="lab"))
    try:
        again = await other.runs(pipeline=seeded.experiment, limit=2, before=first[-1].id)
        assert [r.id for r in again] == [r.id for r in second]
    finally:
        await other.close()


async def test_a_run_with_its_children_and_histories(runner: MlflowRunner, seeded: Seeded) -> None:
    detail = await runner.run(seeded.run_ids[0])
    assert [t.name for t in detail.tasks] == ["fold-0"]
    assert detail.tasks[0].run_id == seeded.run_ids[3]
    auc = [(m.step, m.value) for m in detail.metrics if m.key == "auc"]
    assert auc == [(step, pytest.approx(0.70 + 0.01 * step)) for step in range(5)]
    assert detail.final_metrics()["loss"] == pytest.approx(1.0 - 0.05 * 4)


async def test_run_references(runner: MlflowRunner, seeded: Seeded) -> None:
    full = seeded.run_ids[1]
    assert await runner.resolve_run(full) == full
    assert await runner.resolve_run(full[:8]) == full
    assert await runner.resolve_run(f"last:{seeded.experiment}") == seeded.run_ids[2]
    with pytest.raises(NotFound, match=r"^runner lab \(mlflow\): Run with id="):
        await runner.resolve_run("0" * 32)
    with pytest.raises(InvalidInput, match="expected a run's MLflow id"):
        await runner.resolve_run("#12x")


async def test_models_versions_and_compare(runner: MlflowRunner, seeded: Seeded) -> None:
    summary = next(m for m in await runner.models() if m.name == seeded.model)
    assert (summary.versions, summary.latest, summary.aliases) == (3, "3", {"champion": "1"})
    versions = await runner.model_versions(seeded.model)
    assert [(v.version, v.label, v.aliases) for v in versions] == [
        ("3", "v3", []),
        ("2", "v2", []),
        ("1", "v1", ["champion"]),
    ]
    assert versions[0].run_id == seeded.run_ids[2]
    assert versions[0].metrics["auc"] == pytest.approx(0.74 + 0.04)
    assert versions[0].params["lr"] == str(0.1 / 3)

    comparison = await runner.compare(
        [f"{seeded.model}@champion", f"{seeded.model}@v3", seeded.run_ids[1][:8]]
    )
    assert [s.label for s in comparison.subjects] == [
        f"{seeded.model}@v1",
        f"{seeded.model}@v3",
        seeded.run_ids[1][:8],
    ]
    auc = next(r for r in comparison.rows if r.key == "auc")
    assert [c.best for c in auc.cells] == [False, True, False]
    loss = next(r for r in comparison.rows if r.key == "loss")
    assert [c.best for c in loss.cells] == [False, True, False]
    # The compare view asks each subject's run next: curves by step.
    detail = await runner.run(seeded.run_ids[2])
    assert [m.step for m in detail.metrics if m.key == "auc"] == [0, 1, 2, 3, 4]

    # Read with the comparison (its histories in one request per metric, the children of
    # every compared run in one search): the same detail as read alone.
    await runner.compare([seeded.run_ids[0], seeded.run_ids[1]])
    prefetched = await runner.run(seeded.run_ids[0])
    alone = await runner.run(seeded.run_ids[0])
    assert [t.name for t in prefetched.tasks] == [t.name for t in alone.tasks] == ["fold-0"]
    assert sorted((m.key, m.step, m.value) for m in prefetched.metrics) == sorted(
        (m.key, m.step, m.value) for m in alone.metrics
    )


async def test_alias_move_and_history(
    runner: MlflowRunner, seeded: Seeded, mlflow_server: MlflowServer
) -> None:
    move = await runner.alias(seeded.model, "champion", "v3", reason="better auc")
    assert (move.from_version, move.to_version, move.reason) == ("1", "3", "better auc")
    versions = await runner.model_versions(seeded.model)
    assert versions[0].aliases == ["champion"]
    mlflow_server.post(
        "registered-models/alias", {"name": seeded.model, "alias": "champion", "version": "2"}
    )
    moves = await runner.alias_moves(seeded.model)
    assert [(m.from_version, m.to_version, m.outside) for m in moves] == [
        ("3", "2", True),
        ("1", "3", False),
    ]
    with pytest.raises(NotFound):
        await runner.alias(seeded.model, "champion", "v9")
    read_only = open_entry(MlflowEntry(name="lab", url=runner.api.url, read_only=True))
    try:
        assert not (await read_only.capabilities()).has(Capability.ALIASES)
        with pytest.raises(Refused, match=r"^alias refused: read-only mode \(runner lab is"):
            await read_only.alias(seeded.model, "champion", "v1")
        versions = await runner.model_versions(seeded.model)
        assert versions[0].aliases == [] and "champion" in versions[1].aliases
    finally:
        await read_only.close()


async def test_failures(runner: MlflowRunner, mlflow_server: MlflowServer) -> None:
    seeded = seed(mlflow_server, uuid.uuid4().hex[:8], runs=1)
    for index in range(2):
        created = mlflow_server.post(
            "runs/create",
            {
                "experiment_id": seeded.experiment_id,
                "run_name": f"bad-{index}",
                "start_time": 1_800_000_000_000 + index,
            },
        )
        mlflow_server.post(
            "runs/update", {"run_id": created["run"]["info"]["run_id"], "status": "FAILED"}
        )
    streak = next(f for f in await runner.failures() if f.run.pipeline == seeded.experiment)
    assert streak.count == 2 and streak.run.status is RunStatus.FAILED


async def test_events_by_polling(
    runner: MlflowRunner, seeded: Seeded, mlflow_server: MlflowServer
) -> None:
    runner.poll_interval = 0.2
    runner.api.breaker.interval = 0.2
    start = await runner.last_seq()
    created = mlflow_server.post(
        "runs/create", {"experiment_id": seeded.experiment_id, "run_name": "late"}
    )
    page = await runner.wait_events(start, wait=10)
    run_events = [e for e in page.events if e.kind == "run"]
    assert [e.run_id for e in run_events] == [created["run"]["info"]["run_id"]]
    assert page.last_seq == page.events[-1].seq


class HeldRunReads(httpx.AsyncBaseTransport):
    """httpx's own transport to the real server, each `runs/get` held until `release` is
    set; the paths asked, in order."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.release = asyncio.Event()
        self.held = asyncio.Event()
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.rpartition("/mlflow/")[2]
        self.paths.append(path)
        if path == "runs/get":
            self.held.set()
            await self.release.wait()
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_poll_waits_for_the_front_ends_reads(
    mlflow_server: MlflowServer, seeded: Seeded
) -> None:
    held = HeldRunReads()
    runner = MlflowRunner(MlflowApi(mlflow_server.url, name="lab", transport=held))
    try:
        reading = asyncio.ensure_future(runner.run(seeded.run_ids[0]))
        await held.held.wait()
        looking = asyncio.ensure_future(runner.last_seq())  # the first look
        await asyncio.sleep(0.5)
        assert held.paths == ["runs/get"] and not looking.done()
        held.release.set()
        detail = await reading
        await looking
        assert detail.run.id == seeded.run_ids[0]
        assert "registered-models/search" in held.paths  # the look, once the read was answered
    finally:
        await runner.close()


async def test_runs_page_reads_one_page_and_says_more_follow(
    runner: MlflowRunner, seeded: Seeded
) -> None:
    page = await runner.runs_page(pipeline=seeded.experiment, limit=2)
    assert len(page.runs) == 2 and page.total == 3 and not page.exact
    rest = await runner.runs_page(pipeline=seeded.experiment, limit=2, before=page.runs[-1].id)
    # The runs newer than `before` are not counted: a total of 2 is not every match (4).
    assert len(rest.runs) == 2 and rest.total == 2 and not rest.exact
