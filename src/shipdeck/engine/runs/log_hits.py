"""Which lines of a block of log bytes a search hits, found with whole-array operations.

Finding a million matches one `re` match object at a time costs more than the scan itself
(~0.1 µs each), so a literal's hits are found by numpy compares over the block (every
occurrence, overlapping ones included) and a regular expression's by `re.finditer` reduced to
its start offsets in C (`map(re.Match.start, ...)`); placing them on lines, dropping hits in a
line's timestamp prefix and keeping one per line are array operations too.
"""

from __future__ import annotations

import importlib
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Ints = npt.NDArray[np.int64]
    Bytes = npt.NDArray[np.uint8]

# The standard library's own regular-expression parser (no public equivalent), to see what a
# pattern can match before running it.
sre_parse: Any = importlib.import_module("re._parser")
sre: Any = importlib.import_module("re._constants")
sre_compiler: Any = importlib.import_module("re._compiler")

SAMPLE = 1 << 16
"""Bytes looked at to pick a literal's rarest byte."""
_LETTERS = range(ord("a"), ord("z") + 1)


class Scratch:
    """Work arrays for the blocks of one search, reused from block to block: a fresh array
    per block costs more in page faults than the compare that fills it."""

    def __init__(self) -> None:
        import numpy as np

        self.folded = np.empty(0, np.uint8)
        self.equal = np.empty(0, bool)

    def take(self, size: int) -> tuple[Bytes, npt.NDArray[np.bool_]]:
        import numpy as np

        if len(self.folded) < size:
            self.folded = np.empty(size, np.uint8)
            self.equal = np.empty(size, bool)
        return self.folded[:size], self.equal[:size]


def literal_hits(block: Bytes, needle: bytes, fold: bool, scratch: Scratch) -> Ints:
    """Offsets in `block` of every occurrence of `needle` (lower case when `fold`: then an ASCII
    letter of the block matches in either case)."""
    import numpy as np

    size, width = len(block), len(needle)
    if size < width:
        return np.empty(0, np.int64)
    folded_out, equal = scratch.take(size)
    folded: Bytes | None = None
    if fold and any(byte in _LETTERS for byte in needle):
        folded = np.bitwise_or(block, np.uint8(0x20), out=folded_out)

    def column(at: int) -> Bytes:
        """What needle byte `at` is compared with: the block, or the block folded."""
        return folded if folded is not None and needle[at] in _LETTERS else block

    sample = slice(0, min(size, SAMPLE))
    # Rarest byte first, then the others from the rarest: the candidates shrink fastest.
    order = sorted(
        range(width), key=lambda at: int(np.count_nonzero(column(at)[sample] == needle[at]))
    )
    anchor = order[0]
    span = size - width + 1
    found = np.equal(column(anchor)[anchor : anchor + span], needle[anchor], out=equal[:span])
    hits = np.flatnonzero(found)
    for at in order[1:]:
        if hits.size:
            hits = hits[column(at)[hits + at] == needle[at]]
    return hits.astype(np.int64, copy=False)


def byte_sets(pattern: re.Pattern[bytes]) -> tuple[bytes, ...] | None:
    """For a pattern that always matches a fixed number of bytes, each from a set of its own
    (`b.om`, `error=T.ue`, `test_[0-9]{3}`, with or without ignoring case): per position, the
    bytes it takes, as 256 flags. None for anything else (alternatives, repeats of varying
    length, anchors such as `$` or `\\b`, group references)."""
    try:
        parsed = sre_parse.parse(pattern.pattern, pattern.flags)
    except Exception:  # a private parser: anything odd means "not known"
        return None
    nodes = _single_bytes(list(parsed))
    if not nodes or len(nodes) > MAX_WIDTH:
        return None
    flags = parsed.state.flags
    sets = []
    for node in nodes:
        item = sre_compiler.compile(sre_parse.SubPattern(parsed.state, [node]), flags)
        sets.append(bytes(item.fullmatch(bytes([byte])) is not None for byte in range(256)))
    return tuple(sets)


