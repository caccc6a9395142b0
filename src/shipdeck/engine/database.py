"""The engine's SQLite file (.shipdeck/shipdeck.db): how it is opened, written and migrated.

- `connect`: every connection's settings in one place, and failures that say what is wrong
  in one line naming the file. A full disk, a read-only file or a damaged one raise
  `StoreUnusable` from any statement or fetch: front ends show it as they show every
  ShipdeckError (exit 3, HTTP 503), and code that retries on `sqlite3.Error` (a busy
  database) still catches it.
- `transaction`: BEGIN IMMEDIATE ... COMMIT, for every write of more than one statement.
- `migrate`: the file holds several parts (the run history, the deployment ledger and
  registry, the schedules), each with its own tables and its own schema version in the
  `meta` table (key `PART_schema`), so each part's migrations stay independent.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, overload

from shipdeck.errors import Unavailable

_ADVICE = {
    "SQLITE_FULL": "the disk is full; free some space on it",
    "SQLITE_READONLY": "it cannot be written; check the file's and its directory's permissions",
    "SQLITE_CANTOPEN": "it cannot be opened; check the file's and its directory's permissions",
    "SQLITE_BUSY": "another process holds it locked; try again",
    "SQLITE_LOCKED": "another process holds it locked; try again",
    "SQLITE_IOERR": "the disk failed to read or write it",
    "SQLITE_CORRUPT": "it is damaged (PRAGMA integrity_check says where)",
    "SQLITE_NOTADB": "it is not a SQLite database",
}


@overload
def from_epoch(value: float) -> datetime: ...
@overload
def from_epoch(value: float | None) -> datetime | None: ...
def from_epoch(value: float | None) -> datetime | None:
    """A time the tables keep as seconds since the epoch, as an aware UTC datetime."""
    return None if value is None else datetime.fromtimestamp(value, UTC)


class StoreUnusable(sqlite3.OperationalError, Unavailable):
    """The run history cannot be used now; `str()` is one line naming its file."""


def describe(error: sqlite3.Error, path: Path) -> str:
    """`error` as one line: the file, what SQLite said, and what to do about it."""
    name = str(getattr(error, "sqlite_errorname", ""))
    advice = _ADVICE.get("_".join(name.split("_")[:2]))  # SQLITE_IOERR_WRITE: SQLITE_IOERR
    said = str(error).splitlines()[0] if str(error) else type(error).__name__
    return f"the run history {path}: {said}" + (f" ({advice})" if advice else "")


def _unusable(error: sqlite3.Error, path: Path) -> sqlite3.Error:
    """What to raise for `error`: a store that cannot be used (full, read-only, locked,
    damaged) becomes StoreUnusable; anything else (a constraint, bad SQL) stays as it is."""
    if isinstance(error, StoreUnusable):
        return error
    if not (isinstance(error, sqlite3.OperationalError) or type(error) is sqlite3.DatabaseError):
        return error
    unusable = StoreUnusable(describe(error, path))
    unusable.sqlite_errorcode = getattr(error, "sqlite_errorcode", -1)
    unusable.sqlite_errorname = getattr(error, "sqlite_errorname", "")
    return unusable


class _Cursor(sqlite3.Cursor):
    path: Path

    def execute(self, sql: str, parameters: Any = (), /) -> _Cursor:
        try:
            super().execute(sql, parameters)
        except sqlite3.Error as error:
            raise _unusable(error, self.path) from error
        return self

    def executemany(self, sql: str, seq_of_parameters: Iterable[Any], /) -> _Cursor:
        try:
            super().executemany(sql, seq_of_parameters)
        except sqlite3.Error as error:
            raise _unusable(error, self.path) from error
        return self

    def __next__(self) -> Any:
        try:
            return super().__next__()
        except sqlite3.Error as error:
            raise _unusable(error, self.path) from error

    def fetchone(self) -> Any:
        try:
            return super().fetchone()
        except sqlite3.Error as error:
            raise _unusable(error, self.path) from error

    def fetchall(self) -> list[Any]:
        try:
            return super().fetchall()
        except sqlite3.Error as error:
            raise _unusable(error, self.path) from error


class _Connection(sqlite3.Connection):
    path: Path

    def _cursor(self) -> _Cursor:
        cursor = self.cursor(_Cursor)
        cursor.path = self.path
        return cursor

    def execute(self, sql: str, parameters: Any = (), /) -> _Cursor:
        return self._cursor().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> _Cursor:
        return self._cursor().executemany(sql, parameters)


BUSY_TIMEOUT_MS = 10000
"""How long a statement waits for another process's write lock before it fails as busy."""


