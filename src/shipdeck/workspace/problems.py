"""Collecting validation problems as `<file>:<line>: <dotted.key>: <message>` lines."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time

from shipdeck.workspace.locate import KeyLines, KeyPath, scan_key_lines

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """ " (did you mean 'x'?)" for the closest option, or "" when nothing is close."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def dotted(path: KeyPath) -> str:
    """A key path as the user would write it in a header: pipelines.train."my task"."""
    return ".".join(part if _BARE_KEY.fullmatch(part) else f'"{part}"' for part in path)


def describe(value: object) -> str:
    """A value as TOML would call it, for "got ..." messages."""
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"float {value}"
    if isinstance(value, str):
        return f"string {_short(value)!r}"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, datetime | date | time):
        return f"date/time {value.isoformat()}"
    return type(value).__name__


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


class Problems:
    """Every problem found in one workspace file, each located by the key it is about."""

    def __init__(self, file_label: str, text: str) -> None:
        self.file_label = file_label
        self.text = text
        self._lines: KeyLines | None = None
        self._found: list[tuple[int, str]] = []

    @property
    def lines(self) -> KeyLines:
        """Where each key is defined; scanned on first use, as valid files never need it."""
        if self._lines is None:
            self._lines = scan_key_lines(self.text)
        return self._lines

    def add(self, path: KeyPath, message: str, *, line_of: KeyPath | None = None) -> None:
        """Report `message` about `path`, on the line of `line_of` (default: `path`) itself."""
        line = self.lines.line_of(path if line_of is None else line_of)
        where = f"{dotted(path)}: " if path else ""
        self._found.append((line, f"{self.file_label}:{line}: {where}{message}"))

    def __bool__(self) -> bool:
        return bool(self._found)

    def __len__(self) -> int:
        return len(self._found)

    def lines_in_order(self) -> list[str]:
        """The problems sorted by line, keeping discovery order within a line."""
        return [text for _, text in sorted(self._found, key=lambda found: found[0])]

    def check_keys(
        self, table: Mapping[str, object], path: KeyPath, allowed: Iterable[str]
    ) -> None:
        """Report every key of `table` that is not in `allowed`."""
        known = list(allowed)
        for key in table:
            if key in known:
                continue
            hint = did_you_mean(key, known)
            if not hint:
                hint = f"; expected one of: {', '.join(sorted(known))}" if known else ""
            self.add((*path, key), f"unknown key {key!r}{hint}")
