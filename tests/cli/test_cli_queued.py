"""`shipdeck run` on a pipeline with `concurrency`: it says what a queued run waits for, and
nothing when the run starts at once. A real daemon and real `shipdeck` processes."""

from __future__ import annotations

from pathlib import Path

from shipdeck.cli.progress import queued_line
from shipdeck.runners.local import open_local_runner
from shipdeck.workspace import load_workspace
from tests.cli.conftest import Shipdeck

SERIAL = """
[pipelines.serial]
concurrency = 1
tasks.hold.run = "while [ ! -e go ]; do sleep 0.02; done"
"""


def test_a_queued_run_says_what_it_waits_for(shipdeck_daemon: Shipdeck) -> None:
    with (shipdeck_daemon.root / "shipdeck.toml").open("a", encoding="utf-8") as file:
        file.write(SERIAL)
    first = shipdeck_daemon.popen("run", "serial")
    try:
        shipdeck_daemon.wait_for(lambda: "running" in shipdeck_daemon("runs").stdout)
        second = shipdeck_daemon.popen("run", "serial")
        shipdeck_daemon.wait_for(lambda: "queued" in shipdeck_daemon("runs").stdout)
        (shipdeck_daemon.root / "go").touch()
        out_first, _ = first.communicate(timeout=30)
        out_second, _ = second.communicate(timeout=30)
    finally:
        (shipdeck_daemon.root / "go").touch()
    assert first.returncode == second.returncode == 0
    assert "queued:" not in out_first  # it started at once
    assert "queued: run #2 waits for #1 (serial runs at most 1 at a time)" in out_second


async def test_a_run_with_nothing_ahead_has_no_queued_line(tmp_path: Path) -> None:
    """Every run is `queued` for a moment after it is created: that alone says nothing."""
    (tmp_path / "shipdeck.toml").write_text(SERIAL, encoding="utf-8")
    runner = await open_local_runner(load_workspace(tmp_path), user="op")
    try:
        first = await runner.start_run("serial", None, trigger="test")
        assert await queued_line(runner, first) is None
        second = await runner.start_run("serial", None, trigger="test")
        assert await queued_line(runner, second) == (
            f"  queued: run #{second.id} waits for #{first.id} (serial runs at most 1 at a time)"
        )
    finally:
        (tmp_path / "go").touch()
        await runner.close()
