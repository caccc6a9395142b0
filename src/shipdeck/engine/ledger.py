"""The deployment and model-registry tables, in the engine's SQLite file (.shipdeck/shipdeck.db).

They live next to the run tables so one file holds the whole history, but have their own
schema marker (meta key `ledger_schema`) so the run store's migrations stay independent.
Every write is one BEGIN IMMEDIATE transaction: that is what makes compare-and-swap on an
environment safe across processes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shipdeck.engine.database import connect

LEDGER_SCHEMA = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS model_versions (
    model TEXT NOT NULL,
    version INTEGER NOT NULL,
    run_id INTEGER NOT NULL,
    task TEXT NOT NULL,
    params TEXT NOT NULL,
    metrics TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (model, version)
);
CREATE TABLE IF NOT EXISTS model_aliases (
    model TEXT NOT NULL,
    alias TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (model, alias)
);
CREATE TABLE IF NOT EXISTS alias_moves (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    model TEXT NOT NULL,
    alias TEXT NOT NULL,
    from_version INTEGER,
    to_version INTEGER NOT NULL,
    user TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS run_artifacts (
    run_id INTEGER NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (run_id, path)
);
CREATE TABLE IF NOT EXISTS deploy_current (
    service TEXT NOT NULL,
    env TEXT NOT NULL,
    revision TEXT,
    since REAL,
    user TEXT,
    run_id INTEGER,
    health TEXT,
    health_revision TEXT,
    health_at REAL,
    PRIMARY KEY (service, env)
);
CREATE TABLE IF NOT EXISTS deploy_claims (
    service TEXT NOT NULL,
    env TEXT NOT NULL,
    history_id INTEGER NOT NULL,
    owner TEXT NOT NULL,
    claimed_at REAL NOT NULL,
    PRIMARY KEY (service, env)
);
CREATE TABLE IF NOT EXISTS deploy_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    service TEXT NOT NULL,
    env TEXT NOT NULL,
    action TEXT NOT NULL,
    from_revision TEXT,
    to_revision TEXT NOT NULL,
    user TEXT NOT NULL,
    at REAL NOT NULL,
    reason TEXT NOT NULL,
    outcome TEXT NOT NULL,
    gates TEXT NOT NULL,
    forced INTEGER NOT NULL,
    run_id INTEGER,
    detail TEXT NOT NULL,
    finished_at REAL,
    cause TEXT
);
CREATE INDEX IF NOT EXISTS deploy_history_env ON deploy_history (service, env, id);
CREATE TABLE IF NOT EXISTS health_checks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    service TEXT NOT NULL,
    env TEXT NOT NULL,
    revision TEXT NOT NULL,
    at REAL NOT NULL,
    passed INTEGER NOT NULL,
    exit_code INTEGER,
    duration REAL NOT NULL,
    output TEXT NOT NULL,
    failures INTEGER NOT NULL,
    rollback INTEGER
);
CREATE INDEX IF NOT EXISTS health_checks_env ON health_checks (service, env, id);
CREATE TABLE IF NOT EXISTS policy_decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    service TEXT NOT NULL,
    env TEXT NOT NULL,
    model TEXT NOT NULL,
    version INTEGER NOT NULL,
    move_id INTEGER NOT NULL,
    at REAL NOT NULL,
    held INTEGER NOT NULL,
    detail TEXT NOT NULL,
    history_id INTEGER,
    UNIQUE (service, move_id)
);
CREATE TABLE IF NOT EXISTS automation_cursors (
    name TEXT PRIMARY KEY,
    cursor INTEGER NOT NULL
);
"""
_UPGRADES = {
    2: ["ALTER TABLE deploy_history ADD COLUMN cause TEXT"],  # and the automation tables
}
"""Statements that bring ledger tables written at version N-1 to version N (tables that are
new at N are created by the schema)."""


class Ledger:
    """A connection to the ledger tables; one per process and owner, never shared by threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = connect(path)  # its failures name the file: see engine.database
        self._migrate()

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE: takes the write lock up front, so reads inside are not stale."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _migrate(self) -> None:
        with self.transaction() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            row = db.execute("SELECT value FROM meta WHERE key = 'ledger_schema'").fetchone()
            version = int(row[0]) if row else 0
            if version > LEDGER_SCHEMA:
                raise RuntimeError(
                    f"{self.path} was written by a newer shipdeck (ledger {version})"
                )
            if version < LEDGER_SCHEMA:
                if version > 0:
                    for step in range(version + 1, LEDGER_SCHEMA + 1):
                        for statement in _UPGRADES[step]:
                            db.execute(statement)
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(
                    "INSERT INTO meta (key, value) VALUES ('ledger_schema', ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (str(LEDGER_SCHEMA),),
                )
