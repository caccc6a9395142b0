"""Deleting old runs (`shipdeck gc`, and the runner's `[retention]`): their rows, their logs,
and the stored artifacts nothing refers to any more.

A finished run goes when every limit given allows it (beyond the newest `keep` of its pipeline,
created more than `older_than` ago), unless something still depends on it: a revision deployed
now, or one a rollback could return to (any revision ever deployed successfully), a deploy in
progress, a registered model version, or a kept run whose reused tasks read its logs.

Safe beside a running runner: the plan is made in a read transaction, then rows are deleted a
few hundred runs per BEGIN IMMEDIATE transaction (the runner's writes wait for one at most),
each checking again that its runs are finished and that nothing came to depend on them. Files
are removed only once the rows that name them are gone, and a pass that died in between is
finished by the next one. An unreferenced artifact is left while it is younger than an hour:
a run may have just stored it and be about to record it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

from shipdeck.engine.automation.schedule_store import SCHEDULES
from shipdeck.engine.database import connect, schema_version, transaction
from shipdeck.engine.deploy.ledger import LEDGER
from shipdeck.engine.runs.artifacts import artifacts_dir
from shipdeck.engine.runs.store import RUNS
from shipdeck.formatting import format_bytes, plural
from shipdeck.model import RetentionSpec, RunStatus
from shipdeck.model.ids import Id, run_label
from shipdeck.state_dir import DATABASE, prepare_state_dir

ARTIFACT_GRACE = 3600.0
_RUN_REVISION = re.compile(r"r(\d+)")
_DIGEST = re.compile(r"[0-9a-f]{64}")
_CHUNK = 500
"""Runs deleted per transaction (and ids per statement, well under SQLite's limit on bound
parameters): a few tens of milliseconds of holding the write lock."""
_PAUSE = 0.05


class ProtectedRun(BaseModel):
    run_id: Id
    pipeline: str
    reason: str


class GcReport(BaseModel):
    """What a pass deleted (or, with `dry_run`, would delete)."""

    dry_run: bool
    deleted_runs: list[Id] = []
    pipelines: dict[str, int] = {}
    """Deleted runs per pipeline."""
    log_bytes: int = 0
    """Bytes of logs, params and metrics files of deleted runs (and of runs deleted before)."""
    artifacts: int = 0
    artifact_bytes: int = 0
    kept_runs: int = 0
    protected: list[ProtectedRun] = []
    """Runs the limits would delete, kept because something depends on them."""

    def summary(self) -> list[str]:
        """What was (or would be) deleted, freed and kept, a short line each."""
        delete, free, keep = ("deleted", "freed", "kept")
        if self.dry_run:
            delete, free, keep = ("would delete", "would free", "would keep")
        deleted = f"{delete} {plural(len(self.deleted_runs), 'run')}"
        if self.pipelines:
            deleted += f" ({', '.join(f'{n} {c}' for n, c in sorted(self.pipelines.items()))})"
        deleted += f" and {plural(self.artifacts, 'artifact')}"
        freed = (
            f"{free} {format_bytes(self.log_bytes + self.artifact_bytes)}:"
            f" logs {format_bytes(self.log_bytes)}, artifacts {format_bytes(self.artifact_bytes)}"
        )
        kept = f"{keep} {plural(self.kept_runs, 'run')}"
        if self.protected:
            kept += f", {len(self.protected)} of them protected"
        return [deleted, freed, kept]


@dataclass
class _Plan:
    tables: set[str]
    delete: list[tuple[int, str]] = field(default_factory=list)
    """(run id, pipeline) of each run to delete, oldest first."""
    protected: list[ProtectedRun] = field(default_factory=list)


@dataclass
class _After:
    present: set[int]
    """Run ids in the history once the deletion is done."""
    last_id: int
    referenced: set[str] | None
    """Artifact digests still recorded once the deletion is done; None without the registry's
    tables (then no artifact is judged unreferenced)."""


def collect_garbage(
    state_dir: Path, limits: RetentionSpec, *, now: float | None = None, dry_run: bool = False
) -> GcReport:
    """Delete what `limits` allow from the workspace state in `state_dir`."""
    if limits.keep is None and limits.older_than is None:
        raise ValueError("retention needs keep or older_than")
    now = time.time() if now is None else now
    database = state_dir / DATABASE
    if not database.is_file():
        return GcReport(dry_run=dry_run)
    prepare_state_dir(state_dir)  # an older, readable state directory is tightened here too
    db = connect(database)
    try:
        with _snapshot(db):  # planning only reads: the runner's writes go on meanwhile
            plan = _plan(db, limits, now)
        if plan is None:
            return GcReport(dry_run=dry_run)
        deleted = plan.delete if dry_run else _delete(db, plan, now)
        doomed = {run_id for run_id, _ in deleted}
        with _snapshot(db):
            after = _after(db, plan.tables, doomed)
    finally:
        db.close()
    report = GcReport(dry_run=dry_run, kept_runs=len(after.present), protected=plan.protected)
    for run_id, pipeline in deleted:
        report.deleted_runs.append(str(run_id))
        report.pipelines[pipeline] = report.pipelines.get(pipeline, 0) + 1
    report.log_bytes = _remove_logs(state_dir / "logs", after, dry_run)
    if after.referenced is not None:
        report.artifacts, report.artifact_bytes = _remove_artifacts(
            artifacts_dir(state_dir), after.referenced, now, dry_run
        )
    return report


def last_collected(state_dir: Path) -> float | None:
    """When a pass last ran (whatever it found to delete), from the history's meta table."""
    database = state_dir / DATABASE
    if not database.is_file():
        return None
    db = connect(database)
    try:
        if "meta" not in _tables(db):
            return None
        row = db.execute("SELECT value FROM meta WHERE key = 'gc_last_at'").fetchone()
    finally:
        db.close()
    return None if row is None else float(row[0])


