"""gc benchmark: deleting a large history beside a busy runner.

A synthetic history of RUNS runs (5 pipelines; each run 3 tasks, 5 metrics, a log directory
with 3 logs and params.json; every tenth run a stored artifact recorded for a service) is
built twice. On one copy, the reference: `rm -rf` of exactly the log directories and artifact
files gc will delete, the pure cost of removing those files. On the other, `collect_garbage`
with keep = 10 while a writer thread does what a runner does meanwhile: a small BEGIN
IMMEDIATE transaction every 10 ms; its latency is recorded before (idle) and during gc.

Targets: gc / rm -rf <= 1.5 in wall time, and the longest wait of a runner's write during gc
<= 100 ms (no stall of the runner's event loop a user would notice). Prints a table (or JSON
with --json) and exits 0: it measures, it does not judge.
    python bench/retention.py [--runs 10000] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from shipdeck.engine.automation.retention import ARTIFACT_GRACE, collect_garbage
from shipdeck.engine.deploy.ledger import Ledger
from shipdeck.engine.runs.store import Store
from shipdeck.model import RetentionSpec

KEEP = 10
TARGET_RATIO = 1.5
TARGET_WAIT_MS = 100.0
LOG_LINE = "2026-11-27T10:00:00.000 O " + "x" * 80 + "\n"


def build(root: Path, runs: int) -> None:
    state = root / ".shipdeck"
    state.mkdir(parents=True)
    Store(state / "shipdeck.db").close()
    Ledger(state / "shipdeck.db").close()
    db = sqlite3.connect(state / "shipdeck.db", isolation_level=None)
    old = time.time() - 90 * 86400
    db.execute("BEGIN")
    for run_id in range(1, runs + 1):
        db.execute(
            "INSERT INTO runs (pipeline, status, params, trigger, user, jobs, created_at,"
            " finished_at, tasks_total, tasks_done) VALUES (?, 'succeeded', '{}', 'cli', 'u',"
            " 2, ?, ?, 3, 3)",
            (f"pipeline-{run_id % 5}", old + run_id, old + run_id + 1),
        )
        for position in range(3):
            db.execute(
                "INSERT INTO tasks (run_id, name, position, status, attempts, exit_code)"
                " VALUES (?, ?, ?, 'succeeded', 1, 0)",
                (run_id, f"task-{position}", position),
            )
        for metric in range(5):
            db.execute(
                "INSERT INTO metrics (run_id, task, key, value, step, ts)"
                " VALUES (?, 'task-0', ?, 0.5, NULL, ?)",
                (run_id, f"metric-{metric}", old + run_id),
            )
        if run_id % 10 == 0:
            digest = f"{run_id:064x}"
            db.execute(
                "INSERT INTO run_artifacts (run_id, path, sha256) VALUES (?, 'dist/app', ?)",
                (run_id, digest),
            )
    db.execute("COMMIT")
    db.close()
    artifacts = state / "artifacts"
    artifacts.mkdir()
    for run_id in range(1, runs + 1):
        directory = state / "logs" / str(run_id)
        directory.mkdir(parents=True)
        (directory / "params.json").write_text("{}\n")
        for position in range(3):
            (directory / f"task-{position}.log").write_text(LOG_LINE * 20)
        if run_id % 10 == 0:
            stored = artifacts / f"{run_id:064x}"
            stored.write_bytes(b"a" * 4096)
            os.utime(stored, (old, old))


def doomed(runs: int) -> tuple[list[int], list[int]]:
    """The run ids gc deletes with keep = KEEP (the newest KEEP of each of 5 pipelines stay),
    and those of them with an artifact."""
    newest: dict[int, list[int]] = {}
    for run_id in range(runs, 0, -1):
        newest.setdefault(run_id % 5, []).append(run_id)
    kept = {run_id for ids in newest.values() for run_id in ids[:KEEP]}
    gone = [run_id for run_id in range(1, runs + 1) if run_id not in kept]
    return gone, [run_id for run_id in gone if run_id % 10 == 0]


def reference(root: Path, runs: int) -> float:
    gone, with_artifact = doomed(runs)
    state = root / ".shipdeck"
    paths = [str(state / "logs" / str(run_id)) for run_id in gone]
    paths += [str(state / "artifacts" / f"{run_id:064x}") for run_id in with_artifact]
    start = time.perf_counter()
    for first in range(0, len(paths), 2000):  # within the argument-length limit
        subprocess.run(["rm", "-rf", *paths[first : first + 2000]], check=True)
    return time.perf_counter() - start


class Writer:
    """A runner's writes meanwhile: one small transaction every 10 ms, each timed."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.waits: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop)

    def _loop(self) -> None:
        db = sqlite3.connect(self.database, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA busy_timeout = 10000")
        db.execute("PRAGMA synchronous = NORMAL")
        while not self._stop.is_set():
            start = time.perf_counter()
            db.execute("BEGIN IMMEDIATE")
            db.execute("UPDATE meta SET value = value WHERE key = 'seq_next'")
            db.execute("COMMIT")
            self.waits.append(time.perf_counter() - start)
            time.sleep(0.01)
        db.close()

    def __enter__(self) -> Writer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def take(self) -> list[float]:
        waits, self.waits = self.waits, []
        return waits


def measure(runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="shipdeck-bench-gc-") as scratch:
        reference_root, gc_root = Path(scratch, "reference"), Path(scratch, "gc")
        build(reference_root, runs)
        build(gc_root, runs)
        rm_seconds = reference(reference_root, runs)
        state = gc_root / ".shipdeck"
        state.chmod(0o700)  # as shipdeck makes it: measure gc, not the one-time tightening
        with Writer(state / "shipdeck.db") as writer:
            time.sleep(1.0)
            idle = writer.take()
            start = time.perf_counter()
            report = collect_garbage(
                state, RetentionSpec(keep=KEEP), now=time.time() + ARTIFACT_GRACE
            )
            gc_seconds = time.perf_counter() - start
            during = writer.take()
    assert len(report.deleted_runs) == len(doomed(runs)[0])
    return {
        "runs": runs,
        "deleted_runs": len(report.deleted_runs),
        "deleted_artifacts": report.artifacts,
        "freed_bytes": report.log_bytes + report.artifact_bytes,
        "rm_rf_seconds": rm_seconds,
        "gc_seconds": gc_seconds,
        "ratio": gc_seconds / rm_seconds,
        "write_wait_idle_p99_ms": _p99(idle) * 1000,
        "write_wait_idle_max_ms": max(idle) * 1000,
        "write_wait_gc_p99_ms": _p99(during) * 1000,
        "write_wait_gc_max_ms": max(during) * 1000,
        "writes_during_gc": len(during),
        "load_average": os.getloadavg()[0],
    }


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) >= 2 else max(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10_000, help="runs in the history")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure(args.runs)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"{result['runs']} runs, {result['deleted_runs']} deleted with"
        f" {result['deleted_artifacts']} artifacts, {result['freed_bytes'] / 1e6:.1f} MB freed"
        f" (load average {result['load_average']:.1f})"
    )
    print(f"rm -rf of the same files (reference)  {result['rm_rf_seconds']:8.2f}s")
    print(f"shipdeck gc                           {result['gc_seconds']:8.2f}s")
    print(f"ratio gc / rm -rf                     {result['ratio']:8.2f}")
    print(
        f"a runner's write, idle                p99 {result['write_wait_idle_p99_ms']:6.1f} ms"
        f"  max {result['write_wait_idle_max_ms']:6.1f} ms"
    )
    print(
        f"a runner's write, during gc           p99 {result['write_wait_gc_p99_ms']:6.1f} ms"
        f"  max {result['write_wait_gc_max_ms']:6.1f} ms"
        f"  ({result['writes_during_gc']} writes)"
    )
    ratio_met = "met" if result["ratio"] <= TARGET_RATIO else "MISSED"
    wait_met = "met" if result["write_wait_gc_max_ms"] <= TARGET_WAIT_MS else "MISSED"
    print(f"target gc / rm -rf <= {TARGET_RATIO}: {ratio_met} ({result['ratio']:.2f})")
    print(
        f"target longest write wait during gc <= {TARGET_WAIT_MS:.0f} ms: {wait_met}"
        f" ({result['write_wait_gc_max_ms']:.1f} ms)"
    )


if __name__ == "__main__":
    main()
