"""The run history: SQLite in WAL mode at .shipdeck/shipdeck.db, shared by every engine process.

Callers batch their writes (`write`) so a busy run costs a few transactions per second,
not one per change. Connections are short-lived per process and never shared across threads.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Unpack

from shipdeck.engine.database import Schema, connect, from_epoch, migrate, transaction
from shipdeck.errors import InvalidInput
from shipdeck.model import Metric, RerunMode, Run, RunCause, RunStatus, TaskRun, TaskStatus
from shipdeck.model.ids import Id
from shipdeck.model.lineage import CodeVersion, InputFile
from shipdeck.model.monitor import MONITOR_PIPELINE_PREFIX
from shipdeck.model.options import RUN_LIMIT, RunFilter
from shipdeck.model.run import parse_id
from shipdeck.model.text import repaired

SCHEMA_VERSION = 8

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pipeline TEXT NOT NULL,
    status TEXT NOT NULL,
    params TEXT NOT NULL,
    trigger TEXT NOT NULL,
    user TEXT NOT NULL,
    parent_id INTEGER,
    rerun_mode TEXT,
    rerun_from TEXT,
    jobs INTEGER NOT NULL,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    tasks_total INTEGER NOT NULL DEFAULT 0,
    tasks_done INTEGER NOT NULL DEFAULT 0,
    owner TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    cause TEXT
);
CREATE INDEX IF NOT EXISTS runs_pipeline ON runs (pipeline, id);
CREATE INDEX IF NOT EXISTS runs_active ON runs (status) WHERE status IN ('queued', 'running');
CREATE INDEX IF NOT EXISTS runs_status ON runs (status, id);
CREATE INDEX IF NOT EXISTS runs_pipeline_status ON runs (pipeline, status, id);
CREATE TABLE IF NOT EXISTS tasks (
    run_id INTEGER NOT NULL REFERENCES runs (id),
    name TEXT NOT NULL,
    position INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    exit_code INTEGER,
    started_at REAL,
    finished_at REAL,
    reason TEXT,
    reused_from INTEGER,
    pid INTEGER,
    needs TEXT,
    PRIMARY KEY (run_id, name)
);
CREATE TABLE IF NOT EXISTS metrics (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL,
    task TEXT NOT NULL,
    key TEXT NOT NULL,
    value REAL NOT NULL,
    step INTEGER,
    ts REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS metrics_run ON metrics (run_id, task);
CREATE TABLE IF NOT EXISTS task_output (
    run_id INTEGER NOT NULL,
    task TEXT NOT NULL,
    log_offset INTEGER NOT NULL,
    log_lines INTEGER NOT NULL,
    metrics_offset INTEGER NOT NULL,
    metrics_line INTEGER NOT NULL,
    PRIMARY KEY (run_id, task)
);
CREATE TABLE IF NOT EXISTS run_code (
    run_id INTEGER PRIMARY KEY,
    commit_sha TEXT NOT NULL,
    short TEXT NOT NULL,
    branch TEXT,
    dirty INTEGER,
    changed_files INTEGER NOT NULL,
    changes_sha256 TEXT
);
CREATE TABLE IF NOT EXISTS task_inputs (
    run_id INTEGER NOT NULL,
    task TEXT NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime REAL NOT NULL,
    PRIMARY KEY (run_id, task, path)
);
CREATE TABLE IF NOT EXISTS input_digests (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    ctime_ns INTEGER NOT NULL,
    file_id TEXT NOT NULL,
    sha256 TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS monitor_checks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    monitor TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    trigger TEXT NOT NULL,
    user TEXT NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL,
    verdict TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    report TEXT
);
CREATE INDEX IF NOT EXISTS monitor_checks_monitor ON monitor_checks (monitor, id);
CREATE INDEX IF NOT EXISTS monitor_checks_running ON monitor_checks (verdict)
    WHERE verdict = 'running';
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    monitor TEXT NOT NULL,
    threshold TEXT NOT NULL,
    metric TEXT NOT NULL,
    value REAL NOT NULL,
    opened_at REAL NOT NULL,
    opened_check INTEGER NOT NULL,
    last_value REAL NOT NULL,
    last_check INTEGER NOT NULL,
    watches TEXT NOT NULL DEFAULT '{}',
    closed_at REAL,
    closed_value REAL,
    closed_reason TEXT NOT NULL DEFAULT '',
    acked_by TEXT,
    acked_at REAL,
    ack_note TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX IF NOT EXISTS alerts_open ON alerts (monitor, threshold)
    WHERE closed_at IS NULL;
"""

