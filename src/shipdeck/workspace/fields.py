"""Typed reads from a parsed TOML table; a wrong value becomes a problem and a safe default."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from shipdeck.workspace.durations import format_duration, parse_duration
from shipdeck.workspace.locate import KeyPath
from shipdeck.workspace.problems import Problems, describe

LONGEST_WAIT = 7 * 86400.0
"""The default bound of a duration field: a week."""
SHORTEST_INTERVAL = 1.0
"""The shortest `every` of anything that runs by itself (schedules, monitors, health checks)."""

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
RESERVED_ENV_PREFIX = "SHIPDECK_"
"""Tasks get SHIPDECK_RUN_ID, SHIPDECK_METRICS, SHIPDECK_PARAM_<NAME>, ... from the engine."""


def as_table(value: object, path: KeyPath, problems: Problems) -> dict[str, Any] | None:
    """`value` when it is a table; otherwise report it and return None."""
    if isinstance(value, dict):
        return value
    problems.add(path, f"must be a table, got {describe(value)}")
    return None


def named_tables(
    section: object,
    path: KeyPath,
    problems: Problems,
    check_name: Callable[[str, KeyPath], None],
) -> Iterator[tuple[str, Fields]]:
    """Each `NAME = { ... }` of `section`, a table of tables (`[services.NAME]`), with the
    fields of its table. Every name goes through `check_name` first; an entry that is not a
    table is reported and left out (a section that is not a table too)."""
    for name, body in (as_table(section, path, problems) or {}).items():
        where = (*path, name)
        check_name(name, where)
        table = as_table(body, where, problems)
        if table is not None:
            yield name, Fields(table, where, problems)


class Fields:
    """Reads the keys of one table, reporting problems under the table's path."""

    def __init__(self, table: Mapping[str, Any], path: KeyPath, problems: Problems) -> None:
        self.table = table
        self.path = path
        self.problems = problems

    @classmethod
    def of_table(
        cls, value: object, path: KeyPath, problems: Problems, keys: Iterable[str]
    ) -> Fields | None:
        """The fields of `value`, a table whose keys other than `keys` are reported; None
        when it is not a table (reported)."""
        table = as_table(value, path, problems)
        if table is None:
            return None
        fields = cls(table, path, problems)
        fields.check_keys(keys)
        return fields

    def check_keys(self, allowed: Iterable[str]) -> None:
        """Report every key of the table that is not in `allowed`."""
        self.problems.check_keys(self.table, self.path, allowed)

    def at(self, key: str) -> KeyPath:
        return (*self.path, key)

    def table_of(self, key: str) -> dict[str, Any] | None:
        """The table at `key`; None when absent, or not a table (reported)."""
        if key not in self.table:
            return None
        return as_table(self.table[key], self.at(key), self.problems)

    def string(self, key: str, *, required: bool = False, default: str = "") -> str:
        """A string; `required` ones must be present and not blank."""
        if key not in self.table:
            if required:
                self.problems.add(self.path, f"missing required key {key!r}")
            return default
        value = self.table[key]
        if not isinstance(value, str):
            self.problems.add(self.at(key), f"must be a string, got {describe(value)}")
            return default
        if required and not value.strip():
            self.problems.add(self.at(key), "must be a non-empty string")
            return default
        return value if self._no_nul(key, value) else default

    def optional_string(self, key: str) -> str | None:
        if key not in self.table:
            return None
        value = self.table[key]
        if not isinstance(value, str) or not value.strip():
            self.problems.add(self.at(key), f"must be a non-empty string, got {describe(value)}")
            return None
        return value if self._no_nul(key, value) else None

    def _no_nul(self, key: str, value: str) -> bool:
        """Whether `value` is free of NUL characters, which no command line, environment
        variable or path can hold (the task would fail to start); reports it otherwise."""
        if "\0" not in value:
            return True
        self.problems.add(self.at(key), "must not contain a NUL character (\\0)")
        return False

    def count(self, key: str, *, maximum: int, why: str = "") -> int:
        """A non-negative integer up to `maximum`, 0 when absent; `why` explains the bound."""
        value = self.table.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.problems.add(
                self.at(key), f"must be a non-negative integer, got {describe(value)}"
            )
            return 0
        if value > maximum:
            self.problems.add(
                self.at(key), f"must be at most {maximum}, got {describe(value)}{why}"
            )
            return 0
        return value

    def duration(
        self, key: str, *, allow_zero: bool, maximum: float = LONGEST_WAIT
    ) -> float | None:
        """Seconds from a duration string or number, at most `maximum`; None when absent or
        invalid."""
        if key not in self.table:
            return None
        value = self.table[key]
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            self.problems.add(self.at(key), f"must be a duration like '30s', got {describe(value)}")
            return None
        try:
            seconds = parse_duration(value)
        except ValueError as error:
            self.problems.add(self.at(key), str(error))
            return None
        if seconds == 0 and not allow_zero:
            self.problems.add(self.at(key), f"must be longer than 0 seconds, got {value!r}")
            return None
        if seconds > maximum:
            self.problems.add(
                self.at(key),
                f"must be at most {format_duration(maximum)}, got {describe(value)}",
            )
            return None
        return seconds

    def interval(self, key: str, *, maximum: float) -> float | None:
        """How often something runs: a duration from SHORTEST_INTERVAL to `maximum`; None when
        absent or invalid."""
        seconds = self.duration(key, allow_zero=False, maximum=maximum)
        if seconds is not None and seconds < SHORTEST_INTERVAL:
            self.problems.add(self.at(key), f"must be at least 1s, got {describe(self.table[key])}")
            return None
        return seconds

    def string_list(self, key: str) -> list[str]:
        """An array of strings; bad elements are reported one by one and left out."""
        if key not in self.table:
            return []
        value = self.table[key]
        if not isinstance(value, list):
            self.problems.add(self.at(key), f"must be an array of strings, got {describe(value)}")
            return []
        items: list[str] = []
        first_bad: tuple[int, object] | None = None
        bad = 0
        for index, item in enumerate(value):
            if isinstance(item, str):
                items.append(item)
                continue
            bad += 1
            if first_bad is None:
                first_bad = (index, item)
        if first_bad is not None:
            # One problem for the array: a million wrong items are one mistake.
            index, item = first_bad
            more = f" (and {bad - 1:,} more that are not strings)" if bad > 1 else ""
            self.problems.add(
                self.at(key),
                f"item {index + 1} must be a string, got {describe(item)}{more}",
                line_of=(*self.at(key), str(index)),
            )
        return items

    def env_table(self, key: str) -> dict[str, str]:
        """A table of environment variables: valid names, string values."""
        table = self.table_of(key)
        if table is None:
            return {}
        env: dict[str, str] = {}
        for name, value in table.items():
            where = (*self.at(key), name)
            if not ENV_NAME.fullmatch(name):
                self.problems.add(
                    where, "environment variable names use letters, digits and '_' only"
                )
            elif name.upper().startswith(RESERVED_ENV_PREFIX):
                self.problems.add(
                    where, f"names starting with {RESERVED_ENV_PREFIX} are set by shipdeck itself"
                )
            elif not isinstance(value, str):
                self.problems.add(
                    where, f"must be a string{_quote_hint(value)}, got {describe(value)}"
                )
            elif "\0" in value:
                self.problems.add(where, "must not contain a NUL character (\\0)")
            else:
                env[name] = value
        return env


def _quote_hint(value: object) -> str:
    """For numbers and booleans, show the quoted form the user probably meant."""
    if isinstance(value, bool):
        return f' (quote it: "{str(value).lower()}")'
    if isinstance(value, int | float):
        return f' (quote it: "{value}")'
    return ""
