"""`shipdeck monitors`, `monitors check`, `monitors history`, `alerts`, `alerts ack` and
`validate` on monitors, through the real executable (pipelines in the command)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from shipdeck.runners.local import open_local_runner
from shipdeck.workspace import load_workspace

WORKSPACE = """
[pipelines.retrain]
on_alert = ["drift"]

[pipelines.retrain.tasks.train]
run = "echo training"

[monitors.drift]
run = "echo \\"::metric drift_share=$(cat value)\\""
every = "10m"
thresholds = ["drift_share >= 0.5"]
"""


def shipdeck(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SHIPDECK_IN_PROCESS": "1", "NO_COLOR": "1", "COLUMNS": "160"}
    return subprocess.run(
        [sys.executable, "-m", "shipdeck", "-C", str(root), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "shipdeck.toml").write_text(textwrap.dedent(WORKSPACE))
    return tmp_path


def test_check_exits_1_when_it_alerts_and_0_within_thresholds(root: Path) -> None:
    listed = shipdeck(root, "monitors")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[1].split()[:3] == ["drift", "never", "checked"]
    (root / "value").write_text("0.8\n")
    alerting = shipdeck(root, "monitors", "check", "drift")
    assert alerting.returncode == 1, alerting.stderr
    assert alerting.stdout.splitlines() == [
        "drift: ALERTING (check #1, run #1)",
        "  drift_share >= 0.5: 0.8 (crossed)",
    ]
    alerts = shipdeck(root, "alerts", "--open")
    assert alerts.stdout.splitlines()[1].split()[:6] == [
        "#1",
        "drift",
        "drift_share",
        ">=",
        "0.5",
        "0.8",
    ]
    acked = shipdeck(root, "alerts", "ack", "#1", "--note", "new supplier data")
    assert acked.returncode == 0, acked.stderr
    assert acked.stdout.strip().startswith("alert #1 (drift drift_share >= 0.5): acknowledged by ")
    (root / "value").write_text("0.1\n")
    ok = shipdeck(root, "monitors", "check", "drift", "--json")
    assert ok.returncode == 0
    assert json.loads(ok.stdout)["verdict"] == "ok"
    history = json.loads(shipdeck(root, "monitors", "history", "drift", "--json").stdout)
    assert [(c["id"], c["verdict"], c["values"]) for c in history] == [
        (2, "ok", {"drift_share": 0.1}),
        (1, "alerting", {"drift_share": 0.8}),
    ]
    [alert] = json.loads(shipdeck(root, "alerts", "--json").stdout)
    assert (alert["closed_value"], alert["ack_note"]) == (0.1, "new supplier data")
    assert shipdeck(root, "alerts", "--open").stdout.strip() == "no open alerts"
    listed = shipdeck(root, "monitors")
    assert listed.stdout.splitlines()[1].split()[:3] == ["drift", "ok", "drift_share=0.1"]


def test_user_errors_exit_2_with_one_line_and_change_nothing(root: Path) -> None:
    for args, message in (
        (("monitors", "check", "nope"), "no monitor 'nope' in shipdeck.toml (monitors: drift)"),
        (("monitors", "history", "nope"), "no monitor 'nope'"),
        (("alerts", "ack", "abc", "--note", "x"), "alert 'abc': expected an alert number"),
        (("alerts", "ack", "7", "--note", "x"), "no alert #7"),
        (("alerts", "ack", "7", "--note", "x\x1b[2J"), "control character"),
    ):
        done = shipdeck(root, *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        [line] = done.stderr.splitlines()
        assert message in line, line
    assert shipdeck(root, "alerts").stdout.strip() == "no alerts"


async def test_show_says_which_alert_started_a_run(root: Path) -> None:
    (root / "value").write_text("0.9\n")
    runner = await open_local_runner(load_workspace(root))
    try:
        scheduler = runner.start_scheduling()
        await scheduler.tick()
        check = await runner.check_monitor("drift")
        [run] = await scheduler.tick()
        await runner.wait_run(run.id)
    finally:
        await runner.close()
    shown = shipdeck(root, "show", str(run.id))
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[1].endswith("trigger alert #1 drift")
    assert lines[2] == "started by retrain.on_alert when monitor drift opened alert #1"
    assert check.run_id == "1"


def test_validate_reports_monitor_problems_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "shipdeck.toml").write_text(
        textwrap.dedent(
            """\
            [pipelines.retrain]
            on_alert = ["drfit"]
            cooldown = "1h"
            [pipelines.retrain.tasks.t]
            run = "true"

            [monitors.drift]
            run = "true"
            every = "10m"
            schedule = "0 3 * * *"
            thresholds = ["drift_share >= half", "rows <> 3"]
            watches = { model = "churn" }

            [monitors."bad name"]
            run = ""

            [notify]
            webhook = "ftp://example.com/x"
            on_failure = ["retrian"]
            command = []
            """
        )
    )
    done = shipdeck(tmp_path, "validate")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.replace(f"{tmp_path}/", "").splitlines() == [
        "shipdeck.toml:2: pipelines.retrain.on_alert: unknown monitor 'drfit' (did you mean"
        " 'drift'?)",
        "shipdeck.toml:9: monitors.drift.every: a monitor has either a cron `schedule` or an"
        " interval `every`",
        "shipdeck.toml:11: monitors.drift.thresholds: bad threshold 'drift_share >= half':"
        " 'half' is not a number",
        "shipdeck.toml:11: monitors.drift.thresholds: bad threshold 'rows <> 3': expected"
        " 'METRIC OP NUMBER' like 'drift_share >= 0.5' (OP: >= > <= < == !=)",
        "shipdeck.toml:12: monitors.drift.watches.model: no task registers model 'churn'",
        'shipdeck.toml:14: monitors."bad name": monitor name must start with a letter or digit'
        " and use only letters, digits, '-' and '_'",
        'shipdeck.toml:15: monitors."bad name".run: must be a non-empty string',
        "shipdeck.toml:18: notify.webhook: must be an http:// or https:// URL with a host name",
        "shipdeck.toml:19: notify.on_failure: unknown pipeline 'retrian' (did you mean 'retrain'?)",
        "shipdeck.toml:20: notify.command: must name a program to run",
    ]


def test_a_blank_or_long_note_is_refused_in_the_options_words_through_a_daemon(
    root: Path,
) -> None:
    (root / "value").write_text("0.8\n")
    assert shipdeck(root, "monitors", "check", "drift").returncode == 1
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "160"}
    env.pop("SHIPDECK_IN_PROCESS", None)

    def through_daemon(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "shipdeck", "-C", str(root), *args],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=60,
        )

    try:
        for note, message in (
            ("", "--note: say why"),
            (" ", "--note: say why"),
            ("x" * 2001, "--note: at most 2,000 characters, got 2,001"),
        ):
            done = through_daemon("alerts", "ack", "1", "--note", note)
            assert done.returncode == 2, (note, done.stdout, done.stderr)
            assert done.stdout == ""
            [line] = done.stderr.splitlines()
            assert message in line, line
        [alert] = json.loads(through_daemon("alerts", "--json").stdout)
        assert (alert["acked_by"], alert["ack_note"]) == (None, "")
    finally:
        through_daemon("serve", "--stop", "--force")


def test_checks_stay_out_of_the_run_lists_and_last_yet_are_listed_by_their_pipeline(
    root: Path,
) -> None:
    (root / "value").write_text("0.1\n")
    assert shipdeck(root, "run", "retrain").returncode == 0
    for _ in range(2):
        assert shipdeck(root, "monitors", "check", "drift").returncode == 0
    runs = json.loads(shipdeck(root, "runs", "--json").stdout)
    assert [run["pipeline"] for run in runs] == ["retrain"]
    last = json.loads(shipdeck(root, "show", "last", "--json").stdout)
    assert (last["run"]["id"], last["run"]["pipeline"]) == ("1", "retrain")
    checks = json.loads(shipdeck(root, "runs", "--pipeline", "monitor:drift", "--json").stdout)
    assert [(run["id"], run["pipeline"]) for run in checks] == [
        ("3", "monitor:drift"),
        ("2", "monitor:drift"),
    ]
    newest = json.loads(shipdeck(root, "show", "last:monitor:drift", "--json").stdout)
    assert newest["run"]["id"] == "3"
    history = json.loads(shipdeck(root, "monitors", "history", "drift", "--json").stdout)
    assert [check["run_id"] for check in history] == ["3", "2"]


async def test_a_monitor_word_in_the_runs_filter_finds_its_checks(root: Path) -> None:
    (root / "value").write_text("0.1\n")
    runner = await open_local_runner(load_workspace(root), user="op")
    try:
        await runner.start_run("retrain", trigger="test")
        check = await runner.check_monitor("drift")
        page = await runner.runs_page(text="monitor:drift")
        assert [run.id for run in page.runs] == [check.run_id]
        assert page.total == 1
        every = await runner.runs_page()
        assert [run.pipeline for run in every.runs] == ["retrain"]
    finally:
        await runner.close()