ACTIVE_RUN = (RunStatus.QUEUED.value, RunStatus.RUNNING.value)
DEPLOY_PIPELINE_PREFIX = "deploy:"
"""A service's deploy runs are recorded as pipeline `deploy:<service>` (targets.pipeline_for),
with the environment in their params."""
_ENV = "json_extract(params, '$.env')"
_RUN_COLUMNS = (
    "id, pipeline, status, params, trigger, user, parent_id, rerun_mode, rerun_from, jobs,"
    " created_at, started_at, finished_at, tasks_total, tasks_done, cause"
)
_DONE = f"status IN ('{TaskStatus.SUCCEEDED.value}', '{TaskStatus.FAILED.value}')"
"""A task that ran to an end (`TaskStatus.done`): what a run's `tasks_done` counts."""
_DONE_OF_RUN = f"tasks.run_id = runs.id AND tasks.{_DONE}"
_TASK_COLUMNS = (
    "run_id, name, status, attempts, exit_code, started_at, finished_at, reason, reused_from, needs"
)
_UPGRADES = {
    2: [("tasks", "ALTER TABLE tasks ADD COLUMN needs TEXT")],
    3: [],  # task_output: created by the schema's CREATE ... IF NOT EXISTS
    4: [],  # the status indexes: created with the rest of the schema (IF NOT EXISTS)
    5: [("runs", "ALTER TABLE runs ADD COLUMN cause TEXT")],
    6: [],  # lineage: new tables only, which the schema creates
    7: [],  # monitor checks and alerts: new tables only
    8: [
        ("runs", f"UPDATE runs SET tasks_done = (SELECT COUNT(*) FROM tasks WHERE {_DONE_OF_RUN})")
    ],
}
"""(table, statement) that bring a store written at version N-1 to version N; a table the
store does not have yet is skipped (the schema then creates it whole)."""
RUNS = Schema("runs", SCHEMA_VERSION, _SCHEMA, _UPGRADES, legacy_user_version=True)
"""The run history's part of the file (up to version 6 its version was `PRAGMA user_version`)."""


Claim = Callable[[sqlite3.Connection, int], None]
"""Writes more in a new run's own transaction: (connection, run number) -> None; raising
undoes the run (see `Store.insert_run`)."""


def run_key(run_id: str) -> int | None:
    """The SQLite key of a run id, None for an id this store never gives (not a number as
    the store writes it: `"012"` is no id, as `"abc"` is none).

    Above the store a run id is opaque text (`"12"`); the tables keep INTEGER keys."""
    try:
        key = parse_id(run_id, "run id")
    except InvalidInput:  # more digits than any id has
        return None
    return key if key is not None and str(key) == run_id else None


def _key(run_id: str) -> int:
    """The key of a run id the engine gave out (from its own rows): always a number."""
    return int(run_id)


def _id(key: int | None) -> Id | None:
    return None if key is None else str(key)


@dataclass(frozen=True, slots=True)
class TaskRow:
    """A task's state as the engine writes it: the TaskRun plus where it sits and its pid."""

    task: TaskRun
    position: int
    pid: int | None = None


