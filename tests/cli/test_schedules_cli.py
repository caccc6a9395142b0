"""`shipdeck show` and `shipdeck runs` say what started an automatic run."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from shipdeck.runners.local import open_local_runner
from shipdeck.workspace import load_workspace

WORKSPACE = """
[pipelines.hourly]
every = "1h"

[pipelines.hourly.tasks.t]
run = "true"
"""


def shipdeck(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SHIPDECK_IN_PROCESS": "1", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "shipdeck", "-C", str(root), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )


async def test_show_and_runs_say_what_started_a_run(tmp_path: Path) -> None:
    (tmp_path / "shipdeck.toml").write_text(WORKSPACE)
    moments = iter(
        datetime.fromisoformat(f"2025-06-01T{t}+00:00").timestamp() for t in ("10:30", "14:05")
    )
    now = next(moments)
    runner = await open_local_runner(load_workspace(tmp_path))
    try:
        scheduler = runner.start_scheduling(clock=lambda: now)
        await scheduler.tick()
        now = next(moments)  # the runner was down from 10:30 to 14:05
        [run] = await scheduler.tick()
        await runner.wait_run(run.id)
    finally:
        await runner.close()
    shown = shipdeck(tmp_path, "show", str(run.id))
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[1].endswith("trigger every 1h (+3 missed)")
    assert lines[2] == "started by hourly.every for the slot of 2025-06-01 14:00 UTC"
    assert lines[3] == (
        "after downtime: it stands for 3 earlier missed slots too (catchup = false)"
    )
    runs = shipdeck(tmp_path, "runs")
    assert "every 1h (+3 missed)" in runs.stdout.splitlines()[1]
    assert runs.stdout.splitlines()[1].split()[-1].startswith("scheduler@")


def test_read_only_refuses_every_command_that_acts_and_changes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "shipdeck.toml").write_text(
        '[pipelines.ingest]\nevery = "1h"\n[pipelines.ingest.tasks.fetch]\nrun = "echo hi"\n'
    )
    for words in (
        ["schedules", "pause", "ingest"],
        ["run", "ingest"],
    ):
        refused = shipdeck(root, "--read-only", *words)
        assert refused.returncode == 1, (words, refused.stdout, refused.stderr)
        assert "refused: read-only mode (--read-only)" in refused.stderr, words
        assert "Traceback" not in refused.stderr
    listed = shipdeck(root, "--read-only", "schedules")
    assert listed.returncode == 0, listed.stderr
    assert "paused" not in listed.stdout
    assert shipdeck(root, "runs").stdout.count("ingest") == 0  # nothing was started
