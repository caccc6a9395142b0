"""`shipdeck gc` as a real process, beside a real daemon, and the daemon's own `[retention]`."""

from __future__ import annotations

import json
import random
import re
import sqlite3
import subprocess
import textwrap
import threading
import time
from pathlib import Path

from tests.cli.conftest import Shipdeck


def _run_ids(shipdeck: Shipdeck) -> list[str]:
    return [run["id"] for run in shipdeck.json("runs", "--limit", "500")]


def _log_dirs(root: Path) -> set[str]:
    return {path.name for path in (root / ".shipdeck" / "logs").iterdir()}


def test_gc_reports_what_it_deleted(shipdeck: Shipdeck) -> None:
    for _ in range(3):
        assert shipdeck("run", "build").returncode == 0
    ids = sorted(_run_ids(shipdeck))
    dry = shipdeck("gc", "--keep", "1", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert lines[0] == "would delete 2 runs (build 2) and 0 artifacts"
    assert lines[1].startswith("would free ") and "logs " in lines[1]
    assert lines[2] == "would keep 1 run"
    assert sorted(_run_ids(shipdeck)) == ids
    report = shipdeck.json("gc", "--keep", "1")
    assert report["dry_run"] is False
    assert report["deleted_runs"] == ids[:2]
    assert report["pipelines"] == {"build": 2}
    assert report["log_bytes"] > 0 and report["kept_runs"] == 1
    assert report["protected"] == []
    assert _run_ids(shipdeck) == [ids[2]]
    assert _log_dirs(shipdeck.root) == {ids[2]}
    again = shipdeck("gc", "--keep", "1")
    assert again.stdout.splitlines()[0] == "deleted 0 runs and 0 artifacts"


def test_gc_refuses_bad_input_and_changes_nothing(shipdeck: Shipdeck) -> None:
    assert shipdeck("run", "build").returncode == 0
    cases = [
        (
            [],
            "say which runs to keep: --keep N and/or --older-than DURATION"
            " (or set [retention] in shipdeck.toml)",
        ),
        (["--keep", "-1"], "--keep takes a number of runs (0 or more), got '-1'"),
        (["--keep", "many"], "--keep takes a number of runs (0 or more), got 'many'"),
        (["--older-than", "a month"], "--older-than: bad duration 'a month': expected"),
        (
            ["--runner", "http://127.0.0.1:9", "gc", "--keep", "0"],
            "gc works on this machine's workspace (.shipdeck/), not through a runner",
        ),
    ]
    for args, message in cases:
        result = shipdeck(*(args if "gc" in args else ["gc", *args]))
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.startswith(f"shipdeck: error: {message}"), result.stderr
        assert result.stderr.count("\n") == 1
        assert len(_run_ids(shipdeck)) == 1


def test_gc_takes_the_workspace_retention(shipdeck: Shipdeck) -> None:
    toml = shipdeck.root / "shipdeck.toml"
    toml.write_text(toml.read_text() + '\n[retention]\nkeep = 2\nolder_than = "0s"\n')
    for _ in range(4):
        assert shipdeck("run", "build").returncode == 0
    result = shipdeck("gc")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("deleted 2 runs (build 2)")


def test_gc_beside_a_busy_daemon_loses_nothing_it_keeps(shipdeck_daemon: Shipdeck) -> None:
    """A daemon executes a long run and a stream of short ones started by another client,
    while gc runs again and again in its own processes: gc never fails, the long run and
    every run it must keep are intact, and rows and log directories stay in step."""
    slow = shipdeck_daemon.popen("run", "slow")
    shipdeck_daemon.wait_for(
        lambda: any(r["status"] == "running" for r in shipdeck_daemon.json("runs"))
    )
    results: list[subprocess.CompletedProcess[str]] = []

    def start_runs() -> None:
        for _ in range(8):
            results.append(shipdeck_daemon("run", "build"))

    starter = threading.Thread(target=start_runs)
    starter.start()
    passes = []
    while starter.is_alive():
        passes.append(shipdeck_daemon("gc", "--keep", "2", "--json"))
    starter.join()
    assert all(result.returncode == 0 for result in results), [r.stderr for r in results]
    assert all(p.returncode == 0 for p in passes), [p.stderr for p in passes if p.returncode]
    assert len(passes) >= 2
    shipdeck_daemon("cancel", "last:slow")
    slow.communicate(timeout=30)

    final = shipdeck_daemon.json("gc", "--keep", "2")
    runs = shipdeck_daemon.json("runs", "--limit", "500")
    by_pipeline: dict[str, list[dict[str, object]]] = {}
    for run in runs:
        by_pipeline.setdefault(str(run["pipeline"]), []).append(run)
    assert len(by_pipeline["build"]) == 2
    assert all(run["status"] == "succeeded" for run in by_pipeline["build"])
    assert [run["status"] for run in by_pipeline["slow"]] == ["cancelled"]
    assert final["kept_runs"] == len(runs)
    assert _log_dirs(shipdeck_daemon.root) == {str(run["id"]) for run in runs}
    for run in by_pipeline["build"]:
        log = shipdeck_daemon("logs", str(run["id"]), "compile")
        assert log.stdout.splitlines()[0] == "compiling"
    db = sqlite3.connect(shipdeck_daemon.root / ".shipdeck" / "shipdeck.db")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        orphans = "SELECT COUNT(*) FROM tasks WHERE run_id NOT IN (SELECT id FROM runs)"
        assert db.execute(orphans).fetchone()[0] == 0
    finally:
        db.close()


def test_the_daemon_applies_the_workspace_retention(shipdeck_daemon: Shipdeck) -> None:
    toml = shipdeck_daemon.root / "shipdeck.toml"
    toml.write_text(
        toml.read_text()
        + textwrap.dedent(
            """
        [retention]
        keep = 1
        every = "1s"
        """
        )
    )
    slow = shipdeck_daemon.popen("run", "slow")
    for _ in range(4):
        assert shipdeck_daemon("run", "build").returncode == 0

    def trimmed() -> bool:
        pipelines = [run["pipeline"] for run in shipdeck_daemon.json("runs")]
        return pipelines.count("build") == 1

    shipdeck_daemon.wait_for(trimmed, timeout=30)
    runs = shipdeck_daemon.json("runs")
    assert [run["status"] for run in runs if run["pipeline"] == "slow"] == ["running"]
    log = (shipdeck_daemon.root / ".shipdeck" / "runner.log").read_text()
    passes = re.findall(r"retention: deleted \d+ runs? \(build (\d+)\)", log)
    assert sum(int(count) for count in passes) == 3, log
    shipdeck_daemon("cancel", "last:slow")
    slow.communicate(timeout=30)
    detail = json.loads(shipdeck_daemon("show", "last:slow", "--json").stdout)
    assert detail["run"]["status"] == "cancelled"


def _history(root: Path, runs: int) -> None:
    """`runs` finished runs of one pipeline, each with a task, a metric and a log directory,
    written straight into a real history (far faster than running them)."""
    from shipdeck.engine.deploy.ledger import Ledger
    from shipdeck.engine.runs.store import Store

    state = root / ".shipdeck"
    Store(state / "shipdeck.db").close()
    Ledger(state / "shipdeck.db").close()
    db = sqlite3.connect(state / "shipdeck.db", isolation_level=None)
    db.execute("BEGIN")
    for run_id in range(1, runs + 1):
        db.execute(
            "INSERT INTO runs (pipeline, status, params, trigger, user, jobs, created_at,"
            " tasks_total, tasks_done) VALUES ('build', 'succeeded', '{}', 'cli', 'u', 1, ?,"
            " 1, 1)",
            (run_id,),
        )
        db.execute(
            "INSERT INTO tasks (run_id, name, position, status, attempts)"
            " VALUES (?, 'compile', 0, 'succeeded', 1)",
            (run_id,),
        )
        db.execute(
            "INSERT INTO metrics (run_id, task, key, value, ts) VALUES (?, 'compile', 'x', 1, 0)",
            (run_id,),
        )
        logs = state / "logs" / str(run_id)
        logs.mkdir(parents=True)
        (logs / "compile.log").write_text("compiling\n")
    db.execute("COMMIT")
    db.close()


def _count_runs(root: Path) -> int:
    db = sqlite3.connect(root / ".shipdeck" / "shipdeck.db")
    try:
        return int(db.execute("SELECT COUNT(*) FROM runs").fetchone()[0])
    finally:
        db.close()


def test_gc_killed_at_random_points_leaves_a_consistent_history(shipdeck: Shipdeck) -> None:
    """kill -9 a gc pass while it deletes rows, while it removes files, and the next pass
    while it removes what the killed one left, each at a random moment: every time the
    history is whole (no task or metric without its run, integrity ok, every kept run's log
    there), and the next pass finishes the job."""
    _history(shipdeck.root, 1500)
    rng = random.Random(7)
    phases = [
        lambda: _count_runs(shipdeck.root) < 1500,  # deleting rows
        lambda: len(_log_dirs(shipdeck.root)) < 1500,  # removing log directories
        lambda: len(_log_dirs(shipdeck.root)) < 1000,  # the next pass, removing what is left
    ]
    killed = 0
    for started in phases:
        process = shipdeck.popen("gc", "--keep", "100")
        while process.poll() is None and not started():
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.3))
        if process.poll() is None:
            process.kill()
            killed += 1
        process.communicate(timeout=60)
        db = sqlite3.connect(shipdeck.root / ".shipdeck" / "shipdeck.db")
        try:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            for table in ("tasks", "metrics"):
                orphans = f"SELECT COUNT(*) FROM {table} WHERE run_id NOT IN (SELECT id FROM runs)"
                assert db.execute(orphans).fetchone()[0] == 0, table
            runs = {str(row[0]) for row in db.execute("SELECT id FROM runs")}
        finally:
            db.close()
        assert {str(n) for n in range(1401, 1501)} <= runs  # the newest 100 are never touched
        assert runs <= _log_dirs(shipdeck.root)  # no kept run lost its log
    assert killed >= 2
    final = shipdeck.json("gc", "--keep", "100")
    assert final["kept_runs"] == 100
    assert _log_dirs(shipdeck.root) == {str(n) for n in range(1401, 1501)}


