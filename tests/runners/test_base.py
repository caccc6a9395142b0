"""BaseRunner's shared behaviour, for a runner kind that implements only `runs`, `run` and a
log read: run references, `runs_page` counting through `runs`, paged and tailed log reads,
`wait_run` by polling, and Unsupported (with the declared reason) for everything else."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime
from typing import Any

import pytest

from shipdeck.errors import InvalidInput, NotFound, Unsupported
from shipdeck.model import LogChunk, LogLine, RerunMode, Run, RunDetail, RunStatus
from shipdeck.model.capabilities import DOING, Capabilities, Capability, EventDelivery
from shipdeck.runners.base import COUNT_PAGE, UNSUPPORTED_WITHOUT, BaseRunner, read_log_pages
from shipdeck.runners.protocol import Runner

WHEN = datetime(2026, 1, 5, 9, tzinfo=UTC)
LOG_PAGE = 4


def made(number: int, pipeline: str, status: str = "succeeded") -> Run:
    # The id as text: valid whether run ids are numbers or strings.
    return Run.model_validate(
        {"id": str(number), "pipeline": pipeline, "status": status, "created_at": WHEN}
    )


class Listed(BaseRunner):
    """Runs held in a list (newest first) and one task's log; nothing else."""

    def __init__(self, runs: list[Run], lines: int = 0) -> None:
        self._name = "listed"
        self.listed = runs
        self.lines = [
            LogLine.model_validate({"n": n, "ts": WHEN, "stream": "out", "text": f"line {n}"})
            for n in range(lines)
        ]
        self.fetched: list[tuple[int, int]] = []
        self.looks = 0

    async def capabilities(self) -> Capabilities:
        return Capabilities(
            kind="listed",
            can=frozenset({Capability.PIPELINES, Capability.LOGS}),
            events=EventDelivery.NONE,
            poll_interval=0.01,
            reasons={Capability.CANCEL: "it only lists"},
        )

    async def pipelines(self) -> list[Any]:
        return []

    async def runs(
        self,
        *,
        pipeline: str | None = None,
        status: Any = None,
        text: str | None = None,
        limit: int = 50,
        before: Any = None,
    ) -> list[Run]:
        runs = [r for r in self.listed if pipeline is None or r.pipeline == pipeline]
        if before is not None:
            runs = runs[[r.id for r in runs].index(before) + 1 :]
        return runs[:limit]

    async def run(self, run_id: Any) -> RunDetail:
        self.looks += 1
        found = next((r for r in self.listed if str(r.id) == str(run_id)), None)
        if found is None:
            raise NotFound(f"no run #{run_id}")
        if self.looks >= 3 and not found.status.finished:
            found = found.model_copy(update={"status": RunStatus.SUCCEEDED})
        return RunDetail(run=found, tasks=[])

    async def read_log(
        self, run_id: Any, task: str, *, start: int = 0, limit: int | None = 1000
    ) -> LogChunk:
        async def fetch(start: int, limit: int) -> LogChunk:
            assert limit <= LOG_PAGE
            self.fetched.append((start, limit))
            first = max(0, len(self.lines) + start) if start < 0 else start
            return LogChunk.model_validate(
                {
                    "run_id": run_id,
                    "task": task,
                    "start": first,
                    "lines": self.lines[first : first + limit],
                    "total": len(self.lines),
                    "finished": True,
                }
            )

        return await read_log_pages(fetch, start=start, limit=limit, page=LOG_PAGE)


def history(count: int) -> list[Run]:
    """`count` runs, newest first: every third of pipeline b, the rest of a."""
    return [made(n, "b" if n % 3 == 0 else "a") for n in range(count, 0, -1)]


async def test_runs_page_counts_every_match_through_runs() -> None:
    runs = history(COUNT_PAGE * 2 + 7)
    runner = Listed(runs)
    of_a = [r for r in runs if r.pipeline == "a"]
    page = await runner.runs_page(pipeline="a", limit=3)
    assert (page.runs, page.total) == (of_a[:3], len(of_a))
    older = await runner.runs_page(pipeline="a", limit=3, before=of_a[2].id)
    assert (older.runs, older.total) == (of_a[3:6], len(of_a))
    everything = await runner.runs_page(limit=len(runs) + 1)
    assert (everything.runs, everything.total) == (runs, len(runs))
    assert (await runner.runs_page(pipeline="c")).total == 0