@contextlib.contextmanager
def _snapshot(db: sqlite3.Connection) -> Iterator[None]:
    """A read transaction: one consistent view of the history, taking no write lock."""
    db.execute("BEGIN")
    try:
        yield
    finally:
        db.execute("ROLLBACK")


# Deciding -------------------------------------------------------------------------------


def _tables(db: sqlite3.Connection) -> set[str]:
    rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {str(row[0]) for row in rows}


def _plan(db: sqlite3.Connection, limits: RetentionSpec, now: float) -> _Plan | None:
    """What to delete, or None when there is no run history to judge by."""
    tables = _tables(db)
    if not {"runs", "tasks", "metrics", "meta"} <= tables:
        return None
    _check_schema(db)
    runs = db.execute("SELECT id, pipeline, status, created_at FROM runs ORDER BY id DESC")
    rank: dict[str, int] = {}
    candidates: dict[int, str] = {}
    present: set[int] = set()
    for run_id, pipeline, status, created_at in runs:
        present.add(run_id)
        position = rank[pipeline] = rank.get(pipeline, -1) + 1
        if not _finished(status):
            continue
        if limits.keep is not None and position < limits.keep:
            continue
        if limits.older_than is not None and created_at > now - limits.older_than:
            continue
        candidates[run_id] = pipeline
    reasons = _dependents(db, tables)
    plan = _Plan(tables)
    for run_id, pipeline in candidates.items():
        if run_id in reasons:
            plan.protected.append(
                ProtectedRun(run_id=str(run_id), pipeline=pipeline, reason=reasons[run_id])
            )
    doomed = {run_id for run_id in candidates if run_id not in reasons}
    for kept, origin in _spare_reused(db, present - doomed, doomed):
        why = f"run {run_label(str(kept))} reuses its tasks (and their logs)"
        protected = ProtectedRun(run_id=str(origin), pipeline=candidates[origin], reason=why)
        plan.protected.append(protected)
    plan.protected.sort(key=lambda protected: int(protected.run_id))
    plan.delete = sorted((run_id, candidates[run_id]) for run_id in doomed)
    return plan


