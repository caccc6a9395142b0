"""Map the dotted key paths of a TOML text to the lines that define them.

tomllib returns plain values without positions, so error messages get their line numbers from
this scanner. It understands the parts of TOML that carry keys (table headers, `key = value`
lines, dotted keys, inline tables, arrays, all four string forms) and skips over the rest. It is
meant for text that tomllib accepted, or rejected only for a duplicate key; it never raises, and
on anything it does not understand it moves on to the next line.

Paths are tuples of key parts; array elements (and array-of-tables entries) are numbered with
their 0-based index as a string, e.g. ("pipelines", "train", "tasks", "x", "needs", "1").
"""

from __future__ import annotations

import contextlib
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

KeyPath = tuple[str, ...]
Keep = Callable[[KeyPath, int, int], bool]
"""Whether to record an occurrence of a path, given its first and last line."""

_SPACES = re.compile(r"[ \t\r]*")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_BARE_VALUE = re.compile(r"[^,\]}#\n]+")
# The repeated groups are possessive (*+): with a plain `(?:a|b)*`, re keeps a backtracking
# entry for every character repeated, ~140 bytes each: skipping a 5 MB string took 700 MB.
_BASIC = re.compile(r'"((?:[^"\\\n]|\\.)*+)"')
_LITERAL = re.compile(r"'([^'\n]*)'")
_MULTI_BASIC = re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*+"{0,2}"""', re.DOTALL)
_MULTI_LITERAL = re.compile(r"'''(?:[^']|'(?!''))*+'{0,2}'''")


@dataclass(frozen=True)
class Occurrence:
    """One place where a key path appears: from the line of its key to the end of its value."""

    first_line: int
    last_line: int
    explicit: bool
    """False when the path only appears as the prefix of a longer key or header."""


@dataclass
class KeyLines:
    """Where each key path of a document appears."""

    occurrences: dict[KeyPath, list[Occurrence]] = field(default_factory=lambda: defaultdict(list))

    def line_of(self, path: KeyPath) -> int:
        """The line defining `path`, else the line of its nearest known parent, else 1."""
        for end in range(len(path), 0, -1):
            found = self.occurrences.get(path[:end])
            if found:
                explicit = [o.first_line for o in found if o.explicit]
                return min(explicit) if explicit else min(o.first_line for o in found)
        return 1

    def redefined_at(self, line: int) -> tuple[KeyPath, int] | None:
        """The longest path that appears again on `line`, with the line where it first appeared."""
        best: tuple[KeyPath, int] | None = None
        for path, found in self.occurrences.items():
            if len(found) < 2 or not any(o.first_line <= line <= o.last_line for o in found):
                continue
            if best is None or len(path) > len(best[0]):
                best = (path, min(o.first_line for o in found))
        return best


class _Confused(Exception):
    """The scanner met something it does not understand; it skips to the next line."""


def scan_key_lines(text: str, keep: Keep | None = None) -> KeyLines:
    """Scan a TOML document and return where each of its key paths is defined.

    With `keep`, only the occurrences it accepts are recorded: a document of a million keys
    or array items costs a few hundred bytes per item recorded, so callers that need a few
    paths name them.
    """
    scanner = _Scanner(text, keep)
    with contextlib.suppress(RecursionError):  # absurd nesting: keep the lines found so far
        scanner.run()
    return scanner.result


def lines_of(text: str, paths: Iterable[KeyPath]) -> KeyLines:
    """Where `paths` and their parents are defined (what `KeyLines.line_of` needs for them)."""
    wanted = {path[:end] for path in paths for end in range(1, len(path) + 1)}
    return scan_key_lines(text, lambda path, _first, _last: path in wanted)


def redefinition_at(text: str, line: int) -> tuple[KeyPath, int] | None:
    """`KeyLines.redefined_at(line)` for `text`, recording only the paths that `line` touches."""
    touching = scan_key_lines(text, lambda _path, first, last: first <= line <= last)
    candidates = set(touching.occurrences)
    found = scan_key_lines(text, lambda path, _first, _last: path in candidates)
    return found.redefined_at(line)