def connect(path: Path) -> sqlite3.Connection:
    """A connection to the engine's SQLite file in WAL mode, in autocommit mode (callers
    BEGIN their own transactions), usable from the engine's threads one at a time.

    Foreign keys stay unenforced (SQLite's default): the tables' REFERENCES document how rows
    relate, and retention deletes a run's rows table by table in one transaction."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, factory=_Connection)
    assert isinstance(db, _Connection)
    db.path = path
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    return db


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE: takes the write lock up front, so what is read inside is not stale
    (compare-and-swap across processes relies on it); ROLLBACK on any exception."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


LEGACY_FENCE = 1000
"""Written to `PRAGMA user_version` once the part that kept its version there (the run
history, 1 to 6) is migrated: a shipdeck from before this scheme refuses a file whose
version is higher than it knows, so it never writes to tables migrated past what it
understands."""


@dataclass(frozen=True)
class Schema:
    """One part's tables at its current version, and how to bring older files up to it."""

    part: str
    """Its name; its version is kept in the meta table under `PART_schema`."""
    version: int
    tables: str
    """CREATE ... IF NOT EXISTS statements of every table and index at `version`, separated
    by semicolons: a new file gets them all, an older one the tables it lacks."""
    upgrades: Mapping[int, Sequence[tuple[str, str]]] = field(default_factory=dict)
    """(table, statement) pairs that bring a part at version N-1 to version N. A statement on
    a table the file does not have yet is skipped (`tables` then creates it whole), and so is
    an ADD COLUMN whose column is there already (a step met twice stays whole)."""
    legacy_user_version: bool = False
    """Read the version from `PRAGMA user_version` where the meta table has none: the run
    history's marker before every part kept its version in the meta table."""


class NewerSchema(RuntimeError):
    """The file was migrated by a newer shipdeck than this one."""


def migrate(db: sqlite3.Connection, schema: Schema) -> None:
    """Bring `schema.part` of the file up to `schema.version`, in one transaction; raise
    NewerSchema, changing nothing, when the file is newer than that."""
    key = f"{schema.part}_schema"
    with transaction(db):
        db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        version = schema_version(db, schema)
        if version > schema.version:
            path = getattr(db, "path", "the database")
            raise NewerSchema(
                f"{path} was written by a newer shipdeck ({schema.part} schema {version})"
            )
        if row is not None and version == schema.version:
            return
        for step in range(version + 1, schema.version + 1) if version else ():
            for table, statement in schema.upgrades.get(step, ()):
                if _has_work(db, table, statement):
                    db.execute(statement)
        for statement in schema.tables.split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, str(schema.version)),
        )
        if schema.legacy_user_version:
            db.execute(f"PRAGMA user_version = {LEGACY_FENCE}")


def schema_version(db: sqlite3.Connection, schema: Schema) -> int:
    """The version of `schema.part` the file holds: 0 for none (a new file, or one written
    before the part existed)."""
    row = db.execute("SELECT value FROM meta WHERE key = ?", (f"{schema.part}_schema",))
    found = row.fetchone()
    if found is not None:
        return int(found[0])
    if schema.legacy_user_version:
        return int(db.execute("PRAGMA user_version").fetchone()[0])
    return 0


def _has_work(db: sqlite3.Connection, table: str, statement: str) -> bool:
    """Whether an upgrade statement has work to do: its table exists and, for an added
    column, lacks it."""
    if not has_table(db, table):
        return False
    added = re.search(r"ADD COLUMN (\w+)", statement)
    if added is None:
        return True
    columns = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
    return added.group(1) not in columns


def has_table(db: sqlite3.Connection, name: str) -> bool:
    query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    return db.execute(query, (name,)).fetchone() is not None


class Tables:
    """A connection to one part's tables, migrated when opened; one per process and owner,
    never shared by threads."""

    schema: Schema

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = connect(path)  # its failures name the file
        try:
            migrate(self.db, self.schema)
        except BaseException:
            self.db.close()
            raise

    def close(self) -> None:
        self.db.close()

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self.db)
