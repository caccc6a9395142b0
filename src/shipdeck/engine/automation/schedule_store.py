"""The schedule tables, in the engine's SQLite file (.shipdeck/shipdeck.db).

- `schedule_state`: per trigger, what has been handled: a time (timed triggers: every slot
  up to it), a run id (on_success: every upstream run up to it is finished and handled) or
  a generation (on_change: how many times the watched files' recorded digests were
  replaced), with a fingerprint of the rule so a changed rule starts afresh.
- `schedule_fires`: one row per fire, keyed by (trigger, slot): written in the same
  transaction as the run it starts (`Store.insert_run`'s claim), so a fire exists exactly
  when its run does, and a second process (or a restarted one) cannot fire a slot again.
- `watched_files`: the digests an on_change trigger last acted on.
- `schedule_pauses` and `schedule_actions`: what is paused, and the audit trail of who paused
  and resumed what.

Like the ledger, the tables are their own part of the file (`SCHEDULES`, meta key
`schedule_schema`: see engine.database).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from shipdeck.engine.database import Schema, Tables, from_epoch
from shipdeck.model import RunStatus, ScheduleAction

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schedule_state (
    name TEXT PRIMARY KEY,
    rule TEXT NOT NULL,
    armed_at REAL NOT NULL,
    cursor REAL NOT NULL,
    generation INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS schedule_fires (
    name TEXT NOT NULL,
    slot TEXT NOT NULL,
    pipeline TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    due_at REAL,
    fired_at REAL NOT NULL,
    PRIMARY KEY (name, slot)
);
CREATE INDEX IF NOT EXISTS schedule_fires_latest ON schedule_fires (name, fired_at);
CREATE TABLE IF NOT EXISTS watched_files (
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    digest TEXT NOT NULL,
    PRIMARY KEY (name, path)
);
CREATE TABLE IF NOT EXISTS schedule_pauses (
    name TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    at REAL NOT NULL,
    reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS schedule_actions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    action TEXT NOT NULL,
    user TEXT NOT NULL,
    at REAL NOT NULL,
    reason TEXT NOT NULL
);
"""
SCHEDULES = Schema("schedule", version=1, tables=_SCHEMA)


class SlotTaken(Exception):
    """The slot was fired already (by this process before a restart, or by another)."""


@dataclass(frozen=True)
class TriggerState:
    rule: str
    armed_at: float
    cursor: float
    generation: int


@dataclass(frozen=True)
class Fire:
    """What a trigger's fire records besides its run: its key and, for on_change, the
    digests to record and the generation they replace."""

    name: str
    slot: str
    pipeline: str
    due_at: float | None
    fired_at: float
    cursor: float | None = None
    """The new `cursor` of the trigger's state (None: unchanged)."""
    files: Mapping[str, str] | None = None
    """on_change: the digests the trigger acts on from now on."""
    generation: int | None = None
    """on_change: the generation `files` replace (the state must still be at it)."""


@dataclass(frozen=True)
class LastFire:
    run_id: int
    fired_at: datetime
    status: RunStatus | None


@dataclass(frozen=True)
class Pause:
    name: str
    user: str
    at: datetime
    reason: str