async def test_run_references_over_runs() -> None:
    runner = Listed(history(12))
    assert str(await runner.resolve_run("last")) == "12"
    assert str(await runner.resolve_run(" last:a ")) == "11"
    assert str(await runner.resolve_run("last:b")) == "12"
    assert str(await runner.resolve_run("#7")) == str(await runner.resolve_run("7")) == "7"
    with pytest.raises(NotFound, match="#99"):
        await runner.resolve_run("#99")
    # Ids are opaque to the base: a word is looked up as it is; nothing at all is refused.
    with pytest.raises(NotFound):
        await runner.resolve_run("seven")
    with pytest.raises(InvalidInput, match="expected a run id, #N or 'last'"):
        await runner.resolve_run("#")
    with pytest.raises(InvalidInput, match="expected last:PIPELINE"):
        await runner.resolve_run("last:")
    with pytest.raises(NotFound, match="no pipeline 'nowhere' on runner listed"):
        await runner.resolve_run("last:nowhere")
    with pytest.raises(NotFound, match="there are no runs yet"):
        await Listed([]).resolve_run("last")


async def test_log_reads_come_in_bounded_pages_and_tails_from_the_end() -> None:
    runner = Listed(history(1), lines=10)
    whole = await runner.read_log(1, "t", limit=None)
    assert [line.n for line in whole.lines] == list(range(10)) and whole.total == 10
    assert runner.fetched == [(0, 4), (4, 4), (8, 4)]
    runner.fetched.clear()
    tail = await runner.read_log(1, "t", start=-3)
    assert (tail.start, [line.n for line in tail.lines]) == (7, [7, 8, 9])
    middle = await runner.read_log(1, "t", start=2, limit=5)
    assert (middle.start, [line.n for line in middle.lines]) == (2, [2, 3, 4, 5, 6])
    long_tail = await runner.read_log(1, "t", start=-6, limit=None)
    assert [line.n for line in long_tail.lines] == [4, 5, 6, 7, 8, 9]
    assert (await runner.read_log(1, "t", start=20)).lines == []


async def test_wait_run_looks_until_the_run_has_finished() -> None:
    runner = Listed([made(1, "a", "running")])
    assert (await runner.wait_run(1)).status == "succeeded"
    assert runner.looks == 3


async def test_what_it_does_not_implement_is_unsupported_with_its_reason() -> None:
    runner = Listed(history(1))
    with pytest.raises(Unsupported, match=r"^runner listed cannot cancel runs: it only lists$"):
        await runner.cancel(1)
    with pytest.raises(Unsupported, match=r"^runner listed \(listed\) cannot rerun failed tasks$"):
        await runner.rerun(1, RerunMode.FAILED)
    with pytest.raises(Unsupported, match="rerun from a task"):
        await runner.rerun(1, mode=RerunMode.FROM, from_task="x")
    with pytest.raises(Unsupported, match="deploy services"):
        await runner.deploy("api", "r1", "dev")
    with pytest.raises(Unsupported, match="no event feed"):
        await runner.last_seq()


class Bare(BaseRunner):
    """A runner kind that implements nothing but its declaration."""

    _name = "bare"

    async def capabilities(self) -> Capabilities:
        return Capabilities(kind="bare", can=frozenset())


async def test_every_contract_method_a_kind_leaves_out_says_which_capability_it_lacks() -> None:
    bare = Bare()
    contract = [name for name, value in vars(Runner).items() if inspect.iscoroutinefunction(value)]
    assert isinstance(bare, Runner) and len(contract) > 30
    for method in contract:
        assert inspect.iscoroutinefunction(getattr(bare, method)), method
    for what, methods in UNSUPPORTED_WITHOUT.items():
        for method in methods:
            assert method in contract
            with pytest.raises(Unsupported) as lacking:
                await getattr(bare, method)("any", "arguments", limit=1)
            assert str(lacking.value) == f"runner bare (bare) cannot {DOING[what]}", method
    with pytest.raises(AttributeError, match="'Bare' object has no attribute 'state'"):
        _ = bare.state
