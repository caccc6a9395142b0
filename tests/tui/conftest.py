"""The TUI against a real LocalRunner on a fresh demo workspace (real subprocesses, SQLite);
the deck (a deploying local runner on a small seeded workspace) comes from tests/tui/deck.py."""

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
from shipdeck.runners.local import LocalRunner, open_local_runner
from shipdeck.tui import ShipdeckApp, create_app
from shipdeck.tui.config import TuiConfig
from shipdeck.workspace import load_workspace
from tests.tui.deck import deck, seeded, wait_for

__all__ = [
    "deck",
    "seeded",
    "wait_for",
]  # the deck fixtures (tests/tui/deck.py), for every test here

RUN_DEADLINE = 60.0

# A pipeline that talks for as long as the test wants: it prints `LINES` lines, then waits
# for the file named by $GATE before it exits (with $EXIT_CODE).
CHATTY = """
[pipelines.chatty]
description = "Prints lines, then waits for a gate file"
params = { lines = 50 }

[pipelines.chatty.tasks.talk]
run = "python3 talk.py"
timeout = "1m"

[pipelines.chatty.tasks.after]
run = "python3 -c 'print(1)'"
needs = ["talk"]
"""

TALK = """
import json, os, sys, time
with open(os.environ["SHIPDECK_PARAMS"], encoding="utf-8") as handle:
    params = json.load(handle)
for i in range(int(params.get("lines", 50))):
    print(f"line {i} " + ("error: boom" if i == 7 else "ok"))
sys.stdout.flush()
gate = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gate")
deadline = time.monotonic() + 50
while not os.path.exists(gate) and time.monotonic() < deadline:
    time.sleep(0.02)
"""


@pytest.fixture(autouse=True)
def fast_python3(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let `python3` in task commands find this interpreter first (no version-manager shim)."""
    bin_dir = Path(sys.executable).parent
    if (bin_dir / "python3").exists():
        monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")


@pytest.fixture(autouse=True)
def isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never read the developer's own config file."""
    monkeypatch.setenv("SHIPDECK_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.delenv("NO_COLOR", raising=False)


def make_workspace(root: Path) -> WorkspaceSpec:
    """The demo workspace plus the `chatty` pipeline."""
    path = init_demo(root)
    with (path / "shipdeck.toml").open("a", encoding="utf-8") as file:
        file.write(CHATTY)
    (path / "talk.py").write_text(TALK, encoding="utf-8")
    return load_workspace(path)


@dataclass
class Demo:
    workspace: WorkspaceSpec
    runner: LocalRunner

    @property
    def gate(self) -> Path:
        return self.workspace.root / "gate"

    async def run(self, pipeline: str, **params: str) -> RunDetail:
        run = await self.runner.start_run(pipeline, params or None, trigger="test")
        await asyncio.wait_for(self.runner.wait_run(run.id), RUN_DEADLINE)
        return await self.runner.run(run.id)

    def app(self, **kwargs: object) -> ShipdeckApp:
        kwargs.setdefault("config", TuiConfig())
        return create_app([self.runner], **kwargs)  # type: ignore[arg-type]


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    workspace = make_workspace(tmp_path / "demo")
    runner = await open_local_runner(workspace, user="op")
    try:
        yield Demo(workspace, runner)
    finally:
        (workspace.root / "gate").touch()
        await runner.close()
