"""Collecting validation problems as `<file>:<line>: <dotted.key>: <message>` lines."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time

from shipdeck.workspace.locate import KeyPath, lines_of

MAX_SHOWN = 20
"""Problems listed one by one; a last line counts the others."""
MAX_KEPT = 1000
"""Problems kept to sort by line; past this many they are only counted. A file with more is
one mistake repeated (an array of a million wrong items), and each kept problem costs memory."""
LONGEST_SHOWN = 40
"""Characters of a key or value quoted in a message; longer ones are cut with '...'."""

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_CUTOFF = 0.6


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """ " (did you mean 'x'?)" for the closest option, or "" when nothing is close."""
    # difflib's ratio is at most 2*min/(len_a + len_b): options far longer or shorter can never
    # reach the cutoff, and comparing with them costs memory in proportion to their length.
    close_enough = [option for option in options if _may_be_close(len(word), len(option))]
    if not close_enough:
        return ""
    close = difflib.get_close_matches(word, close_enough, n=1, cutoff=_CUTOFF)
    return f" (did you mean {quoted(close[0])}?)" if close else ""


def _may_be_close(a: int, b: int) -> bool:
    return a + b > 0 and 2 * min(a, b) / (a + b) >= _CUTOFF


def clip(text: str) -> str:
    """`text` cut to LONGEST_SHOWN characters, ending in '...' when it was longer."""
    return text if len(text) <= LONGEST_SHOWN else text[: LONGEST_SHOWN - 3] + "..."


def quoted(text: str) -> str:
    """A key or value as a message quotes it: repr'd, and clipped when long."""
    return repr(clip(text))


def not_an_environment(
    env: str, environments: Sequence[str], quote: Callable[[str], str] = quoted
) -> str:
    """The problem with `env` where one of a service's `environments` belongs, with the
    closest one and the list; `quote` shows `env` (repr keeps a long name whole)."""
    hint = did_you_mean(env, environments)
    listed = ", ".join(environments)
    return f"{quote(env)} is not an environment of this service{hint}; environments: {listed}"


def dotted(path: KeyPath) -> str:
    """A key path as the user would write it in a header: pipelines.train."my task"."""
    return ".".join(_key(clip(part)) for part in path)


def _key(part: str) -> str:
    return part if _BARE_KEY.fullmatch(part) else f'"{part}"'


def describe(value: object) -> str:
    """A value as TOML would call it, for "got ..." messages."""
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"integer {short_int(value)}"
    if isinstance(value, float):
        return f"float {value}"
    if isinstance(value, str):
        return f"string {quoted(value)}"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, datetime | date | time):
        return f"date/time {value.isoformat()}"
    return type(value).__name__


def short_int(value: int) -> str:
    """An integer's digits, or its first ones and '...' past LONGEST_SHOWN digits (past
    4,300, str() itself refuses: Python's limit on converting huge integers)."""
    if abs(value) < 10**LONGEST_SHOWN:
        return str(value)
    return f"{'-' if value < 0 else ''}{'9' * (LONGEST_SHOWN - 3)}..."


class Problems:
    """Every problem found in one workspace file, each located by the key it is about."""

    def __init__(self, file_label: str, text: str) -> None:
        self.file_label = file_label
        self.text = text
        self._found: dict[tuple[KeyPath, str], None] = {}
        """(the path whose line locates it, the problem after `file:line: `), in found order."""
        self._dropped = 0

    def add(self, path: KeyPath, message: str, *, line_of: KeyPath | None = None) -> None:
        """Report `message` about `path`, on the line of `line_of` (default: `path`) itself."""
        where = f"{dotted(path)}: " if path else ""
        found = (path if line_of is None else line_of, where + message)
        if found in self._found:
            return
        if len(self._found) >= MAX_KEPT:
            self._dropped += 1
            return
        self._found[found] = None

    def __bool__(self) -> bool:
        return bool(self._found)

    def __len__(self) -> int:
        return len(self._found) + self._dropped

    def lines_in_order(self) -> list[str]:
        """Each distinct problem once, sorted by line (found order within a line); past
        MAX_SHOWN, a last line says how many more there are and where the first of them is."""
        lines = lines_of(self.text, (path for path, _ in self._found))
        located: dict[tuple[int, str], None] = {}
        for path, text in self._found:
            located.setdefault((lines.line_of(path), text), None)
        ordered = sorted(located, key=lambda found: found[0])
        shown = [f"{self.file_label}:{line}: {text}" for line, text in ordered[:MAX_SHOWN]]
        hidden = max(0, len(ordered) - MAX_SHOWN) + self._dropped
        if hidden > 0:
            more = f"and {hidden:,} more problem{'' if hidden == 1 else 's'}"
            if len(ordered) > MAX_SHOWN:
                more += " (the first on this line)"
            line = ordered[min(MAX_SHOWN, len(ordered) - 1)][0]
            shown.append(f"{self.file_label}:{line}: {more}")
        return shown

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
            self.add((*path, key), f"unknown key {quoted(key)}{hint}")
