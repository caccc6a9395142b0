"""A fresh demo workspace per test, and a local runner over it."""

from __future__ import annotations

import asyncio
import os
import sys
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


@pytest.fixture(autouse=True)
def fast_python3(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the demo's `python3` commands find this interpreter first.

    A version-manager shim (pyenv) on PATH costs ~0.2 s per `python3` start, which would
    make up most of each demo run's time.
    """
    bin_dir = Path(sys.executable).parent
    if (bin_dir / "python3").exists():
        monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    from shipdeck.runners.local import open_local_runner  # lands with the engine

    workspace = load_workspace(init_demo(tmp_path / "demo"))
    runner = await open_local_runner(workspace)
    try:
        yield Demo(workspace, runner)
    finally:
        await runner.close()
