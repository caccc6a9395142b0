"""The engine's SQLite file (.shipdeck/shipdeck.db), opened so that its failures say what is
wrong in one line naming the file.

A full disk, a read-only file or a damaged one raise `StoreUnusable` from any statement or
fetch: front ends show it as they show every ShipdeckError (exit 3, HTTP 503), and code that
retries on `sqlite3.Error` (a busy database) still catches it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

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


def connect(path: Path) -> sqlite3.Connection:
    """A connection to the engine's SQLite file in WAL mode, in autocommit mode (callers
    BEGIN their own transactions), usable from the engine's threads one at a time."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, factory=_Connection)
    assert isinstance(db, _Connection)
    db.path = path
    db.execute("PRAGMA busy_timeout = 10000")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    return db