MAX_WIDTH = 64


def _single_bytes(items: list[tuple[Any, Any]]) -> list[tuple[Any, Any]] | None:
    """The nodes one byte wide each that the sequence spells out, or None."""
    nodes: list[tuple[Any, Any]] = []
    for op, value in items:
        if op in (sre.LITERAL, sre.NOT_LITERAL, sre.ANY, sre.IN):
            nodes.append((op, value))
            continue
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
            low, high, body = value
            inner = _single_bytes(list(body)) if low == high <= MAX_WIDTH else None
            part = None if inner is None else inner * low
        elif op is sre.SUBPATTERN and not value[1] and not value[2]:
            part = _single_bytes(list(value[3]))
        else:
            part = None
        if part is None or len(nodes) + len(part) > MAX_WIDTH:
            return None
        nodes.extend(part)
    return nodes


def set_hits(block: Bytes, sets: tuple[bytes, ...], scratch: Scratch) -> Ints | None:
    """Offsets in `block` where a match of `byte_sets` starts (every one, overlapping ones
    too); None when no position takes only one or two bytes to search for first."""
    import numpy as np

    size, width = len(block), len(sets)
    if size < width:
        return np.empty(0, np.int64)
    taken = [[byte for byte in range(256) if flags[byte]] for flags in sets]
    if any(not choice for choice in taken):
        return np.empty(0, np.int64)  # a position no byte can fill: never a match
    firsts = [at for at, choice in enumerate(taken) if len(choice) <= 2]
    if not firsts:
        return None
    sample = block[: min(size, SAMPLE)]
    # Positions taking one or two bytes by how often those are seen; the wider ones after.
    seen = [
        sum(int(np.count_nonzero(sample == byte)) for byte in choice)
        if len(choice) <= 2
        else size + len(choice)
        for choice in taken
    ]
    anchor = min(firsts, key=seen.__getitem__)
    span = size - width + 1
    folded, equal = scratch.take(size)
    column = block[anchor : anchor + span]
    found = np.equal(column, taken[anchor][0], out=equal[:span])
    if len(taken[anchor]) == 2:
        found |= np.equal(column, taken[anchor][1], out=folded[:span].view(bool))
    hits = np.flatnonzero(found)
    for at in sorted(range(width), key=seen.__getitem__):  # the rarest first
        if at != anchor and hits.size and len(taken[at]) < 256:
            hits = hits[np.frombuffer(sets[at], bool)[block[hits + at]]]
    return hits.astype(np.int64, copy=False)


def without(values: Ints, taken: Ints) -> Ints:
    """The values (ascending) not in `taken` (ascending)."""
    import numpy as np

    if not taken.size or not values.size:
        return values
    at = np.minimum(np.searchsorted(taken, values), taken.size - 1)
    kept: Ints = values[taken[at] != values]
    return kept


def regex_starts(pattern: re.Pattern[bytes], data: Any, low: int, high: int) -> Ints:
    """Start offsets (from `low`) of the non-overlapping matches of `pattern` in
    `data[low:high]`, with no match object kept."""
    import numpy as np

    starts = np.fromiter(map(re.Match.start, pattern.finditer(data, low, high)), np.int64)
    return starts - low


def stays_in_line(pattern: re.Pattern[bytes] | re.Pattern[str]) -> bool:
    """True when no match of `pattern` can be empty or hold a newline: each match then lies
    in one line, and a line matches where a match starts."""
    try:
        parsed = sre_parse.parse(pattern.pattern, pattern.flags)
    except Exception:  # a private parser: anything odd means "not known"
        return False
    if parsed.getwidth()[0] == 0:
        return False
    return not _may_take_newline(list(parsed), parsed.state.flags)


