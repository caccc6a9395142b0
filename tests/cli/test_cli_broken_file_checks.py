"""A workspace file that breaks under a running daemon: its schedules and monitor checks keep
running with the last good file, and every place an operator looks says so. Real `shipdeck`
processes and a real daemon."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.cli.conftest import Shipdeck

WATCHED = """
[pipelines.tick]
every = "1s"

[pipelines.tick.tasks.t]
run = "true"

[monitors.pulse]
run = "echo '::metric n=1'"
every = "1s"
thresholds = ["n > 5"]
"""


def checks(shipdeck: Shipdeck) -> int:
    return len(shipdeck.json("monitors", "history", "pulse", "--limit", "500"))


def ticks(shipdeck: Shipdeck) -> int:
    return len(shipdeck.json("runs", "--pipeline", "tick", "--limit", "500"))


def test_a_broken_file_keeps_checks_firing_on_the_last_good_one_and_says_so(
    shipdeck_daemon: Shipdeck,
) -> None:
    shipdeck = shipdeck_daemon
    path: Path = shipdeck.root / "shipdeck.toml"
    path.write_text(textwrap.dedent(WATCHED))
    assert shipdeck("monitors").returncode == 0  # starts the daemon, which fires
    shipdeck.wait_for(lambda: checks(shipdeck) >= 1 and ticks(shipdeck) >= 1, timeout=30)

    good = path.read_text()
    path.write_text(good + "garbage = = 1\n")
    line = good.count("\n") + 1
    problem = f"{path}:{line}: invalid TOML: invalid value (at column 11)"
    warning = (
        f"shipdeck: warning: {problem}: the workspace file does not load; schedules,"
        " monitor and health checks keep running on the last good file"
    )
    for command in (["monitors"], ["schedules"]):
        listed = shipdeck(*command)
        assert listed.returncode == 0, listed.stderr
        assert listed.stderr.splitlines() == [warning], command
        assert "pulse" in listed.stdout
    info = shipdeck.json("runner", "status")["info"]
    assert info["config_problems"] == [problem.replace(f"{shipdeck.root}/", "")]  # /v1/health

    seen_checks, seen_ticks = checks(shipdeck), ticks(shipdeck)
    shipdeck.wait_for(
        lambda: checks(shipdeck) >= seen_checks + 2 and ticks(shipdeck) >= seen_ticks + 2,
        timeout=30,
    )

    path.write_text(good.replace('"n > 5"', '"n >= 1"'))  # fixed, and the monitor now alerts
    shipdeck.wait_for(lambda: shipdeck("monitors").stderr == "", timeout=30)
    assert shipdeck.json("runner", "status")["info"]["config_problems"] == []
    shipdeck.wait_for(
        lambda: (
            shipdeck.json("monitors")[0]["thresholds"] == ["n >= 1"]
            and shipdeck.json("monitors")[0]["state"] == "alerting"
        ),
        timeout=30,
    )