def test_a_long_list_of_protected_runs_is_cut_short(shipdeck: Shipdeck) -> None:
    _history(shipdeck.root, 14)
    db = sqlite3.connect(shipdeck.root / ".shipdeck" / "shipdeck.db")
    with db:
        for run_id in range(1, 13):
            db.execute(
                "INSERT INTO model_versions (model, version, run_id, task, params, metrics,"
                " sha256, created_at) VALUES ('churn', ?, ?, 'compile', '{}', '{}', ?, 0)",
                (run_id, run_id, "0" * 64),
            )
    db.close()
    lines = shipdeck("gc", "--keep", "0").stdout.splitlines()
    assert lines[0] == "deleted 2 runs (build 2) and 0 artifacts"
    assert lines[2] == "kept 12 runs, 12 of them protected:"
    assert lines[3:] == [
        *(f"  #{n} build: it registered churn v{n}" for n in range(1, 11)),
        "  ... and 2 more (--json lists them all)",
    ]


def test_gc_under_read_only_deletes_nothing(shipdeck: Shipdeck) -> None:
    for _ in range(2):
        assert shipdeck("run", "build").returncode == 0
    ids = sorted(_run_ids(shipdeck))
    refused = shipdeck("--read-only", "gc", "--keep", "0")
    assert refused.returncode == 1, refused.stdout
    assert refused.stderr == "shipdeck: error: gc refused: read-only mode (--read-only)\n"
    assert sorted(_run_ids(shipdeck)) == ids
    assert _log_dirs(shipdeck.root) == set(ids)
    dry = shipdeck("gc", "--keep", "0", "--dry-run", "--read-only")  # a dry run only reads
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("would delete 2 runs (build 2)")
