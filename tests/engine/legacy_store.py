"""A run history as shipdeck wrote it before every part of the file kept its schema version in
the meta table: the run tables' version in `PRAGMA user_version`, no `runs_schema` key."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def mark_legacy(db: sqlite3.Connection, version: int) -> None:
    """Make the run tables of `db` read as written at `version` by that older shipdeck."""
    db.execute("DELETE FROM meta WHERE key = 'runs_schema'")
    db.execute(f"PRAGMA user_version = {version}")


def runs_version(path: Path) -> int:
    """The run tables' schema version the file at `path` holds now."""
    with sqlite3.connect(path) as db:
        row = db.execute("SELECT value FROM meta WHERE key = 'runs_schema'").fetchone()
    return int(row[0])
