"""The CLI on its default path: commands attach to the workspace's runner daemon."""

from __future__ import annotations

import signal

from tests.cli.conftest import Shipdeck


def test_run_through_the_daemon_and_ctrl_c_detaches(shipdeck_daemon: Shipdeck) -> None:
    shipdeck = shipdeck_daemon
    first = shipdeck("run", "build")
    assert first.returncode == 0, first.stderr
    assert "started runner for" in first.stderr
    proc = shipdeck.popen("run", "slow")
    try:
        shipdeck.wait_for(lambda: "started" in shipdeck("logs", "last", "sleep").stdout)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert "detached: run #2 keeps running" in out
    # The run outlived the command that started it; another command cancels it.
    assert shipdeck.json("show", "2")["run"]["status"] == "running"
    cancel = shipdeck("cancel", "2")
    assert cancel.returncode == 0, cancel.stderr
    detail = shipdeck.json("show", "2")
    assert detail["run"]["status"] == "cancelled"
    assert [r["id"] for r in shipdeck.json("runs")] == ["2", "1"]