def _after(db: sqlite3.Connection, tables: set[str], doomed: set[int]) -> _After:
    present = {int(row[0]) for row in db.execute("SELECT id FROM runs")} - doomed
    row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'runs'").fetchone()
    last_id = int(row[0]) if row else max(present, default=0)
    return _After(present, last_id, _referenced_artifacts(db, tables, doomed))


def _check_schema(db: sqlite3.Connection) -> None:
    if any(schema_version(db, schema) > schema.version for schema in (RUNS, LEDGER, SCHEDULES)):
        raise RuntimeError("the run history was written by a newer shipdeck; use that one")


def _finished(status: str) -> bool:
    try:
        return RunStatus(status).finished
    except ValueError:  # a status this version does not know: not ours to judge
        return False


def _dependents(db: sqlite3.Connection, tables: set[str]) -> dict[int, str]:
    """Runs something depends on, each with the first reason found."""
    reasons: dict[int, str] = {}

    def keep(run_id: int | None, reason: str) -> None:
        if run_id is not None:
            reasons.setdefault(int(run_id), reason)

    def revision_run(revision: str | None) -> int | None:
        match = _RUN_REVISION.fullmatch(revision or "")
        return int(match.group(1)) if match else None

    if "deploy_current" in tables:
        for service, env, revision, run_id in db.execute(
            "SELECT service, env, revision, run_id FROM deploy_current"
        ):
            keep(revision_run(revision), f"{service} {revision} is deployed in {env}")
            keep(run_id, f"it deployed what {env} of {service} holds")
    if {"deploy_claims", "deploy_history"} <= tables:
        for service, env, revision, run_id in db.execute(
            "SELECT h.service, h.env, h.to_revision, h.run_id FROM deploy_claims c"
            " JOIN deploy_history h ON h.id = c.history_id"
        ):
            keep(revision_run(revision), f"{service} {revision} is being deployed to {env}")
            keep(run_id, f"it is deploying {service} to {env}")
    if "deploy_history" in tables:
        for service, env, before, after in db.execute(
            "SELECT service, env, from_revision, to_revision FROM deploy_history"
            " WHERE outcome = 'succeeded' ORDER BY id DESC"
        ):
            for revision in (after, before):
                reason = f"{env} of {service} can be rolled back to {revision}"
                keep(revision_run(revision), reason)
    if "model_versions" in tables:
        for model, version, run_id in db.execute(
            "SELECT model, version, run_id FROM model_versions"
        ):
            keep(run_id, f"it registered {model} v{version}")
    return reasons


def _spare_reused(
    db: sqlite3.Connection, kept: set[int], doomed: set[int]
) -> list[tuple[int, int]]:
    """Take out of `doomed` every run whose logs and metrics a kept run's reused tasks read
    (and, in turn, the runs those spared runs reuse); the (kept, spared) pairs."""
    origins: dict[int, set[int]] = {}
    for run_id, origin in db.execute(
        "SELECT DISTINCT run_id, reused_from FROM tasks WHERE reused_from IS NOT NULL"
    ):
        origins.setdefault(int(run_id), set()).add(int(origin))
    spared: list[tuple[int, int]] = []
    pending = [run_id for run_id in kept if run_id in origins]
    while pending:
        run_id = pending.pop()
        for origin in sorted(origins.get(run_id, ())):
            if origin in doomed:
                doomed.discard(origin)
                spared.append((run_id, origin))
                pending.append(origin)
    return spared


def _referenced_artifacts(
    db: sqlite3.Connection, tables: set[str], doomed: set[int]
) -> set[str] | None:
    if not {"model_versions", "run_artifacts"} <= tables:
        return None
    referenced = {str(row[0]) for row in db.execute("SELECT sha256 FROM model_versions")}
    for run_id, sha256 in db.execute("SELECT run_id, sha256 FROM run_artifacts"):
        if run_id not in doomed:
            referenced.add(str(sha256))
    return referenced


# Deleting -------------------------------------------------------------------------------