def _may_take_newline(items: list[tuple[Any, Any]], flags: int) -> bool:
    """Whether a sequence of parsed nodes may match a newline (True when not known)."""
    for op, value in items:
        if op is sre.LITERAL:
            taken = value == 0x0A
        elif op is sre.NOT_LITERAL:
            taken = value != 0x0A
        elif op is sre.ANY:
            taken = bool(flags & re.DOTALL)
        elif op is sre.IN:
            taken = _set_takes_newline(value)
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
            taken = _may_take_newline(list(value[2]), flags)
        elif op is sre.SUBPATTERN:
            _group, add, remove, body = value
            taken = _may_take_newline(list(body), (flags | add) & ~remove)
        elif op is sre.BRANCH:
            taken = any(_may_take_newline(list(branch), flags) for branch in value[1])
        elif op is sre.ATOMIC_GROUP:
            taken = _may_take_newline(list(value), flags)
        elif op is sre.AT:
            taken = False
        else:  # group references, conditionals, anything new: not known
            taken = True
        if taken:
            return True
    return False


_NO_NEWLINE = frozenset({sre.CATEGORY_DIGIT, sre.CATEGORY_WORD, sre.CATEGORY_NOT_SPACE})
_NEWLINE = frozenset({sre.CATEGORY_SPACE, sre.CATEGORY_NOT_DIGIT, sre.CATEGORY_NOT_WORD})


def _set_takes_newline(items: list[tuple[Any, Any]]) -> bool:
    negate = bool(items) and items[0][0] is sre.NEGATE
    holds = False
    for op, value in items[1:] if negate else items:
        if op is sre.LITERAL:
            holds = holds or value == 0x0A
        elif op is sre.RANGE:
            holds = holds or value[0] <= 0x0A <= value[1]
        elif op is sre.CATEGORY and value in _NEWLINE:
            holds = True
        elif not (op is sre.CATEGORY and value in _NO_NEWLINE):
            return True  # not known
    return holds != negate


def first_per_line(lines: Ints) -> Ints:
    """The distinct values of an ascending array."""
    import numpy as np

    if lines.size < 2:
        return lines
    keep = np.empty(lines.size, bool)
    keep[0] = True
    np.not_equal(lines[1:], lines[:-1], out=keep[1:])
    return lines[keep]


_PREFIX_SHAPE = "dddd-dd-ddTdd:dd:dd.dddZ ? "
"""A log line's prefix, `<timestamp> <O|E|S> `: d a digit, ? the stream code."""


def _prefix_table() -> Any:
    import numpy as np

    table = np.zeros((len(_PREFIX_SHAPE), 256), bool)
    for at, shape in enumerate(_PREFIX_SHAPE):
        allowed = b"0123456789" if shape == "d" else b"OES" if shape == "?" else shape.encode()
        table[at, list(allowed)] = True
    return table


_TABLE: list[Any] = []


def prefixed(block: Bytes, starts: Ints, stops: Ints) -> npt.NDArray[np.bool_]:
    """Which lines, [starts, stops) in `block` with their newline, begin with a log prefix."""
    import numpy as np

    if not _TABLE:
        _TABLE.append(_prefix_table())
    width = len(_PREFIX_SHAPE)
    at = np.minimum(starts[:, None] + np.arange(width), len(block) - 1)
    shaped = _TABLE[0][np.arange(width), block[at]].all(axis=1)
    return shaped & (stops - starts > width)  # type: ignore[no-any-return]


def to_spans(lines: Ints) -> list[int]:
    """Ascending line numbers as runs, flattened: `[first, stop, first, stop, ...]`."""
    import numpy as np

    if not lines.size:
        return []
    breaks = np.flatnonzero(np.diff(lines) != 1) + 1
    spans = np.empty(2 * (breaks.size + 1), np.int64)
    spans[0::2] = lines[np.concatenate(([0], breaks))]
    spans[1::2] = lines[np.concatenate((breaks - 1, [lines.size - 1]))] + 1
    result: list[int] = spans.tolist()
    return result
