"""Garbage collection paused while shipdeck starts, resumed (with the heap frozen) once ready."""

from __future__ import annotations

import gc
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipdeck import startup
from shipdeck.runners.remote import RemoteRunner
from shipdeck.tui import app as app_module
from shipdeck.tui import create_app
from shipdeck.tui.config import TuiConfig
from shipdeck.tui.screens.main import MainScreen
from tests.tui.conftest import Demo, wait_for


@pytest.fixture
def paused_start() -> Iterator[None]:
    """As the `shipdeck` executable starts: collector off; the test process restored after."""
    assert gc.isenabled() and gc.get_freeze_count() == 0
    startup.pause()
    try:
        yield
    finally:
        startup.resume()
        gc.unfreeze()


async def test_the_tui_resumes_collection_after_its_first_frame(
    demo: Demo, paused_start: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "STARTUP_GRACE", 600.0)  # the frame resumes it, not this
    await demo.run("ci")
    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert not gc.isenabled()
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, MainScreen) and app.screen.snapshot is not None,
            "the first snapshot",
        )
        await wait_for(pilot, gc.isenabled, "collection to resume")
        assert gc.get_freeze_count() > 0  # the start-up heap is out of later collections
        assert not startup.paused()


async def test_a_runner_that_never_answers_still_resumes_collection(
    tmp_path: Path, paused_start: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "STARTUP_GRACE", 0.3)
    runner = RemoteRunner(f"unix:{tmp_path / 'nobody.sock'}", name="gone")
    app = create_app([runner], config=TuiConfig())
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, gc.isenabled, "collection to resume without a first frame")
            assert isinstance(app.screen, MainScreen) and app.screen.snapshot is None
    finally:
        await runner.close()


async def test_an_app_in_a_process_that_never_paused_leaves_the_collector_alone(
    demo: Demo,
) -> None:
    assert gc.get_freeze_count() == 0
    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, MainScreen) and app.screen.snapshot is not None,
            "the first snapshot",
        )
        await pilot.pause(0.1)
        assert gc.isenabled() and gc.get_freeze_count() == 0


PROBE = """
import atexit, gc, sys
atexit.register(lambda: print("enabled", gc.isenabled(), "frozen", gc.get_freeze_count() > 0))
sys.argv = ["shipdeck", *sys.argv[1:]]
from shipdeck.cli.entry import main
raise SystemExit(main())
"""


def test_a_command_runs_with_the_collector_back_on(demo: Demo) -> None:
    """Long-lived commands (the daemon, `run`, `logs -f`) must not run without collection."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, "-C", str(demo.workspace.root), "validate"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "enabled True frozen True"


def test_pause_and_resume_only_undo_each_other() -> None:
    code = """
import gc
from shipdeck import startup
startup.resume()
assert gc.isenabled() and gc.get_freeze_count() == 0, "resume without pause changed gc"
startup.pause()
assert not gc.isenabled() and startup.paused()
startup.resume()
assert gc.isenabled() and gc.get_freeze_count() > 0 and not startup.paused()
gc.disable()
startup.pause()
startup.resume()
assert not gc.isenabled(), "resume re-enabled a collector the program had turned off"
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr


def test_the_server_resumes_collection_once_it_listens(demo: Demo, tmp_path: Path) -> None:
    """`serve` keeps collection paused through its own start-up, then runs with it on."""
    socket_file = tmp_path / "s.sock"
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            PROBE,
            "-C",
            str(demo.workspace.root),
            "serve",
            "--listen",
            f"unix:{socket_file}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        said = ""
        while not said.startswith("serving "):  # once it is up, with its signals handled
            said = server.stderr.readline()
            assert said, "the server exited before serving"
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
    assert out.splitlines()[-1] == "enabled True frozen True", err