class ScheduleStore(Tables):
    """A connection to the schedule tables; one per process, never shared by threads."""

    schema = SCHEDULES

    # Trigger state ----------------------------------------------------------------------

    def states(self) -> dict[str, TriggerState]:
        rows = self.db.execute(
            "SELECT name, rule, armed_at, cursor, generation FROM schedule_state"
        )
        return {str(r[0]): TriggerState(str(r[1]), r[2], r[3], int(r[4])) for r in rows}

    def arm(
        self, name: str, rule: str, now: float, cursor: float, files: Mapping[str, str] = {}
    ) -> TriggerState:
        """Start handling a trigger from `now` (first seen, its rule changed, or resumed):
        what came before is not fired. Returns the state in force (another process may
        have armed it first with the same rule)."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT rule, armed_at, cursor, generation FROM schedule_state WHERE name = ?",
                (name,),
            ).fetchone()
            if row is not None and row[0] == rule:
                return TriggerState(str(row[0]), row[1], row[2], int(row[3]))
            generation = 0 if row is None else int(row[3]) + 1
            db.execute(
                "INSERT INTO schedule_state (name, rule, armed_at, cursor, generation)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET rule = excluded.rule,"
                " armed_at = excluded.armed_at, cursor = excluded.cursor,"
                " generation = excluded.generation",
                (name, rule, now, cursor, generation),
            )
            db.execute("DELETE FROM watched_files WHERE name = ?", (name,))
            db.executemany(
                "INSERT INTO watched_files (name, path, digest) VALUES (?, ?, ?)",
                [(name, path, digest) for path, digest in files.items()],
            )
        return TriggerState(rule, now, cursor, generation)

    def advance(self, cursors: Mapping[str, float]) -> None:
        """Mark everything up to each trigger's cursor handled without firing (on_success:
        runs of other pipelines, upstream runs that failed), in one transaction."""
        if not cursors:
            return
        with self.transaction() as db:
            db.executemany(
                "UPDATE schedule_state SET cursor = ? WHERE name = ? AND cursor < ?",
                [(cursor, name, cursor) for name, cursor in cursors.items()],
            )

    def settle(self, name: str, generation: int, files: Mapping[str, str]) -> bool:
        """Record `files` as the watched files' digests without firing (files were only
        removed); False when the state moved on from `generation` meanwhile."""
        with self.transaction() as db:
            changed = db.execute(
                "UPDATE schedule_state SET generation = generation + 1"
                " WHERE name = ? AND generation = ?",
                (name, generation),
            ).rowcount
            if changed != 1:
                return False
            db.execute("DELETE FROM watched_files WHERE name = ?", (name,))
            db.executemany(
                "INSERT INTO watched_files (name, path, digest) VALUES (?, ?, ?)",
                [(name, path, digest) for path, digest in files.items()],
            )
        return True

    def runs_after(self, run_id: int, limit: int) -> list[tuple[int, str, RunStatus]]:
        """(id, pipeline, status) of the runs after `run_id`, oldest first."""
        rows = self.db.execute(
            "SELECT id, pipeline, status FROM runs WHERE id > ? ORDER BY id LIMIT ?",
            (run_id, limit),
        )
        return [(int(r[0]), str(r[1]), RunStatus(r[2])) for r in rows]

    def last_run_id(self) -> int:
        row = self.db.execute("SELECT MAX(id) FROM runs").fetchone()
        return 0 if row[0] is None else int(row[0])

    def alerts_after(self, alert_id: int, limit: int) -> list[tuple[int, str]]:
        """(id, monitor) of the alerts opened after `alert_id`, oldest first."""
        rows = self.db.execute(
            "SELECT id, monitor FROM alerts WHERE id > ? ORDER BY id LIMIT ?", (alert_id, limit)
        )
        return [(int(r[0]), str(r[1])) for r in rows]

    def last_alert_id(self) -> int:
        row = self.db.execute("SELECT MAX(id) FROM alerts").fetchone()
        return 0 if row[0] is None else int(row[0])

    def watched(self, name: str) -> dict[str, str]:
        rows = self.db.execute("SELECT path, digest FROM watched_files WHERE name = ?", (name,))
        return {str(r[0]): str(r[1]) for r in rows}

    # Fires ------------------------------------------------------------------------------

    @staticmethod
    def record(db: sqlite3.Connection, fire: Fire, run_id: int) -> None:
        """Inside the new run's transaction (on the run store's connection): record the
        fire, or raise SlotTaken if it was recorded before (then the run is not created)."""
        try:
            db.execute(
                "INSERT INTO schedule_fires (name, slot, pipeline, run_id, due_at, fired_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (fire.name, fire.slot, fire.pipeline, run_id, fire.due_at, fire.fired_at),
            )
        except sqlite3.IntegrityError:
            raise SlotTaken(f"{fire.name} fired for {fire.slot} already") from None
        if fire.cursor is not None:
            db.execute(
                "UPDATE schedule_state SET cursor = ? WHERE name = ? AND cursor < ?",
                (fire.cursor, fire.name, fire.cursor),
            )
        if fire.files is not None:
            changed = db.execute(
                "UPDATE schedule_state SET generation = generation + 1"
                " WHERE name = ? AND generation = ?",
                (fire.name, fire.generation),
            ).rowcount
            if changed != 1:
                raise SlotTaken(f"{fire.name}: the watched files were acted on already")
            db.execute("DELETE FROM watched_files WHERE name = ?", (fire.name,))
            db.executemany(
                "INSERT INTO watched_files (name, path, digest) VALUES (?, ?, ?)",
                [(fire.name, path, digest) for path, digest in fire.files.items()],
            )

    def fired(self, name: str, slots: Sequence[str]) -> set[str]:
        """Which of `slots` the trigger has fired for."""
        if not slots:
            return set()
        marks = ", ".join("?" * len(slots))
        rows = self.db.execute(
            f"SELECT slot FROM schedule_fires WHERE name = ? AND slot IN ({marks})",
            (name, *slots),
        )
        return {str(row[0]) for row in rows}

    def last_fires(self) -> dict[str, LastFire]:
        """Each trigger's newest fire, with the status of the run it started."""
        rows = self.db.execute(
            "SELECT f.name, f.run_id, f.fired_at, r.status FROM schedule_fires f"
            " LEFT JOIN runs r ON r.id = f.run_id"
            " WHERE f.rowid IN (SELECT MAX(rowid) FROM schedule_fires GROUP BY name)"
        )
        return {
            str(r[0]): LastFire(int(r[1]), from_epoch(r[2]), RunStatus(r[3]) if r[3] else None)
            for r in rows
        }

    # Pauses -----------------------------------------------------------------------------

    def pauses(self) -> dict[str, Pause]:
        rows = self.db.execute("SELECT name, user, at, reason FROM schedule_pauses")
        return {str(r[0]): Pause(str(r[0]), str(r[1]), from_epoch(r[2]), str(r[3])) for r in rows}

    def pause(self, name: str, user: str, now: float, reason: str) -> ScheduleAction | None:
        """Record a pause; None when `name` is paused already."""
        with self.transaction() as db:
            try:
                db.execute(
                    "INSERT INTO schedule_pauses (name, user, at, reason) VALUES (?, ?, ?, ?)",
                    (name, user, now, reason),
                )
            except sqlite3.IntegrityError:
                return None
            return self._audit(db, name, "pause", user, now, reason)

    def resume(
        self, name: str, user: str, now: float, reason: str, rearm: Sequence[str]
    ) -> ScheduleAction | None:
        """Lift a pause and forget what the `rearm` triggers had handled, so nothing that
        came due while paused fires; None when `name` was not paused."""
        with self.transaction() as db:
            if not db.execute("DELETE FROM schedule_pauses WHERE name = ?", (name,)).rowcount:
                return None
            for trigger in rearm:
                db.execute("DELETE FROM schedule_state WHERE name = ?", (trigger,))
                db.execute("DELETE FROM watched_files WHERE name = ?", (trigger,))
            return self._audit(db, name, "resume", user, now, reason)

    @staticmethod
    def _audit(
        db: sqlite3.Connection, name: str, action: str, user: str, now: float, reason: str
    ) -> ScheduleAction:
        db.execute(
            "INSERT INTO schedule_actions (name, action, user, at, reason) VALUES (?, ?, ?, ?, ?)",
            (name, action, user, now, reason),
        )
        return ScheduleAction(
            name=name, action=action, user=user, at=from_epoch(now), reason=reason
        )

    def actions(self, limit: int = 100) -> list[ScheduleAction]:
        rows = self.db.execute(
            "SELECT name, action, user, at, reason FROM schedule_actions ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [
            ScheduleAction(name=r[0], action=r[1], user=r[2], at=from_epoch(r[3]), reason=r[4])
            for r in rows
        ]