class _Scanner:
    def __init__(self, text: str, keep: Keep | None) -> None:
        self.text = text
        self.keep = keep
        self.pos = 0
        self.line = 1
        self.result = KeyLines()
        self.array_tables: dict[KeyPath, int] = {}

    # -- characters ---------------------------------------------------------------------------

    def peek(self, offset: int = 0) -> str:
        index = self.pos + offset
        return self.text[index] if index < len(self.text) else ""

    def advance(self, count: int = 1) -> None:
        end = min(self.pos + count, len(self.text))
        self.line += self.text.count("\n", self.pos, end)
        self.pos = end

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise _Confused
        self.advance()

    def skip_spaces(self) -> None:
        match = _SPACES.match(self.text, self.pos)
        if match:
            self.pos = match.end()

    def take(self, pattern: re.Pattern[str]) -> re.Match[str]:
        """Consume `pattern` at the current position, or raise _Confused."""
        match = pattern.match(self.text, self.pos)
        if match is None or match.end() == self.pos:
            raise _Confused
        self.advance(match.end() - self.pos)
        return match

    def skip_comment(self) -> None:
        if self.peek() == "#":
            end = self.text.find("\n", self.pos)
            self.advance((len(self.text) if end < 0 else end) - self.pos)

    def skip_blank(self) -> None:
        """Spaces, comments and newlines."""
        while True:
            self.skip_spaces()
            self.skip_comment()
            if self.peek() != "\n":
                return
            self.advance()

    def skip_line(self) -> None:
        end = self.text.find("\n", self.pos)
        self.advance((len(self.text) if end < 0 else end + 1) - self.pos)

    # -- document -----------------------------------------------------------------------------

    def run(self) -> None:
        table: KeyPath = ()
        while True:
            self.skip_blank()
            if self.pos >= len(self.text):
                return
            start = self.pos
            try:
                if self.peek() == "[":
                    table = self.header()
                else:
                    self.key_value(table)
                self.skip_spaces()
                self.skip_comment()
                if self.peek() not in ("\n", ""):
                    raise _Confused
            except _Confused:
                self.skip_line()
            if self.pos == start:
                self.skip_line()

    def record(self, path: KeyPath, first_line: int, *, explicit: bool) -> None:
        if self.keep is None or self.keep(path, first_line, self.line):
            self.result.occurrences[path].append(Occurrence(first_line, self.line, explicit))

    def record_prefixes(self, base: KeyPath, path: KeyPath, line: int) -> None:
        for end in range(len(base) + 1, len(path)):
            self.record(path[:end], line, explicit=False)

    def resolve(self, key: KeyPath) -> KeyPath:
        """Insert the index of the current entry after every array-of-tables prefix."""
        resolved: list[str] = []
        for part in key:
            resolved.append(part)
            index = self.array_tables.get(tuple(resolved))
            if index is not None:
                resolved.append(str(index))
        return tuple(resolved)

    def header(self) -> KeyPath:
        line = self.line
        is_array = self.peek(1) == "["
        self.advance(2 if is_array else 1)
        self.skip_spaces()
        key = self.key()
        self.skip_spaces()
        self.expect("]")
        if is_array:
            self.expect("]")
            parent = self.resolve(key[:-1]) + key[-1:]
            index = self.array_tables.get(parent, -1) + 1
            self.array_tables[parent] = index
            path = (*parent, str(index))
        else:
            path = self.resolve(key)
        self.record_prefixes((), path, line)
        self.record(path, line, explicit=True)
        return path

    def key_value(self, table: KeyPath) -> None:
        line = self.line
        path = table + self.key()
        self.skip_spaces()
        self.expect("=")
        self.skip_spaces()
        self.value(path)
        self.record_prefixes(table, path, line)
        self.record(path, line, explicit=True)

    # -- keys and values ----------------------------------------------------------------------

    def key(self) -> KeyPath:
        parts = [self.key_part()]
        while True:
            self.skip_spaces()
            if self.peek() != ".":
                return tuple(parts)
            self.advance()
            self.skip_spaces()
            parts.append(self.key_part())

    def key_part(self) -> str:
        if self.peek() == '"':
            return _decode_basic(self.take(_BASIC).group(1))
        if self.peek() == "'":
            return self.take(_LITERAL).group(1)
        return self.take(_BARE_KEY).group()

    def value(self, path: KeyPath) -> None:
        char = self.peek()
        if char == "{":
            self.inline_table(path)
        elif char == "[":
            self.array(path)
        elif self.text.startswith('"""', self.pos):
            self.take(_MULTI_BASIC)
        elif self.text.startswith("'''", self.pos):
            self.take(_MULTI_LITERAL)
        elif char == '"':
            self.take(_BASIC)
        elif char == "'":
            self.take(_LITERAL)
        else:
            self.take(_BARE_VALUE)

    def inline_table(self, path: KeyPath) -> None:
        self.advance()
        self.skip_blank()
        if self.peek() == "}":
            self.advance()
            return
        while True:
            self.skip_blank()
            self.key_value(path)
            self.skip_blank()
            if self.peek() == ",":
                self.advance()
                self.skip_blank()
                if self.peek() == "}":
                    self.advance()
                    return
                continue
            self.expect("}")
            return

    def array(self, path: KeyPath) -> None:
        self.advance()
        index = 0
        while True:
            self.skip_blank()
            if self.peek() == "]":
                self.advance()
                return
            line = self.line
            element = (*path, str(index))
            self.value(element)
            self.record(element, line, explicit=True)
            index += 1
            self.skip_blank()
            if self.peek() == ",":
                self.advance()
                continue
            self.expect("]")
            return


def _decode_basic(raw: str) -> str:
    """A basic string's content; TOML escapes are a superset of JSON's except \\e and \\U."""
    try:
        decoded = json.loads(f'"{raw}"')
    except ValueError:
        return raw
    return decoded if isinstance(decoded, str) else raw
