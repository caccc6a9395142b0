"""Monitor checks and alerts, in the engine's SQLite file (tables of schema step 7, created by
`Store`).

- `monitor_checks`: one row per check, written in the transaction that creates its run
  (verdict `running`), completed with the values, thresholds and verdict once the run ends;
  a check whose process died is completed by the next one to look (`running`).
- `alerts`: one row per crossed threshold, from the check that crossed it to the one back
  inside; at most one open per (monitor, threshold), which a unique index guarantees across
  processes. An acknowledgement is recorded on the alert with who, when and the note.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipdeck.engine.database import connect, from_epoch
from shipdeck.errors import NotFound, Refused
from shipdeck.model import Alert, MonitorCheck, ThresholdResult, ThresholdSpec, Verdict

_CHECK_COLUMNS = (
    "id, monitor, run_id, trigger, user, started_at, finished_at, verdict, reason, report"
)
_ALERT_COLUMNS = (
    "id, monitor, threshold, metric, value, opened_at, opened_check, last_value, last_check,"
    " watches, closed_at, closed_value, closed_reason, acked_by, acked_at, ack_note"
)


@dataclass(frozen=True)
class CheckResult:
    """What a finished check changed: the check itself and the alerts it opened or closed."""

    check: MonitorCheck
    opened: list[Alert]
    closed: list[Alert]
    fresh: bool = True
    """False when the check had been judged before (by another process): nothing new."""


class MonitorStore:
    """A connection to the monitor tables; one per process, never shared by threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = connect(path)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # Checks -----------------------------------------------------------------------------

    @staticmethod
    def begin(
        db: sqlite3.Connection, monitor: str, run_id: int, trigger: str, user: str, now: float
    ) -> int:
        """Inside the check run's own transaction: the check's row, verdict running."""
        cursor = db.execute(
            "INSERT INTO monitor_checks (monitor, run_id, trigger, user, started_at, verdict)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (monitor, run_id, trigger, user, now, Verdict.RUNNING.value),
        )
        return int(cursor.lastrowid or 0)

    def check(self, check_id: int) -> MonitorCheck:
        row = self.db.execute(
            f"SELECT {_CHECK_COLUMNS} FROM monitor_checks WHERE id = ?", (check_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"no check #{check_id}")
        return _check(row)

    def check_of_run(self, run_id: int) -> MonitorCheck | None:
        row = self.db.execute(
            f"SELECT {_CHECK_COLUMNS} FROM monitor_checks WHERE run_id = ?", (run_id,)
        ).fetchone()
        return None if row is None else _check(row)

    def running(self) -> list[MonitorCheck]:
        rows = self.db.execute(
            f"SELECT {_CHECK_COLUMNS} FROM monitor_checks WHERE verdict = 'running' ORDER BY id"
        )
        return [_check(row) for row in rows]

    def history(self, monitor: str, limit: int) -> list[MonitorCheck]:
        """The monitor's checks, newest first."""
        rows = self.db.execute(
            f"SELECT {_CHECK_COLUMNS} FROM monitor_checks WHERE monitor = ?"
            " ORDER BY id DESC LIMIT ?",
            (monitor, limit),
        )
        return [_check(row) for row in rows]

    def latest(self) -> dict[str, MonitorCheck]:
        """Each monitor's newest finished check."""
        rows = self.db.execute(
            f"SELECT {_CHECK_COLUMNS} FROM monitor_checks WHERE id IN"
            " (SELECT MAX(id) FROM monitor_checks WHERE verdict != 'running' GROUP BY monitor)"
        )
        return {str(row[1]): _check(row) for row in rows}

    def finish(
        self,
        check: MonitorCheck,
        thresholds: Sequence[ThresholdSpec],
        watches: dict[str, str],
        now: float,
    ) -> CheckResult:
        """Record the finished `check` (verdict, values, thresholds) and, unless it failed,
        open an alert per newly crossed threshold and close those back inside (or no longer
        declared), in one transaction. A check finished already (by another process) is
        returned as recorded, changing nothing."""
        opened: list[Alert] = []
        closed: list[Alert] = []
        with self.transaction() as db:
            row = db.execute(
                "SELECT verdict FROM monitor_checks WHERE id = ?", (check.id,)
            ).fetchone()
            if row is None or row[0] != Verdict.RUNNING.value:
                return CheckResult(self.check(check.id), [], [], fresh=False)
            report = {
                "values": check.values,
                "thresholds": [result.model_dump() for result in check.thresholds],
            }
            db.execute(
                "UPDATE monitor_checks SET finished_at = ?, verdict = ?, reason = ?, report = ?"
                " WHERE id = ?",
                (
                    now,
                    check.verdict.value,
                    check.reason,
                    json.dumps(report),
                    check.id,
                ),
            )
            if check.verdict != Verdict.FAILED:
                self._judge(db, check, thresholds, watches, now, opened, closed)
        return CheckResult(self.check(check.id), opened, closed)

    def _judge(
        self,
        db: sqlite3.Connection,
        check: MonitorCheck,
        thresholds: Sequence[ThresholdSpec],
        watches: dict[str, str],
        now: float,
        opened: list[Alert],
        closed: list[Alert],
    ) -> None:
        current = {
            str(row[2]): _alert(row)
            for row in db.execute(
                f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE monitor = ? AND closed_at IS NULL",
                (check.monitor,),
            )
        }
        results = {result.threshold: result for result in check.thresholds}
        for threshold in thresholds:
            result = results.get(threshold.text)
            if result is None or result.value is None:
                continue
            alert = current.pop(threshold.text, None)
            if result.crossed and alert is None:
                cursor = db.execute(
                    "INSERT INTO alerts (monitor, threshold, metric, value, opened_at,"
                    " opened_check, last_value, last_check, watches)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        check.monitor,
                        threshold.text,
                        threshold.metric,
                        result.value,
                        now,
                        check.id,
                        result.value,
                        check.id,
                        json.dumps(watches),
                    ),
                )
                opened.append(self._alert(db, int(cursor.lastrowid or 0)))
            elif result.crossed and alert is not None:
                db.execute(
                    "UPDATE alerts SET last_value = ?, last_check = ? WHERE id = ?",
                    (result.value, check.id, alert.id),
                )
            elif alert is not None:
                closed.append(self._close(db, alert, result.value, check.id, now, ""))
        for alert in current.values():  # thresholds no longer declared
            reason = "the threshold is no longer declared"
            closed.append(self._close(db, alert, None, check.id, now, reason))

    def _close(
        self,
        db: sqlite3.Connection,
        alert: Alert,
        value: float | None,
        check_id: int,
        now: float,
        reason: str,
    ) -> Alert:
        db.execute(
            "UPDATE alerts SET closed_at = ?, closed_value = ?, closed_reason = ?,"
            " last_check = ?, last_value = COALESCE(?, last_value) WHERE id = ?",
            (now, value, reason, check_id, value, alert.id),
        )
        return self._alert(db, alert.id)

    # Alerts -----------------------------------------------------------------------------

    @staticmethod
    def _alert(db: sqlite3.Connection, alert_id: int) -> Alert:
        row = db.execute(f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE id = ?", (alert_id,))
        found = row.fetchone()
        if found is None:
            raise NotFound(f"no alert #{alert_id}")
        return _alert(found)

    def alert(self, alert_id: int) -> Alert:
        return self._alert(self.db, alert_id)

    def alerts(self, *, open_only: bool, monitor: str | None = None, limit: int) -> list[Alert]:
        """Alerts, open ones first, each group newest first."""
        where: list[str] = []
        args: list[Any] = []
        if open_only:
            where.append("closed_at IS NULL")
        if monitor is not None:
            where.append("monitor = ?")
            args.append(monitor)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        rows = self.db.execute(
            f"SELECT {_ALERT_COLUMNS} FROM alerts{clause}"
            " ORDER BY closed_at IS NOT NULL, id DESC LIMIT ?",
            (*args, limit),
        )
        return [_alert(row) for row in rows]

    def open_counts(self) -> dict[str, int]:
        rows = self.db.execute(
            "SELECT monitor, COUNT(*) FROM alerts WHERE closed_at IS NULL GROUP BY monitor"
        )
        return {str(row[0]): int(row[1]) for row in rows}

    def acknowledge(self, alert_id: int, user: str, note: str, now: float) -> Alert:
        """Record who acknowledged the alert, when and why; Refused when it was already."""
        with self.transaction() as db:
            alert = self._alert(db, alert_id)
            if alert.acked_by is not None:
                when = f"{alert.acked_at:%Y-%m-%d %H:%M} UTC" if alert.acked_at else ""
                said = f"alert #{alert_id} was acknowledged already by {alert.acked_by} {when}"
                raise Refused(said.rstrip())
            db.execute(
                "UPDATE alerts SET acked_by = ?, acked_at = ?, ack_note = ? WHERE id = ?",
                (user, now, note, alert_id),
            )
            return self._alert(db, alert_id)


def _check(row: Sequence[Any]) -> MonitorCheck:
    report = json.loads(row[9]) if row[9] else {}
    return MonitorCheck(
        id=int(row[0]),
        monitor=str(row[1]),
        run_id=int(row[2]),
        trigger=str(row[3]),
        user=str(row[4]),
        started_at=from_epoch(row[5]),
        finished_at=from_epoch(row[6]),
        verdict=Verdict(row[7]),
        reason=str(row[8]),
        values=report.get("values", {}),
        thresholds=[ThresholdResult(**item) for item in report.get("thresholds", [])],
    )


def _alert(row: Sequence[Any]) -> Alert:
    return Alert(
        id=int(row[0]),
        monitor=str(row[1]),
        threshold=str(row[2]),
        metric=str(row[3]),
        value=float(row[4]),
        since=from_epoch(row[5]),
        opened_check=int(row[6]),
        last_value=float(row[7]),
        last_check=int(row[8]),
        watches=json.loads(row[9]),
        closed_at=from_epoch(row[10]),
        closed_value=row[11],
        closed_reason=str(row[12]),
        acked_by=row[13],
        acked_at=from_epoch(row[14]),
        ack_note=str(row[15]),
    )
