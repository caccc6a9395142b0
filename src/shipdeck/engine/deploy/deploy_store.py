"""What each environment holds, who is acting on it, and the audit history of every action.

An action claims its environment in one transaction (after checking that it still holds the
expected revision) and, when its deploy run ends, writes the outcome, the new revision and
releases the claim in another. Between the two, nobody else can act on that environment.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shipdeck.engine.database import from_epoch
from shipdeck.engine.deploy.ledger import Ledger
from shipdeck.errors import Conflict
from shipdeck.model import (
    EMPTY_REVISION,
    AutoCause,
    DeployAction,
    EnvironmentState,
    GateResult,
    HistoryEntry,
    Outcome,
)


@dataclass(frozen=True)
class ActionRecord:
    """The facts of an action known before it runs."""

    service: str
    env: str
    action: DeployAction
    from_revision: str | None
    to_revision: str
    user: str
    reason: str
    gates: Sequence[GateResult]
    forced: bool
    cause: AutoCause | None = None
    """Why the runner took the action by itself; None when a person or client asked."""


def shown(revision: str | None) -> str:
    return revision if revision else EMPTY_REVISION


class DeployStore:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    # Reads ------------------------------------------------------------------------------

    def state(self, service: str, env: str) -> EnvironmentState:
        return self.states(service).get(env) or EnvironmentState(service=service, env=env)

    def states(self, service: str) -> dict[str, EnvironmentState]:
        db = self.ledger.db
        rows = db.execute(
            "SELECT env, revision, since, user, run_id, health, health_revision, health_at"
            " FROM deploy_current WHERE service = ?",
            (service,),
        ).fetchall()
        claims = {
            str(row[0]): int(row[1])
            for row in db.execute(
                "SELECT env, history_id FROM deploy_claims WHERE service = ?", (service,)
            )
        }
        states = {
            str(r[0]): EnvironmentState(
                service=service,
                env=r[0],
                revision=r[1],
                since=from_epoch(r[2]),
                user=r[3],
                run_id=_run_id(r[4]),
                health=r[5],
                health_revision=r[6],
                health_at=from_epoch(r[7]),
            )
            for r in rows
        }
        for env, history_id in claims.items():
            state = states.get(env) or EnvironmentState(service=service, env=env)
            states[env] = state.model_copy(update={"in_flight": self.entry(history_id)})
        return states

    def entry(self, history_id: int) -> HistoryEntry | None:
        row = self.ledger.db.execute(
            f"SELECT {_HISTORY_COLUMNS} FROM deploy_history WHERE id = ?", (history_id,)
        ).fetchone()
        return None if row is None else _entry_from_row(row)

    def history(
        self, service: str, env: str | None = None, *, limit: int = 100
    ) -> list[HistoryEntry]:
        """Actions on the service (or one environment of it), newest first."""
        rows = self.ledger.newest("deploy_history", _HISTORY_COLUMNS, service, env, limit)
        return [_entry_from_row(row) for row in rows]

    def deployed_revisions(self, service: str, env: str) -> list[str]:
        """Revisions that were successfully deployed to the environment, newest first."""
        rows = self.ledger.db.execute(
            "SELECT to_revision FROM deploy_history WHERE service = ? AND env = ? AND outcome = ?"
            " ORDER BY id DESC",
            (service, env, Outcome.SUCCEEDED.value),
        )
        return list(dict.fromkeys(str(row[0]) for row in rows))

    def previous_revision(self, service: str, env: str) -> str | None:
        """What the environment held before its last successful action."""
        row = self.ledger.db.execute(
            "SELECT from_revision FROM deploy_history WHERE service = ? AND env = ?"
            " AND outcome = ? ORDER BY id DESC LIMIT 1",
            (service, env, Outcome.SUCCEEDED.value),
        ).fetchone()
        return None if row is None else row[0]

    # Writes -----------------------------------------------------------------------------

    def record(
        self, record: ActionRecord, outcome: Outcome, detail: str, now: datetime
    ) -> HistoryEntry:
        """An action that ended before it ran anything (refused, conflict)."""
        with self.ledger.transaction() as db:
            history_id = self._insert(db, record, outcome, detail, now, finished=True)
        return self._entry(history_id)

    def claim(
        self,
        record: ActionRecord,
        *,
        expect: str | None,
        owner: str,
        owner_alive: Callable[[str], bool],
        now: datetime,
    ) -> HistoryEntry:
        """Take the environment for this action, or raise Conflict (recorded in the history).

        `expect` is the revision the caller believes the environment holds (EMPTY_REVISION for
        none); None skips that check. A claim whose owner process died is released first.
        """
        with self.ledger.transaction() as db:
            claim = db.execute(
                "SELECT history_id, owner FROM deploy_claims WHERE service = ? AND env = ?",
                (record.service, record.env),
            ).fetchone()
            if claim is not None and not owner_alive(str(claim[1])):
                self._release_dead(db, int(claim[0]), record.service, record.env, now)
                claim = None
            row = db.execute(
                "SELECT revision FROM deploy_current WHERE service = ? AND env = ?",
                (record.service, record.env),
            ).fetchone()
            current = None if row is None else row[0]
            problem = ""
            if claim is not None:
                busy = self.entry(int(claim[0]))
                doing = ""
                if busy is not None:
                    doing = f" ({busy.action.value} to {busy.to_revision} by {busy.user})"
                problem = f"{record.env} of {record.service} is busy with another action{doing}"
            elif expect is not None and shown(expect) != shown(current):
                problem = (
                    f"{record.env} of {record.service} holds {shown(current)}, not"
                    f" {shown(expect)} as expected; someone else acted first"
                )
            if problem:
                self._insert(db, record, Outcome.CONFLICT, problem, now, finished=True, frm=current)
            else:
                history_id = self._insert(
                    db, record, Outcome.RUNNING, "", now, finished=False, frm=current
                )
                db.execute(
                    "INSERT INTO deploy_claims (service, env, history_id, owner, claimed_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (record.service, record.env, history_id, owner, now.timestamp()),
                )
        if problem:
            raise Conflict(problem)
        return self._entry(history_id)

    def attach_run(self, history_id: int, run_id: str) -> None:
        with self.ledger.transaction() as db:
            db.execute(
                "UPDATE deploy_history SET run_id = ? WHERE id = ?", (int(run_id), history_id)
            )

    def finish(
        self,
        entry: HistoryEntry,
        outcome: Outcome,
        detail: str,
        *,
        health: str | None,
        now: datetime,
    ) -> HistoryEntry:
        """Write the outcome, move the environment on success, and release the claim: at once."""
        with self.ledger.transaction() as db:
            db.execute(
                "INSERT INTO deploy_current (service, env) VALUES (?, ?)"
                " ON CONFLICT (service, env) DO NOTHING",
                (entry.service, entry.env),
            )
            if outcome == Outcome.SUCCEEDED:
                db.execute(
                    "UPDATE deploy_current SET revision = ?, since = ?, user = ?, run_id = ?"
                    " WHERE service = ? AND env = ?",
                    (
                        entry.to_revision,
                        now.timestamp(),
                        entry.user,
                        None if entry.run_id is None else int(entry.run_id),
                        entry.service,
                        entry.env,
                    ),
                )
            if health is not None:
                db.execute(
                    "UPDATE deploy_current SET health = ?, health_revision = ?, health_at = ?"
                    " WHERE service = ? AND env = ?",
                    (health, entry.to_revision, now.timestamp(), entry.service, entry.env),
                )
            db.execute(
                "UPDATE deploy_history SET outcome = ?, detail = ?, finished_at = ? WHERE id = ?",
                (outcome.value, detail, now.timestamp(), entry.id),
            )
            db.execute(
                "DELETE FROM deploy_claims WHERE service = ? AND env = ? AND history_id = ?",
                (entry.service, entry.env, entry.id),
            )
        return self._entry(entry.id)

    def release_dead_claims(
        self, owner_alive: Callable[[str], bool], clock: Callable[[], datetime]
    ) -> list[HistoryEntry]:
        """Claims whose owner process is gone become interrupted actions; those actions.

        Cheap when every owner lives (the usual case, and the one each read of a long-lived
        process meets): one small read, no write lock taken, and no reading of the clock (a
        test's ticking clock moves only for what is recorded)."""
        owners = {str(row[0]) for row in self.ledger.db.execute("SELECT owner FROM deploy_claims")}
        if all(owner_alive(owner) for owner in owners):
            return []
        now = clock()
        released = []
        with self.ledger.transaction() as db:
            rows = db.execute(
                "SELECT service, env, history_id, owner FROM deploy_claims"
            ).fetchall()
            for service, env, history_id, owner in rows:
                if not owner_alive(str(owner)):
                    self._release_dead(db, int(history_id), str(service), str(env), now)
                    released.append(int(history_id))
        return [self._entry(history_id) for history_id in released]

    def _release_dead(
        self, db: Any, history_id: int, service: str, env: str, now: datetime
    ) -> None:
        db.execute(
            "UPDATE deploy_history SET outcome = ?, detail = ?, finished_at = ? WHERE id = ?",
            (
                Outcome.INTERRUPTED.value,
                "the process running this action died; the environment kept its revision",
                now.timestamp(),
                history_id,
            ),
        )
        db.execute("DELETE FROM deploy_claims WHERE service = ? AND env = ?", (service, env))

    def _insert(
        self,
        db: Any,
        record: ActionRecord,
        outcome: Outcome,
        detail: str,
        now: datetime,
        *,
        finished: bool,
        frm: str | None = None,
    ) -> int:
        from_revision = frm if frm is not None else record.from_revision
        cursor = db.execute(
            "INSERT INTO deploy_history (service, env, action, from_revision, to_revision, user,"
            " at, reason, outcome, gates, forced, run_id, detail, finished_at, cause)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)",
            (
                record.service,
                record.env,
                record.action.value,
                from_revision,
                record.to_revision,
                record.user,
                now.timestamp(),
                record.reason,
                outcome.value,
                json.dumps([gate.model_dump(mode="json") for gate in record.gates]),
                int(record.forced),
                detail,
                now.timestamp() if finished else None,
                None if record.cause is None else record.cause.model_dump_json(),
            ),
        )
        return int(cursor.lastrowid or 0)

    def _entry(self, history_id: int) -> HistoryEntry:
        entry = self.entry(history_id)
        assert entry is not None
        return entry


_HISTORY_COLUMNS = (
    "id, service, env, action, from_revision, to_revision, user, at, reason, outcome, gates,"
    " forced, run_id, detail, finished_at, cause"
)


def _run_id(key: int | None) -> str | None:
    """A run's id as the runner contract carries it: the ledger keeps the engine's number."""
    return None if key is None else str(key)


def _entry_from_row(row: Sequence[Any]) -> HistoryEntry:
    return HistoryEntry(
        id=row[0],
        service=row[1],
        env=row[2],
        action=DeployAction(row[3]),
        from_revision=row[4],
        to_revision=row[5],
        user=row[6],
        at=from_epoch(row[7]),
        reason=row[8],
        outcome=Outcome(row[9]),
        gates=[GateResult.model_validate(g) for g in json.loads(row[10])],
        forced=bool(row[11]),
        run_id=_run_id(row[12]),
        detail=row[13],
        finished_at=from_epoch(row[14]),
        cause=None if row[15] is None else AutoCause.model_validate_json(row[15]),
    )
