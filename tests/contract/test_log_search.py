"""The Runner contract's log search, in process and over HTTP (TCP and a Unix socket)."""

from __future__ import annotations

import pytest

from shipdeck.errors import InvalidInput, NotFound
from shipdeck.model import WorkspaceSpec
from shipdeck.model.capabilities import Capability
from shipdeck.runners.protocol import Runner
from tests.contract.harness import WORKSPACE_FILE, needs

COLOURED = """
[pipelines.coloured]
[pipelines.coloured.tasks.print]
run = "python3 coloured.py"
"""

PRINT_COLOURED = r"""
print("\x1b[31mFAI\x1b[0mLED test_one")
print("passed test_two")
print("\x1b]0;FAILED in a title\x07ok")
print("progress FAILED\rdone")
print("FAILED test_three")
"""


@pytest.fixture
def runner(contract_runner: Runner) -> Runner:
    return contract_runner


@pytest.fixture
def workspace(contract_seed: WorkspaceSpec) -> WorkspaceSpec:
    return contract_seed


async def search_all(
    runner: Runner, run_id: str, task: str, pattern: str, **options: object
) -> list[int]:
    found: list[int] = []
    start = 0
    while True:
        page = await runner.search_log(run_id, task, pattern, start=start, **options)  # type: ignore[arg-type]
        assert (page.run_id, page.task, page.start) == (run_id, task, start)
        found += page.lines
        if page.done:
            return found
        assert page.next > start
        start = page.next


@needs(Capability.TRIGGER_PARAMS, Capability.LOG_SEARCH)
async def test_search_pages_windows_and_options(runner: Runner) -> None:
    run = await runner.start_run("chatty", {"lines": "300"})
    await runner.wait_run(run.id)
    lines = (await runner.read_log(run.id, "talk", limit=None)).lines
    total = len(lines)

    def where(check: object) -> list[int]:
        return [line.n for line in lines if check(line.text)]  # type: ignore[operator]

    page = await runner.search_log(run.id, "talk", "line 1")
    assert page.lines == where(lambda t: "line 1" in t)
    assert (page.next, page.total, page.done, page.finished) == (total, total, True, True)

    first = await runner.search_log(run.id, "talk", "line 1", limit=5)
    assert first.lines == page.lines[:5] and not first.done and first.next == page.lines[4] + 1
    assert await search_all(runner, run.id, "talk", "line 1", limit=7) == page.lines

    window = await runner.search_log(run.id, "talk", "line 1", start=100, end=200)
    assert window.lines == [n for n in page.lines if 100 <= n < 200] and window.done

    assert (await runner.search_log(run.id, "talk", r"line \d5$", regex=True)).lines == where(
        lambda t: t.startswith("line ") and len(t) == 7 and t.endswith("5")
    )
    assert (await runner.search_log(run.id, "talk", "LINE 2")).lines == []  # smart case
    upper = await runner.search_log(run.id, "talk", "LINE 2", ignore_case=True)
    assert upper.lines == where(lambda t: "line 2" in t)
    assert (await runner.search_log(run.id, "talk", "line", start=total + 5)).lines == []


@WORKSPACE_FILE
@needs(Capability.TRIGGER, Capability.LOGS, Capability.LOG_SEARCH)
async def test_search_matches_what_lines_show(runner: Runner, workspace: WorkspaceSpec) -> None:
    (workspace.root / "coloured.py").write_text(PRINT_COLOURED)
    with (workspace.root / "shipdeck.toml").open("a") as file:
        file.write(COLOURED)  # the runner follows its workspace file
    run = await runner.start_run("coloured")
    await runner.wait_run(run.id)
    page = await runner.search_log(run.id, "print", "FAILED")
    out = [
        line.n for line in (await runner.read_log(run.id, "print")).lines if line.stream == "out"
    ]
    assert page.lines == [out[0], out[4]]  # split by a colour code: found; in a title or an
    # overwritten frame: not shown, not found
    codes = await runner.search_log(run.id, "print", "31m")
    assert codes.lines == []  # the codes are not text


@needs(Capability.TRIGGER_PARAMS, Capability.LOG_SEARCH)
@pytest.mark.parametrize(
    ("pattern", "options", "error", "message"),
    [
        ("a(", {"regex": True}, InvalidInput, "not a valid regular expression"),
        ("", {}, InvalidInput, "pattern"),
    ],
)
async def test_bad_searches_are_refused(
    runner: Runner, pattern: str, options: dict[str, bool], error: type[Exception], message: str
) -> None:
    run = await runner.start_run("chatty", {"lines": "3"})
    await runner.wait_run(run.id)
    with pytest.raises(error, match=message):
        await runner.search_log(run.id, "talk", pattern, **options)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        await runner.search_log(run.id, "nope", "x")
    with pytest.raises(NotFound):
        await runner.search_log(f"{run.id}0", "talk", "x")  # no run has that id
