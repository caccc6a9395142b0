"""Engine test helpers: workspaces built directly from specs, engines opened in tmp dirs."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from shipdeck.engine import Engine
from shipdeck.model import ParamValue, PipelineSpec, TaskSpec, WorkspaceSpec


def task(name: str, run: str, *needs: str, **options: Any) -> TaskSpec:
    return TaskSpec(name=name, run=run, needs=tuple(needs), **options)


def workspace(
    root: Path, *tasks: TaskSpec, name: str = "p", params: dict[str, ParamValue] | None = None
) -> WorkspaceSpec:
    pipeline = PipelineSpec(name=name, params=params or {}, tasks={t.name: t for t in tasks})
    return WorkspaceSpec(root=root, file=root / "shipdeck.toml", pipelines={name: pipeline})


async def eventually(
    check: Callable[[], bool], *, within: float = 10.0, interval: float = 0.02
) -> None:
    """Poll `check` until it is true; fail the test after `within` seconds."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


class Engines:
    """Opens engines on a workspace and closes whatever a test left open."""

    def __init__(self) -> None:
        self.opened: list[Engine] = []

    def open(self, spec: WorkspaceSpec, **options: Any) -> Engine:
        engine = Engine(spec, **options)
        self.opened.append(engine)
        return engine

    async def close_all(self) -> None:
        for engine in self.opened:
            await engine.close()


@pytest.fixture
async def engines() -> AsyncIterator[Engines]:
    opened = Engines()
    try:
        yield opened
    finally:
        await opened.close_all()


def process_running(pid: int) -> bool:
    """True if `pid` exists and is not a zombie (nothing reaps orphans promptly here)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except FileNotFoundError:
        return False
    return stat[stat.rindex(b")") + 2 :].split()[0] != b"Z"


def log_texts(engine: Engine, run_id: str, task_name: str) -> list[str]:
    return [line.text for line in engine.read_log(run_id, task_name, limit=None).lines]


OWNER = Path(__file__).with_name("owner_process.py")


class Owner:
    """A child process that owns a run of the workspace."""

    def __init__(self, process: asyncio.subprocess.Process, run_id: str) -> None:
        self.process = process
        self.run_id = run_id

    async def final_status(self) -> str:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout=20)
        await self.process.wait()
        return line.decode().strip()


@pytest.fixture
async def owners() -> AsyncIterator[list[Owner]]:
    started: list[Owner] = []
    yield started
    for owner in started:
        if owner.process.returncode is None:
            owner.process.kill()
            await owner.process.wait()


async def start_owner(spec: WorkspaceSpec, owners: list[Owner]) -> Owner:
    spec_file = spec.root / "spec.json"
    spec_file.write_text(spec.model_dump_json())
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(OWNER), str(spec_file), "p", stdout=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), timeout=20)
    owner = Owner(process, line.decode().strip())
    owners.append(owner)
    return owner