@dataclass(frozen=True, slots=True)
class OutputCursor:
    """How much of a task's output its metrics in the store account for: its log up to
    `log_offset` (`log_lines` lines) and its $SHIPDECK_METRICS file up to `metrics_offset`.
    Saved in the transaction that saves those metrics, so crash recovery reads on from here."""

    run_id: Id
    task: str
    log_offset: int = 0
    log_lines: int = 0
    metrics_offset: int = 0
    metrics_line: int = 0


@dataclass(frozen=True, slots=True)
class TaskLink:
    """A task's place in its run's lineage: kept from which run, needing which tasks."""

    name: str
    reused_from: Id | None
    needs_json: str | None
    """As stored; parsed only for the runs whose lineage needs it (`needs`)."""

    @classmethod
    def of(cls, task: TaskRun) -> TaskLink:
        return cls(
            task.name, task.reused_from, None if task.needs is None else json.dumps(task.needs)
        )

    @property
    def needs(self) -> list[str] | None:
        return None if self.needs_json is None else list(json.loads(self.needs_json))


def to_epoch(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


class Store:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = connect(path)  # its failures name the file: see engine.database
        migrate(self._db, RUNS)

    def close(self) -> None:
        self._db.close()

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self._db)

    def integrity_check(self) -> str:
        return str(self._db.execute("PRAGMA integrity_check").fetchone()[0])

    # Sequence numbers -------------------------------------------------------------------

    def reserve_seq_block(self, size: int) -> int:
        """Reserve [start, start+size) for this process; no other reservation overlaps it."""
        with self._transaction():
            row = self._db.execute("SELECT value FROM meta WHERE key = 'seq_next'").fetchone()
            start = int(row[0]) if row else 1
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES ('seq_next', ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(start + size),),
            )
        return start

    # Writes -----------------------------------------------------------------------------

    def insert_run(
        self,
        run: Run,
        owner: str,
        tasks: Sequence[TaskRow],
        *,
        claim: Claim | None = None,
    ) -> Id:
        """Create a run and its task rows in one transaction; returns the new run id.

        `claim(db, run_id)` writes more in that same transaction (a schedule records the slot
        it fires for); if it raises, nothing is written and the error propagates."""
        with self._transaction():
            cursor = self._db.execute(
                "INSERT INTO runs (pipeline, status, params, trigger, user, parent_id, rerun_mode,"
                " rerun_from, jobs, created_at, started_at, finished_at, tasks_total, tasks_done,"
                " owner, cause) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run.pipeline,
                    run.status.value,
                    json.dumps(run.params),
                    run.trigger,
                    run.user,
                    None if run.parent_id is None else _key(run.parent_id),
                    run.rerun_mode.value if run.rerun_mode else None,
                    run.rerun_from,
                    run.jobs,
                    to_epoch(run.created_at),
                    to_epoch(run.started_at),
                    to_epoch(run.finished_at),
                    run.tasks_total,
                    run.tasks_done,
                    owner,
                    None if run.cause is None else run.cause.model_dump_json(),
                ),
            )
            key = int(cursor.lastrowid or 0)
            if claim is not None:
                claim(self._db, key)
            run_id = str(key)
            rows = [
                TaskRow(row.task.model_copy(update={"run_id": run_id}), row.position, row.pid)
                for row in tasks
            ]
            self._upsert_tasks(rows)
        return run_id

    def write(
        self,
        runs: Iterable[Run] = (),
        tasks: Iterable[TaskRow] = (),
        metrics: Iterable[Metric] = (),
        outputs: Iterable[OutputCursor] = (),
    ) -> None:
        """Persist the latest state of runs and tasks, new metrics and how much of the tasks'
        output they account for, in one transaction."""
        with self._transaction():
            self._db.executemany(
                "UPDATE runs SET status = ?, started_at = ?, finished_at = ?, tasks_total = ?,"
                " tasks_done = ? WHERE id = ?",
                [
                    (
                        run.status.value,
                        to_epoch(run.started_at),
                        to_epoch(run.finished_at),
                        run.tasks_total,
                        run.tasks_done,
                        _key(run.id),
                    )
                    for run in runs
                ],
            )
            self._upsert_tasks(tasks)
            self._db.executemany(
                "INSERT INTO metrics (run_id, task, key, value, step, ts)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (_key(m.run_id), m.task, m.key, m.value, m.step, m.ts.timestamp())
                    for m in metrics
                ],
            )
            self._db.executemany(
                "INSERT OR REPLACE INTO task_output (run_id, task, log_offset, log_lines,"
                " metrics_offset, metrics_line) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        _key(o.run_id),
                        o.task,
                        o.log_offset,
                        o.log_lines,
                        o.metrics_offset,
                        o.metrics_line,
                    )
                    for o in outputs
                ],
            )

    def _upsert_tasks(self, rows: Iterable[TaskRow]) -> None:
        self._db.executemany(
            "INSERT INTO tasks (run_id, name, position, status, attempts, exit_code, started_at,"
            " finished_at, reason, reused_from, pid, needs)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (run_id, name) DO UPDATE SET status = excluded.status,"
            " attempts = excluded.attempts, exit_code = excluded.exit_code,"
            " started_at = excluded.started_at, finished_at = excluded.finished_at,"
            " reason = excluded.reason, reused_from = excluded.reused_from, pid = excluded.pid",
            [
                (
                    _key(row.task.run_id),
                    row.task.name,
                    row.position,
                    row.task.status.value,
                    row.task.attempts,
                    row.task.exit_code,
                    to_epoch(row.task.started_at),
                    to_epoch(row.task.finished_at),
                    row.task.reason,
                    None if row.task.reused_from is None else _key(row.task.reused_from),
                    row.pid,
                    None if row.task.needs is None else json.dumps(row.task.needs),
                )
                for row in rows
            ],
        )

    def request_cancel(self, run_id: str) -> None:
        self._db.execute("UPDATE runs SET cancel_requested = 1 WHERE id = ?", (_key(run_id),))

    def interrupt_run(self, run_id: str, reason: str, now: float) -> list[str]:
        """Mark an orphaned run and its unfinished tasks interrupted; returns the tasks that
        were running (their logs get a note)."""
        key = _key(run_id)
        with self._transaction():
            status = self._db.execute("SELECT status FROM runs WHERE id = ?", (key,)).fetchone()
            if status is None or status[0] not in ACTIVE_RUN:
                return []
            running = [
                str(row[0])
                for row in self._db.execute(
                    "SELECT name FROM tasks WHERE run_id = ? AND status IN (?, ?)",
                    (key, TaskStatus.RUNNING.value, TaskStatus.RETRYING.value),
                )
            ]
            unfinished = (TaskStatus.PENDING.value, TaskStatus.RUNNING.value)
            self._db.execute(
                "UPDATE tasks SET status = ?, reason = ?, pid = NULL,"
                " finished_at = CASE WHEN started_at IS NULL THEN NULL ELSE ? END"
                " WHERE run_id = ? AND status IN (?, ?, ?)",
                (
                    TaskStatus.INTERRUPTED.value,
                    reason,
                    now,
                    key,
                    *unfinished,
                    TaskStatus.RETRYING.value,
                ),
            )
            done = self._db.execute(
                f"SELECT COUNT(*) FROM tasks WHERE run_id = ? AND {_DONE}", (key,)
            ).fetchone()[0]
            self._db.execute(
                "UPDATE runs SET status = ?, finished_at = ?, tasks_done = ? WHERE id = ?",
                (RunStatus.INTERRUPTED.value, now, done, key),
            )
        return running

    # Reads ------------------------------------------------------------------------------

    def get_run(self, run_id: str) -> Run | None:
        """The run, None when there is none with that id (or the id is none this store
        gives: an engine answers "no run" to any id, not a crash)."""
        key = run_key(run_id)
        if key is None:
            return None
        row = self._db.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (key,)).fetchone()
        return None if row is None else _run_from_row(row)

    def run_control(self, run_id: str) -> tuple[str | None, bool] | None:
        """The run's owner lock name and whether a cancel was requested."""
        row = self._db.execute(
            "SELECT owner, cancel_requested FROM runs WHERE id = ?", (_key(run_id),)
        ).fetchone()
        return None if row is None else (row[0], bool(row[1]))

    def list_runs(
        self,
        *,
        pipeline: str | None = None,
        status: RunStatus | None = None,
        text: str | None = None,
        limit: int = RUN_LIMIT,
        before: str | None = None,
    ) -> list[Run]:
        """Runs matching every filter given, newest first (see `_run_filter` for `text`);
        with `before`, only those older than that run."""
        where, args = _run_filter(pipeline, status, text)
        if before is not None:
            key = run_key(before)
            if key is None:
                raise InvalidInput(f"before: {before!r} is not a run id of this runner")
            where.append("id < ?")
            args.append(key)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self._db.execute(
            f"SELECT {_RUN_COLUMNS} FROM runs {clause} ORDER BY id DESC LIMIT ?",
            (*args, max(0, limit)),
        )
        return [_run_from_row(row) for row in rows]

    def count_runs(
        self,
        *,
        pipeline: str | None = None,
        status: RunStatus | None = None,
        text: str | None = None,
    ) -> int:
        where, args = _run_filter(pipeline, status, text)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        return int(self._db.execute(f"SELECT COUNT(*) FROM runs {clause}", args).fetchone()[0])

    def runs_page(self, **filters: Unpack[RunFilter]) -> tuple[list[Run], int]:
        """`list_runs` and `count_runs` read from one snapshot of the store, so the count
        includes every run listed."""
        pipeline, status, text = filters.get("pipeline"), filters.get("status"), filters.get("text")
        self._db.execute("BEGIN")
        try:
            runs = self.list_runs(**filters)
            total = self.count_runs(pipeline=pipeline, status=status, text=text)
        finally:
            self._db.execute("COMMIT")
        return runs, total

    def failure_streaks(self, limit: int) -> list[tuple[Run, int]]:
        """Each line of runs with failures since its last success, newest failure first:
        (that failure, how many failed or were interrupted since the line last succeeded).

        A line is a pipeline; a service's deploy runs (`deploy:api`) are one line per
        environment, so a success in dev does not hide a failure in staging."""
        streaks: list[tuple[int, int]] = []
        for (pipeline,) in self._db.execute("SELECT DISTINCT pipeline FROM runs").fetchall():
            streaks.extend(self._pipeline_streaks(str(pipeline)))
        streaks.sort(reverse=True)
        result = []
        for key, count in streaks[: max(0, limit)]:
            run = self.get_run(str(key))
            if run is not None:
                result.append((run, count))
        return result

    def _pipeline_streaks(self, pipeline: str) -> list[tuple[int, int]]:
        """(newest failure id, failures since the last success) per line of `pipeline`."""
        failed = (RunStatus.FAILED.value, RunStatus.INTERRUPTED.value)
        if not pipeline.startswith(DEPLOY_PIPELINE_PREFIX):
            ok = self._db.execute(
                "SELECT MAX(id) FROM runs WHERE pipeline = ? AND status = ?",
                (pipeline, RunStatus.SUCCEEDED.value),
            ).fetchone()[0]
            newest, count = self._db.execute(
                "SELECT MAX(id), COUNT(*) FROM runs WHERE pipeline = ? AND status IN (?, ?)"
                " AND id > ?",
                (pipeline, *failed, ok or 0),
            ).fetchone()
            return [(int(newest), int(count))] if count else []
        # A service's deploy runs, one line per environment (a param): deploys are few.
        rows = self._db.execute(
            f"WITH ok AS (SELECT {_ENV} AS env, MAX(id) AS id FROM runs"
            "   WHERE pipeline = ? AND status = ? GROUP BY env)"
            f" SELECT MAX(f.id), COUNT(*) FROM (SELECT {_ENV} AS env, id FROM runs"
            "   WHERE pipeline = ? AND status IN (?, ?)) AS f"
            " LEFT JOIN ok ON ok.env IS f.env WHERE f.id > COALESCE(ok.id, 0) GROUP BY f.env",
            (pipeline, RunStatus.SUCCEEDED.value, pipeline, *failed),
        ).fetchall()
        return [(int(newest), int(count)) for newest, count in rows]

    def latest_run_id(self, pipeline: str | None = None) -> Id | None:
        if pipeline is None:
            row = self._db.execute(f"SELECT MAX(id) FROM runs WHERE {_NOT_A_CHECK}").fetchone()
        else:
            row = self._db.execute(
                "SELECT MAX(id) FROM runs WHERE pipeline = ?", (pipeline,)
            ).fetchone()
        return _id(row[0])

    def active_runs(self) -> list[tuple[Id, str | None]]:
        rows = self._db.execute(
            "SELECT id, owner FROM runs WHERE status IN (?, ?) ORDER BY id", ACTIVE_RUN
        )
        return [(str(row[0]), row[1]) for row in rows]

    def active_runs_ahead(self, pipeline: str, run_id: str) -> list[tuple[Id, str | None]]:
        """Queued or running runs of `pipeline` created before `run_id`, with their owners."""
        rows = self._db.execute(
            "SELECT id, owner FROM runs WHERE status IN (?, ?) AND pipeline = ? AND id < ?"
            " ORDER BY id",
            (*ACTIVE_RUN, pipeline, _key(run_id)),
        )
        return [(str(row[0]), row[1]) for row in rows]

    def cancel_requests(self, owner: str) -> list[Id]:
        rows = self._db.execute(
            "SELECT id FROM runs WHERE owner = ? AND cancel_requested = 1 AND status IN (?, ?)",
            (owner, *ACTIVE_RUN),
        )
        return [str(row[0]) for row in rows]

    def tasks(self, run_id: str) -> list[TaskRun]:
        rows = self._db.execute(
            f"SELECT {_TASK_COLUMNS} FROM tasks WHERE run_id = ? ORDER BY position",
            (_key(run_id),),
        )
        return [_task_from_row(row) for row in rows]

    def task(self, run_id: str, name: str) -> TaskRun | None:
        row = self._db.execute(
            f"SELECT {_TASK_COLUMNS} FROM tasks WHERE run_id = ? AND name = ?",
            (_key(run_id), name),
        ).fetchone()
        return None if row is None else _task_from_row(row)

    def running_pids(self, run_id: str) -> list[tuple[str, int]]:
        rows = self._db.execute(
            "SELECT name, pid FROM tasks WHERE run_id = ? AND pid IS NOT NULL", (_key(run_id),)
        )
        return [(str(row[0]), int(row[1])) for row in rows]

    def output_cursor(self, run_id: str, task: str) -> OutputCursor:
        row = self._db.execute(
            "SELECT log_offset, log_lines, metrics_offset, metrics_line FROM task_output"
            " WHERE run_id = ? AND task = ?",
            (_key(run_id), task),
        ).fetchone()
        if row is None:
            return OutputCursor(run_id, task)
        return OutputCursor(run_id, task, *row)

    def metrics(self, run_id: str, tasks: Sequence[str] | None = None) -> list[Metric]:
        sql = "SELECT task, key, value, step, ts FROM metrics WHERE run_id = ?"
        args: list[Any] = [_key(run_id)]
        if tasks is not None:
            if not tasks:
                return []
            sql += f" AND task IN ({', '.join('?' * len(tasks))})"
            args.extend(tasks)
        rows = self._db.execute(sql + " ORDER BY id", args)
        return [
            Metric(run_id=run_id, task=r[0], key=r[1], value=r[2], step=r[3], ts=from_epoch(r[4]))
            for r in rows
        ]

    # Lineage ----------------------------------------------------------------------------

    def record_code(self, run_id: str, code: CodeVersion) -> None:
        with self._transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO run_code (run_id, commit_sha, short, branch, dirty,"
                " changed_files, changes_sha256) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    _key(run_id),
                    code.commit,
                    code.short,
                    code.branch,
                    None if code.dirty is None else int(code.dirty),
                    code.changed_files,
                    code.changes_sha256,
                ),
            )

    def record_inputs(self, run_id: str, files: Sequence[InputFile]) -> None:
        with self._transaction():
            self._db.executemany(
                "INSERT OR REPLACE INTO task_inputs (run_id, task, path, sha256, size, mtime)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (_key(run_id), f.task, f.path, f.sha256, f.size, f.mtime.timestamp())
                    for f in files
                ],
            )

    def codes(self, run_ids: Collection[str]) -> dict[Id, CodeVersion]:
        """The code version each of the runs recorded (runs that recorded none are absent)."""
        found: dict[Id, CodeVersion] = {}
        query = (
            "SELECT run_id, commit_sha, short, branch, dirty, changed_files, changes_sha256"
            " FROM run_code WHERE run_id IN ({runs})"
        )
        for row in self._of_runs(query, run_ids):
            found[str(row[0])] = CodeVersion(
                commit=row[1],
                short=row[2],
                branch=row[3],
                dirty=None if row[4] is None else bool(row[4]),
                changed_files=row[5],
                changes_sha256=row[6],
            )
        return found

    def inputs(self, run_ids: Collection[str]) -> dict[Id, list[InputFile]]:
        """The inputs each of the runs' tasks recorded, in pipeline then path order."""
        found: dict[Id, list[InputFile]] = {}
        query = (
            "SELECT i.run_id, i.task, i.path, i.sha256, i.size, i.mtime FROM task_inputs i"
            " LEFT JOIN tasks t ON t.run_id = i.run_id AND t.name = i.task"
            " WHERE i.run_id IN ({runs}) ORDER BY i.run_id, t.position, i.task, i.path"
        )
        for r in self._of_runs(query, run_ids):
            found.setdefault(str(r[0]), []).append(
                InputFile(task=r[1], path=r[2], sha256=r[3], size=r[4], mtime=from_epoch(r[5]))
            )
        return found

    def task_links(self, run_ids: Collection[str]) -> dict[Id, list[TaskLink]]:
        """How each run's tasks hang together (name, the run a kept one came from, its
        needs), in pipeline order: what lineage needs of many runs, without whole TaskRuns."""
        found: dict[Id, list[TaskLink]] = {}
        query = (
            "SELECT run_id, name, reused_from, needs FROM tasks"
            " WHERE run_id IN ({runs}) ORDER BY run_id, position"
        )
        for row in self._of_runs(query, run_ids):
            link = TaskLink(row[1], _id(row[2]), row[3])
            found.setdefault(str(row[0]), []).append(link)
        return found

    def _of_runs(self, query: str, run_ids: Collection[str]) -> Iterator[Sequence[Any]]:
        """The rows of `query` for the runs, its `{runs}` the placeholders of their keys, read
        in chunks (see _chunks); each chunk's rows in the query's order."""
        for chunk in _chunks(run_ids):
            yield from self._db.execute(query.format(runs=", ".join("?" * len(chunk))), chunk)


