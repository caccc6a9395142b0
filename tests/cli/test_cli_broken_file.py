"""A workspace file that does not load, with its daemon running and without it: what keeps
working, what reports the file's problems, and what the daemon does with a changed file.
Real `shipdeck` processes and a real daemon."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import Shipdeck

BROKEN = "garbage = = 1\n"


def break_file(root: Path) -> str:
    """Append a line tomllib rejects; the problem line every command should print for it."""
    path = root / "shipdeck.toml"
    text = path.read_text()
    path.write_text(text + BROKEN)
    line = text.count("\n") + 1
    return f"{path}:{line}: invalid TOML: invalid value (at column 11)"


def only_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def start_slow_run(shipdeck: Shipdeck) -> subprocess.Popen[str]:
    """`run slow` on the daemon, once its task is running; the command itself keeps waiting."""
    proc = shipdeck.popen("run", "slow")
    shipdeck.wait_for(lambda: "started" in shipdeck("logs", "last", "sleep").stdout)
    return proc


def test_reads_cancel_and_stop_work_on_the_running_daemon_while_the_file_is_broken(
    shipdeck_daemon: Shipdeck,
) -> None:
    shipdeck = shipdeck_daemon
    assert shipdeck("run", "build").returncode == 0
    waiting = start_slow_run(shipdeck)
    try:
        problem = break_file(shipdeck.root)

        assert [run["id"] for run in shipdeck.json("runs")] == ["2", "1"]
        assert shipdeck.json("show", "last")["run"]["status"] == "running"
        assert "compiling" in shipdeck("logs", "1", "compile").stdout.splitlines()
        assert shipdeck("models").returncode == 0
        assert shipdeck("deployments").returncode == 0

        status = shipdeck("runner", "status")
        assert status.returncode == 0
        assert f"runner for {shipdeck.root}: running (pid " in status.stdout
        assert status.stderr.splitlines() == [
            "shipdeck: warning: the workspace file does not load (the runner keeps the "
            "configuration it loaded before and starts no run or deploy until it is fixed):",
            problem,
        ]

        # What would start something with the file reports its problems, as `validate` does.
        for command in (["run", "build"], ["rerun", "1"], ["validate"]):
            refused = shipdeck(*command)
            assert refused.returncode == 2, command
            assert only_line(refused.stderr) == problem, command
        assert [run["id"] for run in shipdeck.json("runs")] == ["2", "1"]  # nothing started

        cancel = shipdeck("cancel", "last")
        assert cancel.returncode == 0, cancel.stderr
        assert cancel.stdout.strip() == "run #2 slow: cancelled"

        stop = shipdeck("serve", "--stop")
        assert stop.returncode == 0, stop.stderr
        assert stop.stdout.startswith(f"stopped runner for {shipdeck.root} (pid ")
    finally:
        waiting.kill()
        waiting.wait()

    # No daemon now: nothing starts one on the broken file, every command reports it.
    for command in (["runs"], ["show", "last"], ["cancel", "last"], ["run", "build"]):
        result = shipdeck(*command)
        assert result.returncode == 2, command
        assert only_line(result.stderr) == problem, command
    status = shipdeck("runner", "status")
    assert status.returncode == 1
    assert status.stdout.strip() == f"runner for {shipdeck.root}: not running"
    assert status.stderr.splitlines()[-1] == problem
    assert not (shipdeck.root / ".shipdeck" / "runner.sock").exists()
    assert shipdeck("serve", "--stop").stdout.strip() == (
        f"no runner is running for {shipdeck.root}"
    )


def test_the_daemon_runs_the_file_as_it_is_now(shipdeck_daemon: Shipdeck) -> None:
    shipdeck = shipdeck_daemon
    first = shipdeck("run", "build")
    assert first.returncode == 0 and "started runner for" in first.stderr
    path = shipdeck.root / "shipdeck.toml"
    path.write_text(
        path.read_text().replace("echo compiling;", "echo compiling v2;")
        + '\n[pipelines.extra]\n[pipelines.extra.tasks.hello]\nrun = "echo hello from extra"\n'
    )

    extra = shipdeck("run", "extra")
    assert extra.returncode == 0, extra.stderr
    assert "started runner for" not in extra.stderr  # the same daemon, with the new file
    assert "hello from extra" in shipdeck("logs", "last", "hello").stdout.splitlines()
    again = shipdeck("run", "build")
    assert again.returncode == 0, again.stderr
    assert "compiling v2" in shipdeck("logs", "last", "compile").stdout.splitlines()


def test_stop_refuses_while_runs_are_in_progress_and_force_cancels_them(
    shipdeck_daemon: Shipdeck,
) -> None:
    shipdeck = shipdeck_daemon
    waiting = start_slow_run(shipdeck)
    try:
        pid = shipdeck.json("runner", "status")["info"]["pid"]
        refused = shipdeck("serve", "--stop")
        assert refused.returncode == 1
        assert only_line(refused.stderr) == (
            "shipdeck: error: runs in progress: #1 slow; wait for them, cancel them "
            "(shipdeck cancel RUN), or pass --force to stop the runner and cancel them"
        )
        assert refused.stdout == ""
        assert shipdeck.json("runner", "status")["info"]["pid"] == pid  # nothing stopped
        assert shipdeck.json("show", "1")["run"]["status"] == "running"

        forced = shipdeck("serve", "--stop", "--force")
        assert forced.returncode == 0, forced.stderr
        assert forced.stdout.strip() == (
            f"stopped runner for {shipdeck.root} (pid {pid}); cancelled #1 slow"
        )
    finally:
        waiting.kill()
        waiting.wait()
    detail = shipdeck.json("show", "1")  # a new daemon answers from the history
    assert detail["run"]["status"] == "cancelled"
    assert detail["tasks"][0]["reason"] == "runner closed"

    usage = shipdeck("serve", "--force")
    assert usage.returncode == 2
    assert only_line(usage.stderr) == "shipdeck: error: --force goes with --stop"


def test_stop_is_not_held_up_by_a_run_another_process_executes(
    shipdeck_daemon: Shipdeck,
) -> None:
    shipdeck = shipdeck_daemon
    assert shipdeck("runs").returncode == 0  # starts the daemon
    pid = shipdeck.json("runner", "status")["info"]["pid"]
    in_process = Shipdeck(shipdeck.root)  # SHIPDECK_IN_PROCESS=1: the run is its own
    running = in_process.popen("run", "slow")
    try:
        shipdeck.wait_for(lambda: "started" in shipdeck("logs", "last", "sleep").stdout)
        stop = shipdeck("serve", "--stop")
        assert stop.returncode == 0, stop.stderr
        assert stop.stdout.strip() == f"stopped runner for {shipdeck.root} (pid {pid})"
        assert running.poll() is None
        assert in_process.json("show", "1")["run"]["status"] == "running"
    finally:
        running.kill()
        running.wait()


def test_the_tui_reports_the_file_problems_and_other_errors_in_one_line(
    shipdeck: Shipdeck, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = shipdeck.root / "shipdeck.toml"
    text = path.read_text()
    path.write_text(text.replace('needs = ["test"]', 'needs = ["tset"]'))
    line = text.splitlines().index('needs = ["test"]') + 1
    problem = (
        f"{path}:{line}: pipelines.build.tasks.package.needs: "
        "needs unknown task 'tset' (did you mean 'test'?)"
    )
    env = {**shipdeck.env(), "SHIPDECK_CONFIG": os.devnull}
    env.pop("SHIPDECK_IN_PROCESS")

    def bare(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "shipdeck", *args],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=cwd,
            env=env,
        )

    for args in ([], ["-C", str(shipdeck.root)]):
        tui = bare(*args, cwd=shipdeck.root)
        assert tui.returncode == 2, args
        assert only_line(tui.stderr) == problem.replace(f"{shipdeck.root}/", "")
    assert not (shipdeck.root / ".shipdeck").exists()  # no daemon started on it

    elsewhere = tmp_path_factory.mktemp("no-workspace")  # no shipdeck.toml up from here
    tui = bare(cwd=elsewhere)
    assert tui.returncode == 2
    assert only_line(tui.stderr).startswith(
        "shipdeck: error: no shipdeck.toml here or in any parent directory, and no runners"
    )
    missing = bare("-C", str(elsewhere), "runs", cwd=elsewhere)
    assert missing.returncode == 2
    assert only_line(missing.stderr) == (
        f"shipdeck: error: no shipdeck.toml found in {elsewhere} or any parent directory"
        " (use -C DIR or `shipdeck demo init DIR`)"
    )


def test_an_empty_run_reference_is_a_plain_user_error(shipdeck_daemon: Shipdeck) -> None:
    shipdeck = shipdeck_daemon
    assert shipdeck("runs").returncode == 0  # the daemon answers what follows
    for command in ("show", "logs", "cancel"):
        result = shipdeck(command, "")
        assert result.returncode == 2
        assert only_line(result.stderr) == (
            "shipdeck: error: run reference '': expected a run number, #N or 'last'"
        )
