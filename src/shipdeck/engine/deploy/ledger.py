"""The deployment and model-registry tables, in the engine's SQLite file (.shipdeck/shipdeck.db).

They live next to the run tables so one file holds the whole history, as their own part of
it (`LEDGER`, meta key `ledger_schema`: see engine.database). Every write is one BEGIN
IMMEDIATE transaction: that is what makes compare-and-swap on an environment safe across
processes.
"""

from __future__ import annotations

from typing import Any

from shipdeck.engine.database import Schema, Tables

_SCHEMA = """
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
    2: [
        ("deploy_history", "ALTER TABLE deploy_history ADD COLUMN cause TEXT")
    ],  # + automation tables
}
"""(table, statement) that bring ledger tables written at version N-1 to version N (tables
that are new at N are created by the schema)."""


LEDGER = Schema("ledger", version=2, tables=_SCHEMA, upgrades=_UPGRADES)


class Ledger(Tables):
    """A connection to the ledger tables; one per process and owner, never shared by threads."""

    schema = LEDGER

    def newest(
        self, table: str, columns: str, service: str, env: str | None, limit: int
    ) -> list[Any]:
        """`columns` of the rows of `table` (history, checks) about the service, or one
        environment of it, newest first."""
        sql = f"SELECT {columns} FROM {table} WHERE service = ?"
        args: list[Any] = [service]
        if env is not None:
            sql += " AND env = ?"
            args.append(env)
        return self.db.execute(sql + " ORDER BY id DESC LIMIT ?", (*args, limit)).fetchall()