_WORD_IN_RUN = (
    "("
    + " OR ".join(
        [
            *(
                f"{column} LIKE ? ESCAPE '\\'"
                for column in ("pipeline", "params", "trigger", "user")
            ),
            "status LIKE ? ESCAPE '\\'",
            "('#' || id) LIKE ? ESCAPE '\\'",
            "('rerun #' || parent_id) LIKE ? ESCAPE '\\'",
            "id IN (SELECT run_id FROM tasks WHERE reason LIKE ? ESCAPE '\\')",
        ]
    )
    + ")"
)
"""Where a word of a text filter is looked for. Column by column with LIKE (ASCII case
folded), and task reasons as one set: several times faster than one lowered concatenation
with a lookup of each run's tasks (bench/runs_query.py)."""


_NOT_A_CHECK = f"pipeline NOT LIKE '{MONITOR_PIPELINE_PREFIX}%'"
"""Runs other than monitor checks (`_run_filter`)."""


def _contains(text: str) -> str:
    """A LIKE pattern for `text` anywhere, its own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _run_filter(
    pipeline: str | None, status: RunStatus | None, text: str | None
) -> tuple[list[str], list[Any]]:
    """SQL conditions (ANDed) and their arguments for the runs filters.

    Every word of `text` must match, ignoring ASCII case: `#12` is run 12; `key=value` is a
    param (a value beginning with `value`); any other word is found in the run's number,
    pipeline, status, trigger, user, params or parent (`rerun #7`), or in a task's reason
    (`exit 3`, `timed out`).

    A monitor's checks (runs of `monitor:NAME`, one every few minutes) would bury the runs
    people start, as health checks would (those are not runs at all): they are left out
    unless `pipeline` names their pipeline or a word of `text` begins with `monitor:`."""
    where: list[str] = []
    args: list[Any] = []
    if pipeline is not None:
        where.append("pipeline = ?")
        args.append(pipeline)
    elif not any(w.lower().startswith(MONITOR_PIPELINE_PREFIX) for w in (text or "").split()):
        where.append(_NOT_A_CHECK)
    if status is not None:
        where.append("status = ?")
        args.append(RunStatus(status).value)
    for word in (text or "").split():
        number = word.removeprefix("#")
        if word.startswith("#") and number.isdigit():
            where.append("id = ?")
            args.append(int(number))
            continue
        key, equals, value = word.partition("=")
        if equals and key:
            # params are stored as json.dumps writes them: {"key": "text", "n": 1}
            where.append("(params LIKE ? ESCAPE '\\' OR params LIKE ? ESCAPE '\\')")
            args.extend([_contains(f'"{key}": "{value}'), _contains(f'"{key}": {value}')])
            continue
        where.append(_WORD_IN_RUN)
        args.extend([_contains(word)] * _WORD_IN_RUN.count("?"))
    return where, args


def _chunks(ids: Collection[str], size: int = 500) -> Iterator[list[int]]:
    """The keys of `ids` in lists of at most `size`: SQLite bounds the parameters of one
    statement. Ids no run of this store has (not numbers) match nothing: left out."""
    ordered = sorted(key for key in map(run_key, ids) if key is not None)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def _run_from_row(row: Sequence[Any]) -> Run:
    return Run(
        id=str(row[0]),
        pipeline=row[1],
        status=RunStatus(row[2]),
        # Params are checked on the way in, but a store may hold text from before that check
        # (a lone surrogate): repaired here, it cannot break every JSON answer that lists it.
        params=repaired(json.loads(row[3])),
        trigger=row[4],
        user=row[5],
        parent_id=_id(row[6]),
        rerun_mode=RerunMode(row[7]) if row[7] else None,
        rerun_from=row[8],
        jobs=row[9],
        created_at=from_epoch(row[10]),
        started_at=from_epoch(row[11]),
        finished_at=from_epoch(row[12]),
        tasks_total=row[13],
        tasks_done=row[14],
        cause=None if row[15] is None else RunCause.model_validate_json(row[15]),
    )


def _task_from_row(row: Sequence[Any]) -> TaskRun:
    return TaskRun(
        run_id=str(row[0]),
        name=row[1],
        status=TaskStatus(row[2]),
        attempts=row[3],
        exit_code=row[4],
        started_at=from_epoch(row[5]),
        finished_at=from_epoch(row[6]),
        reason=row[7],
        reused_from=_id(row[8]),
        needs=None if row[9] is None else json.loads(row[9]),
    )
