"""No output keeper outlives its tasks and its engine, and nothing the tasks wrote is lost.

The engine runs in a `shipdeck run` process of its own session, killed with SIGKILL at a
random point: the process alone, or its whole process group as a killed test run is. Its
tasks print numbered lines (bench/durability.py's), and one task leaves a process of
another session (`setsid sleep`) holding its output open, as a daemon started by a task
would. Once the tasks are done, no keeper of the workspace may be left (within a deadline),
and the next runner's recovery finds every line a task wrote in its log.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.durability import SPEW
from shipdeck.runners.local import open_local_runner
from shipdeck.workspace import load_workspace

TASKS = 3
LINES = 1500
KEEPER_DEADLINE = 20.0
"""Seconds after the kill by which every keeper of the workspace must have exited: the
tasks take about a second; the keeper lets an orphaned attempt go a few seconds after."""
ESCAPE = "echo before; setsid sleep 120 & echo after"
"""A task whose output stays open in another session (for two minutes) after it exits."""


def write_workspace(root: Path) -> None:
    root.mkdir(parents=True)
    (root / "spew.py").write_text(SPEW)
    toml = ["[pipelines.spew]"]
    for index in range(TASKS):
        toml += [f"[pipelines.spew.tasks.t{index}]", f'run = "python3 spew.py {LINES} 0.05"']
    toml += ["[pipelines.spew.tasks.escape]", f'run = "{ESCAPE}"']
    (root / "shipdeck.toml").write_text("\n".join(toml) + "\n")


def _fds_under(pid: str, root: Path) -> bool:
    with contextlib.suppress(OSError):
        for entry in os.listdir(f"/proc/{pid}/fd"):  # noqa: PTH208
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{pid}/fd/{entry}").startswith(str(root)):  # noqa: PTH115
                    return True
    return False


def keepers_of(root: Path) -> list[int]:
    """Live keeper processes holding a file of the workspace (a log, a run's lock)."""
    found = []
    for pid in os.listdir("/proc"):  # noqa: PTH208
        if not pid.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{pid}/stat").read_bytes()
            if stat[stat.rindex(b")") + 2 :].split()[0] in (b"Z", b"X"):
                continue
            if b"keeper.py" in Path(f"/proc/{pid}/cmdline").read_bytes() and _fds_under(pid, root):
                found.append(int(pid))
    return found


def processes_of(root: Path) -> list[int]:
    """Processes carrying the workspace's marker: the tasks (and what they left behind)."""
    marker = b"SHIPDECK_WORKSPACE=" + os.fsencode(root)
    found = []
    for pid in os.listdir("/proc"):  # noqa: PTH208
        if pid.isdigit() and int(pid) != os.getpid():
            with contextlib.suppress(OSError):
                if marker in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                    found.append(int(pid))
    return found


def spew_tasks_running(root: Path) -> bool:
    for pid in processes_of(root):
        with contextlib.suppress(OSError):
            if b"spew.py" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return True
    return False


async def wait_until(condition: object, within: float, what: str) -> float:
    started = time.monotonic()
    while not condition():  # type: ignore[operator]
        if time.monotonic() - started > within:
            raise AssertionError(f"{what}: still so after {within:.0f}s")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def count_lost(root: Path) -> tuple[int, int]:
    """(lines the tasks wrote, of them missing from the logs), read by a new runner (its
    recovery catches the store up, and kills what is left of the tasks)."""
    runner = await open_local_runner(load_workspace(root), user="test")
    try:
        runs = await runner.runs(limit=5)
        if not runs:
            return 0, 0
        [run] = runs
        await asyncio.wait_for(runner.wait_run(run.id), 60)
        written = lost = 0
        for index in range(TASKS):
            task = f"t{index}"
            witness = root / f"{task}.witness"
            done = [int(n) for n in witness.read_text().split()] if witness.exists() else []
            logged: set[str] = set()
            start = 0
            while True:
                chunk = await runner.read_log(run.id, task, start=start, limit=10_000)
                logged.update(line.text for line in chunk.lines)
                start = chunk.start + len(chunk.lines)
                if not chunk.lines or start >= chunk.total:
                    break
            written += len(done)
            lost += sum(f"line {task} {i}" not in logged for i in done)
        return written, lost
    finally:
        await runner.close()


@pytest.mark.timeout(240)
async def test_no_keeper_outlives_a_killed_engine_and_no_line_is_lost(tmp_path: Path) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    env = {**os.environ, "SHIPDECK_IN_PROCESS": "1"}
    results = []
    for trial, whole_group in enumerate((True, False, True)):
        root = tmp_path / str(trial)
        write_workspace(root)
        kill_after = round(rng.uniform(0.3, 1.5), 3)
        engine = await asyncio.create_subprocess_exec(
            *[sys.executable, "-m", "shipdeck", "-C", str(root), "run", "spew", "--jobs", "4"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        try:
            await asyncio.sleep(kill_after)
            if whole_group:
                os.killpg(engine.pid, signal.SIGKILL)
            else:
                engine.kill()
            await asyncio.wait_for(engine.wait(), 10)
            await wait_until(lambda r=root: not spew_tasks_running(r), 60, "the tasks run")
            took = await wait_until(
                lambda r=root: not keepers_of(r),
                KEEPER_DEADLINE,
                f"a keeper of trial {trial} (seed {seed}, kill after {kill_after}s)",
            )
            written, lost = await count_lost(root)
            results.append((kill_after, whole_group, written, lost, round(took, 1)))
        finally:
            for pid in processes_of(root) + keepers_of(root):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
    assert [lost for *_, lost, _ in results] == [0] * len(results), (seed, results)
    assert any(written for _, _, written, _, _ in results), (seed, results)
