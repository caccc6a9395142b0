"""The automation tables of the ledger: scheduled health checks, promotion policy decisions,
and how far the policy watcher has read the alias moves (engine/deploy/ledger.py: the schema).

A health check is written with its environment's health in one transaction, with the count
of failed checks in a row that it makes; a policy decision is written before it is acted on,
keyed by (service, alias move), so no restart or second process decides a challenger twice.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shipdeck.engine.database import from_epoch
from shipdeck.engine.deploy.ledger import Ledger
from shipdeck.model import HealthCheck, PolicyDecision

KEEP_CHECKS = 1000
"""Health checks kept per environment (the newest): a check a minute is 1,440 a day."""


@dataclass(frozen=True)
class CheckResult:
    service: str
    env: str
    revision: str
    at: float
    passed: bool
    exit_code: int | None
    duration: float
    output: str


@dataclass(frozen=True)
class Recorded:
    """A check as recorded, with the environment's health before it."""

    check: HealthCheck
    previous: str | None
    previous_revision: str | None


class AutomationStore:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    # Health checks ----------------------------------------------------------------------

    def record_check(self, result: CheckResult) -> Recorded:
        with self.ledger.transaction() as db:
            last = db.execute(
                "SELECT revision, passed, failures FROM health_checks"
                " WHERE service = ? AND env = ? ORDER BY id DESC LIMIT 1",
                (result.service, result.env),
            ).fetchone()
            failures = 0
            if not result.passed:
                same = last is not None and last[0] == result.revision
                failures = (int(last[2]) if same else 0) + 1
            cursor = db.execute(
                "INSERT INTO health_checks (service, env, revision, at, passed, exit_code,"
                " duration, output, failures) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    result.service,
                    result.env,
                    result.revision,
                    result.at,
                    int(result.passed),
                    result.exit_code,
                    result.duration,
                    result.output,
                    failures,
                ),
            )
            check_id = int(cursor.lastrowid or 0)
            db.execute(
                "DELETE FROM health_checks WHERE service = ? AND env = ? AND id <= ?",
                (result.service, result.env, check_id - KEEP_CHECKS),
            )
            state = db.execute(
                "SELECT revision, health, health_revision FROM deploy_current"
                " WHERE service = ? AND env = ?",
                (result.service, result.env),
            ).fetchone()
            previous = previous_revision = None
            if state is not None:
                previous, previous_revision = state[1], state[2]
            if state is not None and state[0] == result.revision:
                # Only while the environment still holds what was checked: a deploy that
                # finished meanwhile has its own, newer, health result.
                db.execute(
                    "UPDATE deploy_current SET health = ?, health_revision = ?, health_at = ?"
                    " WHERE service = ? AND env = ?",
                    (
                        "passed" if result.passed else "failed",
                        result.revision,
                        result.at,
                        result.service,
                        result.env,
                    ),
                )
        check = HealthCheck(
            id=check_id,
            service=result.service,
            env=result.env,
            revision=result.revision,
            at=from_epoch(result.at),
            passed=result.passed,
            exit_code=result.exit_code,
            duration=result.duration,
            output=result.output,
            failures=failures,
        )
        return Recorded(check, previous, previous_revision)

    def rolled_back(self, check_id: int, history_id: int) -> None:
        """Note that the check led to an automatic rollback: the history entry recording it,
        or 0 when the rollback was refused before anything was recorded."""
        with self.ledger.transaction() as db:
            db.execute("UPDATE health_checks SET rollback = ? WHERE id = ?", (history_id, check_id))

    def streak_rollbacks(self, service: str, env: str, failures: int) -> list[int]:
        """The rollbacks (history ids, 0 for one refused outright) that the newest `failures`
        checks of the environment (its current streak) led to."""
        rows = self.ledger.db.execute(
            "SELECT rollback FROM (SELECT rollback FROM health_checks WHERE service = ?"
            " AND env = ? ORDER BY id DESC LIMIT ?) WHERE rollback IS NOT NULL",
            (service, env, failures),
        )
        return [int(row[0]) for row in rows]

    def last_check_at(self, service: str, env: str) -> float | None:
        row = self.ledger.db.execute(
            "SELECT MAX(at) FROM health_checks WHERE service = ? AND env = ?", (service, env)
        ).fetchone()
        return None if row[0] is None else float(row[0])

    def checks(
        self, service: str, env: str | None = None, *, limit: int = 100
    ) -> list[HealthCheck]:
        """Scheduled health checks of the service (or one environment), newest first."""
        rows = self.ledger.newest("health_checks", _CHECK_COLUMNS, service, env, limit)
        return [_check_from_row(row) for row in rows]

    # Promotion policies -----------------------------------------------------------------

    def cursor(self, name: str) -> int | None:
        row = self.ledger.db.execute(
            "SELECT cursor FROM automation_cursors WHERE name = ?", (name,)
        ).fetchone()
        return None if row is None else int(row[0])

    def set_cursor(self, name: str, value: int) -> None:
        with self.ledger.transaction() as db:
            db.execute(
                "INSERT INTO automation_cursors (name, cursor) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET cursor = MAX(cursor, excluded.cursor)",
                (name, value),
            )

    def clear_cursor(self, name: str) -> None:
        with self.ledger.transaction() as db:
            db.execute("DELETE FROM automation_cursors WHERE name = ?", (name,))

    def decide(
        self,
        *,
        service: str,
        env: str,
        model: str,
        version: str,
        move_id: int,
        at: float,
        held: bool,
        detail: str,
    ) -> int | None:
        """Record a policy's verdict on a challenger; None when it was decided already."""
        with self.ledger.transaction() as db:
            try:
                cursor = db.execute(
                    "INSERT INTO policy_decisions (service, env, model, version, move_id, at,"
                    " held, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (service, env, model, version, move_id, at, int(held), detail),
                )
            except sqlite3.IntegrityError:
                return None
        return int(cursor.lastrowid or 0)

    def acted(self, decision_id: int, detail: str, history_id: int | None) -> None:
        with self.ledger.transaction() as db:
            db.execute(
                "UPDATE policy_decisions SET detail = ?, history_id = ? WHERE id = ?",
                (detail, history_id, decision_id),
            )

    def decisions(self, service: str, *, limit: int = 100) -> list[PolicyDecision]:
        rows = self.ledger.db.execute(
            "SELECT id, service, env, model, version, at, held, detail, history_id"
            " FROM policy_decisions WHERE service = ? ORDER BY id DESC LIMIT ?",
            (service, limit),
        )
        return [
            PolicyDecision(
                id=r[0],
                service=r[1],
                env=r[2],
                model=r[3],
                version=r[4],
                at=from_epoch(r[5]),
                held=bool(r[6]),
                detail=r[7],
                history_id=r[8],
            )
            for r in rows
        ]


_CHECK_COLUMNS = "id, service, env, revision, at, passed, exit_code, duration, output, failures"


def _check_from_row(row: Sequence[Any]) -> HealthCheck:
    return HealthCheck(
        id=row[0],
        service=row[1],
        env=row[2],
        revision=row[3],
        at=from_epoch(row[4]),
        passed=bool(row[5]),
        exit_code=row[6],
        duration=row[7],
        output=row[8],
        failures=row[9],
    )
