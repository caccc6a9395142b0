"""The headless CLI end to end: real processes, a real workspace, a real SQLite store."""

from __future__ import annotations

import json
import signal
import sqlite3

from tests.cli.conftest import Shipdeck


def one_line_error(result_stderr: str) -> str:
    lines = result_stderr.strip().splitlines()
    assert len(lines) == 1, result_stderr
    assert "Traceback" not in result_stderr
    return lines[0]


def test_run_succeeds_and_prints_progress(shipdeck: Shipdeck) -> None:
    result = shipdeck("run", "build")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "run #1 build started: 3 tasks" in out
    assert "✓ succeeded" in out and "compile" in out and "package" in out
    assert out.strip().splitlines()[-1].startswith("run #1 build succeeded in")


def test_every_form_of_run_reference_names_the_same_run(shipdeck: Shipdeck) -> None:
    assert shipdeck("run", "build").returncode == 0
    assert shipdeck("run", "build", "-p", "fail=true").returncode == 1
    for ref, expected in [("#1", "1"), ("1", "1"), ("last", "2"), ("last:build", "2")]:
        run = shipdeck.json("show", ref)["run"]
        assert (run["id"], run["label"]) == (expected, f"#{expected}"), ref
    assert shipdeck("show", "2").stdout.splitlines()[0].startswith("run #2  build")


def test_run_json_is_the_run_detail(shipdeck: Shipdeck) -> None:
    detail = shipdeck.json("run", "build", "-p", "greeting=hi there")
    assert detail["run"]["status"] == "succeeded"
    assert detail["run"]["params"] == {"greeting": "hi there", "fail": False}
    assert [t["name"] for t in detail["tasks"]] == ["compile", "test", "package"]
    assert {t["status"] for t in detail["tasks"]} == {"succeeded"}
    assert all(t["exit_code"] == 0 and t["attempts"] == 1 for t in detail["tasks"])
    assert [(m["task"], m["key"], m["value"]) for m in detail["metrics"]] == [
        ("compile", "size", 42.0)
    ]
    logs = shipdeck("logs", "last", "compile")
    assert logs.returncode == 0
    assert "greeting=hi there" in logs.stdout.splitlines()


def test_failed_run_exits_1_and_skips_downstream(shipdeck: Shipdeck) -> None:
    result = shipdeck("run", "build", "-p", "fail=true")
    assert result.returncode == 1
    assert "see: shipdeck logs 1 test" in result.stdout
    detail = shipdeck.json("show", "1")
    statuses = {t["name"]: t["status"] for t in detail["tasks"]}
    assert statuses == {"compile": "succeeded", "test": "failed", "package": "skipped"}
    assert detail["tasks"][1]["exit_code"] == 3
    err = shipdeck("logs", "1", "test")
    assert "boom" in err.stdout
    # The header counts the skipped task apart: not "3/3 tasks".
    header = shipdeck("show", "1").stdout.splitlines()[0]
    assert header.endswith("tasks 2/3 done · 1 skipped"), header


def test_rerun_failed_keeps_earlier_results(shipdeck: Shipdeck) -> None:
    assert shipdeck("run", "build", "-p", "fail=true").returncode == 1
    rerun = shipdeck.json("rerun", "last", "--failed")
    run = rerun["run"]
    assert run["parent_id"] == "1" and run["rerun_mode"] == "failed"
    tasks = {t["name"]: t for t in rerun["tasks"]}
    assert tasks["compile"]["reused_from"] == "1"
    assert tasks["test"]["reused_from"] is None and tasks["package"]["reused_from"] is None
    # The rerun keeps the parent's params, so the test task fails again.
    assert tasks["test"]["status"] == "failed"
    assert run["status"] == "failed"


def test_rerun_from_task(shipdeck: Shipdeck) -> None:
    assert shipdeck("run", "build").returncode == 0
    result = shipdeck("rerun", "1", "--from", "test")
    assert result.returncode == 0, result.stderr
    assert "2 of 3 tasks to run" in result.stdout
    assert "(kept from run #1)" in result.stdout
    detail = shipdeck.json("show", "last")
    assert detail["run"]["rerun_from"] == "test"
    assert [t["reused_from"] for t in detail["tasks"]] == ["1", None, None]


def test_runs_lists_newest_first(shipdeck: Shipdeck) -> None:
    shipdeck("run", "build")
    shipdeck("run", "build", "-p", "fail=1")
    runs = shipdeck.json("runs")
    assert [(r["id"], r["status"]) for r in runs] == [("2", "failed"), ("1", "succeeded")]
    text = shipdeck("runs").stdout
    assert text.splitlines()[0].split() == [
        "RUN", "PIPELINE", "STATUS", "TASKS", "STARTED", "TOOK", "TRIGGER", "BY"
    ]  # fmt: skip
    assert shipdeck.json("runs", "--pipeline", "slow") == []


def test_runs_of_a_pipeline_no_longer_declared_are_listed(shipdeck: Shipdeck) -> None:
    shipdeck("run", "build")
    file = shipdeck.root / "shipdeck.toml"
    file.write_text(file.read_text().replace("[pipelines.build", "[pipelines.make"))
    assert [(r["id"], r["pipeline"]) for r in shipdeck.json("runs", "--pipeline", "build")] == [
        ("1", "build")
    ]
    text = shipdeck("runs", "--pipeline", "build").stdout
    assert text.splitlines()[1].split()[:2] == ["#1", "build"]
    assert shipdeck.json("runs", "--pipeline", "make") == []  # declared, never run
    for args in (("runs", "--pipeline", "nope"), ("runs", "--pipeline", "nope", "--json")):
        result = shipdeck(*args)
        assert result.returncode == 2, result.stderr
        error = one_line_error(result.stderr)
        assert "unknown pipeline 'nope'; pipelines: make, slow" in error


