"""The runner follows its workspace file (the contract suite: in process, over TCP and Unix).

A daemon lives through many edits of shipdeck.toml: a changed file that loads is what the next
request works with; while it does not load, reads keep the last good configuration and
starting anything with it is refused with the file's problems, the same way on every runner.
"""

from __future__ import annotations

import asyncio

import pytest

from shipdeck.errors import WorkspaceError
from shipdeck.model import ConfigData, EventKind, RerunMode, RunStatus, WorkspaceSpec
from shipdeck.model.capabilities import Capability
from shipdeck.runners.local import LocalRunner
from shipdeck.runners.protocol import Runner
from tests.contract.harness import EVENTS, WORKSPACE_FILE, needs

EXTRA = """
[pipelines.extra]
[pipelines.extra.tasks.hello]
run = "echo hello from extra"
"""


pytestmark = WORKSPACE_FILE


@pytest.fixture
def runner(contract_runner: Runner) -> Runner:
    return contract_runner


@pytest.fixture
def workspace(contract_seed: WorkspaceSpec) -> WorkspaceSpec:
    return contract_seed


@pytest.fixture
def local_runner(contract_backend: LocalRunner) -> LocalRunner:
    return contract_backend


@needs(Capability.TRIGGER, Capability.LOGS)
async def test_a_changed_file_is_the_configuration_of_the_next_request(
    runner: Runner, workspace: WorkspaceSpec
) -> None:
    text = workspace.file.read_text()
    workspace.file.write_text(text.replace("echo compiling;", "echo compiling v2;") + EXTRA)
    assert [p.name for p in await runner.pipelines()] == ["build", "slow", "chatty", "extra"]
    run = await runner.start_run("extra")
    assert (await runner.wait_run(run.id)).status == RunStatus.SUCCEEDED
    build = await runner.start_run("build")
    assert (await runner.wait_run(build.id)).status == RunStatus.SUCCEEDED
    log = await runner.read_log(build.id, "compile")
    assert "compiling v2" in [line.text for line in log.lines]


@needs(Capability.TRIGGER, Capability.RERUN_ALL)
async def test_a_broken_file_keeps_the_last_good_one_for_reads_and_refuses_actions(
    runner: Runner, workspace: WorkspaceSpec, local_runner: LocalRunner
) -> None:
    done = await runner.start_run("build")
    assert (await runner.wait_run(done.id)).status == RunStatus.SUCCEEDED
    text = workspace.file.read_text()
    workspace.file.write_text(text + EXTRA + "garbage = = 1\n")
    line = (text + EXTRA).count("\n") + 1
    problem = f"{workspace.file}:{line}: invalid TOML: invalid value (at column 11)"

    assert [p.name for p in await runner.pipelines()] == ["build", "slow", "chatty"]
    assert await runner.rerun_plan(done.id, RerunMode.ALL) == ["compile", "test", "package"]
    for start in (
        lambda: runner.start_run("build"),
        lambda: runner.start_run("extra"),
        lambda: runner.rerun(done.id),
    ):
        with pytest.raises(WorkspaceError) as refused:
            await start()
        assert refused.value.problems == [problem]
    assert [run.id for run in await runner.runs()] == [done.id]  # nothing started
    assert local_runner.workspace.pipelines.keys() == {"build", "slow", "chatty"}

    workspace.file.write_text(text + EXTRA)
    run = await runner.start_run("extra")
    assert (await runner.wait_run(run.id)).status == RunStatus.SUCCEEDED


@EVENTS
async def test_an_edit_reaches_a_client_waiting_on_the_feed_as_a_config_event(
    runner: Runner, workspace: WorkspaceSpec
) -> None:
    """A client that only follows events (an open TUI) learns of the edit without asking
    for anything else."""
    after = await runner.last_seq()
    waiting = asyncio.ensure_future(runner.wait_events(after, wait=30))
    await asyncio.sleep(0.3)
    assert not waiting.done()
    workspace.file.write_text(workspace.file.read_text() + EXTRA)
    page = await asyncio.wait_for(waiting, 10)
    assert [(e.kind, e.data) for e in page.events] == [
        (EventKind.CONFIG, ConfigData(file="shipdeck.toml"))
    ]
    assert [p.name for p in await runner.pipelines()][-1] == "extra"
    quiet = await runner.wait_events(page.last_seq, wait=1.5)
    assert quiet.events == []  # one edit, one event