def _delete(db: sqlite3.Connection, plan: _Plan, now: float) -> list[tuple[int, str]]:
    """Delete the planned runs' rows, _CHUNK runs per transaction so the runner's writes
    never wait long; each transaction checks again that nothing came to depend on its runs
    since the plan (a deploy of one, a rerun reusing one). The runs deleted."""
    doomed = {run_id for run_id, _ in plan.delete}
    pipelines = dict(plan.delete)
    deleted: list[tuple[int, str]] = []
    ids = sorted(doomed)
    for start in range(0, len(ids), _CHUNK):
        with transaction(db):
            allowed = _still_deletable(db, plan.tables, ids[start : start + _CHUNK], doomed)
            _delete_rows(db, plan.tables, allowed)
        deleted.extend((run_id, pipelines[run_id]) for run_id in allowed)
        # Copy the deletions into the database file here, so the runner's next commit does
        # not pay that (SQLite checkpoints in whichever commit finds the WAL long).
        db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        if start + _CHUNK < len(ids):
            # A writer that found the lock taken retries after a sleep (SQLite's busy handler):
            # leave it a gap to get in before the next chunk takes the lock again.
            time.sleep(_PAUSE)
    with transaction(db):
        db.execute(
            "INSERT INTO meta (key, value) VALUES ('gc_last_at', ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(now),),
        )
    return deleted


def _still_deletable(
    db: sqlite3.Connection, tables: set[str], chunk: list[int], doomed: set[int]
) -> list[int]:
    marks = ", ".join("?" * len(chunk))
    rows = db.execute(f"SELECT id, status FROM runs WHERE id IN ({marks})", chunk)
    allowed = {int(run_id) for run_id, status in rows if _finished(status)}
    allowed -= _dependents(db, tables).keys()
    for run_id, origin in db.execute(
        f"SELECT run_id, reused_from FROM tasks WHERE reused_from IN ({marks})", chunk
    ):
        if run_id not in doomed:
            allowed.discard(int(origin))
    return sorted(allowed)


def _delete_rows(db: sqlite3.Connection, tables: set[str], run_ids: list[int]) -> None:
    marks = ", ".join("?" * len(run_ids))
    db.execute(f"DELETE FROM metrics WHERE run_id IN ({marks})", run_ids)
    db.execute(f"DELETE FROM tasks WHERE run_id IN ({marks})", run_ids)
    db.execute(f"DELETE FROM runs WHERE id IN ({marks})", run_ids)
    if "run_artifacts" in tables:
        db.execute(f"DELETE FROM run_artifacts WHERE run_id IN ({marks})", run_ids)


def _remove_logs(logs: Path, after: _After, dry_run: bool) -> int:
    """Remove the log directory of every run no longer in the history (deleted now, or by a
    pass that stopped before its files were gone); bytes freed. Directories of runs newer
    than the history's last id are not touched: a run being created right now may own one."""
    freed = 0
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(logs):
            if not entry.name.isdigit() or not entry.is_dir(follow_symlinks=False):
                continue
            run_id = int(entry.name)
            if run_id in after.present or run_id > after.last_id:
                continue
            freed += _size(Path(entry.path))
            if not dry_run:
                shutil.rmtree(entry.path, ignore_errors=True)
    return freed


def _remove_artifacts(
    directory: Path, referenced: set[str], now: float, dry_run: bool
) -> tuple[int, int]:
    removed = freed = 0
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(directory):
            stored = _DIGEST.fullmatch(entry.name) or entry.name.startswith(".incoming-")
            if not stored or entry.name in referenced:
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            if info.st_mtime > now - ARTIFACT_GRACE:
                continue
            if not dry_run:
                try:
                    Path(entry.path).unlink()
                except FileNotFoundError:
                    continue
            removed += 1
            freed += info.st_size
    return removed, freed


def _size(directory: Path) -> int:
    total = 0
    for root, _, files in os.walk(directory):
        for name in files:
            with contextlib.suppress(OSError):
                total += Path(root, name).lstat().st_size
    return total