def test_show_lists_tasks_and_metrics(shipdeck: Shipdeck) -> None:
    shipdeck("run", "build")
    text = shipdeck("show", "last").stdout
    assert "TASK" in text and "ATTEMPTS" in text
    assert "size" in text and "42" in text


def test_user_errors_are_one_line_with_exit_2(shipdeck: Shipdeck) -> None:
    cases = [
        (("run", "nope"), "pipeline"),
        (("run", "build", "-p", "greeting"), "KEY=VALUE"),
        (("run", "build", "-p", "colour=red"), "colour"),
        (("run", "build", "-p", "fail=maybe"), "fail"),
        (("show", "99"), "99"),
        (("show", "abc"), "abc"),
        (("logs", "last"), "no runs"),
        (("run", "build", "--jobs", "0"), "positive integer"),
        (("rerun", "1", "--failed", "--from", "x"), "not allowed"),
        (("frobnicate",), "invalid choice"),
    ]
    for args, needle in cases:
        result = shipdeck(*args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert needle in one_line_error(result.stderr), (args, result.stderr)
    assert not (shipdeck.root / ".shipdeck" / "shipdeck.db").exists() or shipdeck.json("runs") == []


def test_every_limit_refuses_zero_and_negatives(shipdeck: Shipdeck) -> None:
    for args in [
        ("runs",),
        ("alerts",),
        ("monitors", "history", "drift"),
        ("history", "api"),
        ("health", "api"),
    ]:
        for bad in ["0", "-3"]:
            result = shipdeck(*args, "--limit", bad)
            assert result.returncode == 2, (args, bad, result.stdout)
            assert f"argument --limit: expected a positive integer, got '{bad}'" in one_line_error(
                result.stderr
            ), (args, result.stderr)


def test_unknown_task_in_logs(shipdeck: Shipdeck) -> None:
    shipdeck("run", "build")
    result = shipdeck("logs", "last", "nope")
    assert result.returncode == 2
    assert "compile, test, package" in one_line_error(result.stderr)


def test_no_workspace(tmp_path_factory: object) -> None:
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as empty:
        result = subprocess.run(
            [sys.executable, "-m", "shipdeck", "runs"],
            cwd=empty,
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 2
    assert "no shipdeck.toml" in one_line_error(result.stderr)


def test_invalid_workspace_is_reported_by_every_command(shipdeck: Shipdeck) -> None:
    (shipdeck.root / "shipdeck.toml").write_text("[pipelines.x\n")
    for args in (("validate",), ("runs",), ("run", "x")):
        result = shipdeck(*args)
        assert result.returncode == 2
        assert "shipdeck.toml:1" in one_line_error(result.stderr)


def test_validate_ok(shipdeck: Shipdeck) -> None:
    result = shipdeck("validate")
    assert result.returncode == 0
    assert "2 pipelines, 4 tasks" in result.stdout


def test_cancel_from_another_process(shipdeck: Shipdeck) -> None:
    proc = shipdeck.popen("run", "slow")
    try:
        shipdeck.wait_for(
            lambda: (
                any(r["status"] == "running" for r in shipdeck.json("runs"))
                and "started" in shipdeck("logs", "last", "sleep").stdout
            )
        )
        result = shipdeck("cancel", "last")
        assert result.returncode == 0, result.stderr
        assert "cancelled" in result.stdout
        assert proc.wait(timeout=20) == 1
    finally:
        proc.kill()
    detail = shipdeck.json("show", "last")
    assert detail["run"]["status"] == "cancelled"
    assert detail["tasks"][0]["status"] == "cancelled"
    again = shipdeck("cancel", "last")
    assert again.returncode == 1
    assert "cancelled" in one_line_error(again.stderr)


def test_ctrl_c_cancels_the_run(shipdeck: Shipdeck) -> None:
    proc = shipdeck.popen("run", "slow")
    try:
        shipdeck.wait_for(lambda: "started" in shipdeck("logs", "last", "sleep").stdout)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) != 0
    finally:
        proc.kill()
    assert shipdeck.json("show", "last")["run"]["status"] == "cancelled"


def test_logs_follow_streams_until_the_run_ends(shipdeck: Shipdeck) -> None:
    (shipdeck.root / "shipdeck.toml").write_text(
        "[pipelines.ticks.tasks.tick]\n"
        'run = "for i in 1 2 3 4 5; do echo tick $i; sleep 0.2; done"\n'
    )
    proc = shipdeck.popen("run", "ticks")
    try:
        shipdeck.wait_for(lambda: bool(shipdeck.json("runs")))
        follow = shipdeck("logs", "last", "--follow")
        assert follow.returncode == 0
        assert [line for line in follow.stdout.splitlines() if line.startswith("tick")] == [
            f"tick {i}" for i in range(1, 6)
        ]
        assert proc.wait(timeout=20) == 0
    finally:
        proc.kill()


def test_store_is_sqlite_with_history(shipdeck: Shipdeck) -> None:
    shipdeck("run", "build")
    db = shipdeck.root / ".shipdeck" / "shipdeck.db"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert json.loads(shipdeck("runs", "--json").stdout)[0]["id"] == "1"
