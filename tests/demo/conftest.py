"""A fresh demo workspace per test, and a local runner over it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from shipdeck.demo import init_demo
from shipdeck.model import RunDetail, WorkspaceSpec
from shipdeck.runners.protocol import Runner
from shipdeck.workspace import load_workspace

RUN_DEADLINE = 60.0


@dataclass
class Demo:
    workspace: WorkspaceSpec
    runner: Runner

    @property
    def root(self) -> Path:
        return self.workspace.root

    async def run(self, pipeline: str, **params: str) -> RunDetail:
        """Start `pipeline` with `params`, wait until it has finished, return its detail."""
        run = await self.runner.start_run(pipeline, params or None, trigger="test")
        await asyncio.wait_for(self.runner.wait_run(run.id), RUN_DEADLINE)
        return await self.runner.run(run.id)

    async def log_text(self, run_id: int, task: str) -> str:
        chunk = await self.runner.read_log(run_id, task, limit=None)
        return "\n".join(line.text for line in chunk.lines)


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    from shipdeck.runners.local import open_local_runner  # lands with the engine

    workspace = load_workspace(init_demo(tmp_path / "demo"))
    runner = await open_local_runner(workspace)
    try:
        yield Demo(workspace, runner)
    finally:
        await runner.close()
