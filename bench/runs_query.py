"""Runs queries benchmark: the runner-side filters, counts and failure streaks over a big
run history, against the cheapest query there is (the newest page, no filter).

A store is seeded in a temp dir with RUNS runs (default 100,000) over 20 pipelines and two
deploy services (envs dev/staging/prod), one task row each (failed runs carry a reason), about
10% failed, a few interrupted and cancelled. Each query runs once to warm up, then REPEAT times;
medians are compared with the reference (`list_runs(limit=100)`). The status count is also
measured with the status indexes dropped, to show what they are for.

Prints a table (or JSON with --json) and always exits 0: it measures, it does not judge.
    python bench/runs_query.py [--runs 100000] [--repeat 7] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shipdeck.engine.runs.store import Store
from shipdeck.model import RunStatus

PIPELINES = [f"pipe{i:02d}" for i in range(20)]
SERVICES = ["deploy:api", "deploy:web"]
ENVS = ["dev", "staging", "prod"]


def seed(path: Path, runs: int) -> None:
    Store(path).close()  # the schema, with its indexes
    rng = random.Random(7)
    now = time.time() - runs
    run_rows: list[tuple[Any, ...]] = []
    task_rows: list[tuple[Any, ...]] = []
    for run_id in range(1, runs + 1):
        deploy = rng.random() < 0.05
        pipeline = rng.choice(SERVICES) if deploy else rng.choice(PIPELINES)
        params = {"env": rng.choice(ENVS)} if deploy else {"lr": round(rng.random(), 2)}
        roll = rng.random()
        status = (
            "failed"
            if roll < 0.10
            else "interrupted"
            if roll < 0.11
            else "cancelled"
            if roll < 0.12
            else "succeeded"
        )
        created = now + run_id
        run_rows.append(
            (
                run_id,
                pipeline,
                status,
                json.dumps(params),
                "cli",
                "op@host",
                1,
                created,
                created,
                created + 1,
                1,
                1,
                "bench",
            )
        )
        reason = "exit 1" if status == "failed" else None
        task_rows.append((run_id, "main", 0, status, 1, created, created + 1, reason))
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO runs (id, pipeline, status, params, trigger, user, jobs, created_at,"
            " started_at, finished_at, tasks_total, tasks_done, owner)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            run_rows,
        )
        db.executemany(
            "INSERT INTO tasks (run_id, name, position, status, attempts, started_at,"
            " finished_at, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            task_rows,
        )


def median_seconds(call: Callable[[], object], repeat: int) -> float:
    call()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "shipdeck.db"
        seed(path, args.runs)
        store = Store(path)
        queries: list[tuple[str, Callable[[], object]]] = [
            ("newest page, no filter (reference)", lambda: store.list_runs(limit=100)),
            ("page + total, no filter", lambda: store.runs_page(limit=100)),
            (
                "page + total, status=failed",
                lambda: store.runs_page(status=RunStatus.FAILED, limit=100),
            ),
            (
                "page + total, pipeline + status",
                lambda: store.runs_page(pipeline="pipe03", status=RunStatus.FAILED, limit=100),
            ),
            ("page + total, text 'pipe03'", lambda: store.runs_page(text="pipe03", limit=100)),
            (
                "page + total, text 'exit 1' (task reasons)",
                lambda: store.runs_page(text="exit 1", limit=100),
            ),
            ("page + total, text 'lr=0.5'", lambda: store.runs_page(text="lr=0.5", limit=100)),
            ("failure streaks (Overview)", lambda: store.failure_streaks(20)),
            ("count, status=failed", lambda: store.count_runs(status=RunStatus.FAILED)),
        ]
        results = [(name, median_seconds(call, args.repeat)) for name, call in queries]
        store.close()
        with sqlite3.connect(path) as db:
            db.execute("DROP INDEX runs_status")
            db.execute("DROP INDEX runs_pipeline_status")
        bare = sqlite3.connect(path)
        unindexed = median_seconds(
            lambda: bare.execute("SELECT COUNT(*) FROM runs WHERE status = 'failed'").fetchone(),
            args.repeat,
        )
        bare.close()
        results.append(("count, status=failed, without the indexes", unindexed))
    reference = results[0][1]
    if args.json:
        print(json.dumps({"runs": args.runs, "results": dict(results)}, indent=2))
        return 0
    print(f"{args.runs:,} runs, median of {args.repeat}")
    print(f"{'query':<46} {'median':>10} {'ratio':>8}")
    print("-" * 66)
    for name, seconds in results:
        print(f"{name:<46} {seconds * 1000:>8.2f}ms {seconds / reference:>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
