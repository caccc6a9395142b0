"""Text that can travel: UTF-8 on the wire and in the store, a task's environment at the end.

Python strings can hold what UTF-8 cannot encode: lone surrogates, which is how an argument
with a non-UTF-8 byte arrives (`sys.argv` is decoded with surrogateescape) and what a JSON
`"\\ud800"` escape decodes to. Such a string is refused where it enters (`text_problem`), and
one that was recorded before that check is repaired where it is read (`repaired`).
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x01-\x08\x0b-\x1f\x7f-\x9f]")
"""Control characters but tab and newline: an escape (U+001B) starts a terminal command."""
REPLACEMENT = "\ufffd"

T = TypeVar("T")


def text_problem(text: str) -> str | None:
    """Why `text` cannot be stored, sent as UTF-8, passed to a task and shown on a terminal,
    or None if it can."""
    if text.isprintable():
        return None
    if "\x00" in text:
        return "it contains a NUL character"
    control = _CONTROL.search(text)
    if control is not None:
        return (
            f"it contains the control character U+{ord(control.group()):04X} at character"
            f" {control.start() + 1}, which would drive the terminals that show it"
        )
    if text.isascii():
        return None
    found = _SURROGATE.search(text)
    if found is not None:
        code = ord(found.group())
        where = f"at character {found.start() + 1}"
        if 0xDC80 <= code <= 0xDCFF:  # surrogateescape's stand-in for an undecodable byte
            return f"it is not valid UTF-8 (byte 0x{code - 0xDC00:02x} {where})"
        return f"it holds a lone surrogate U+{code:04X} {where}, which is not text"
    if "\x00" in text:
        return "it contains a NUL character"
    return None


def escaped(text: str) -> str:
    """`text` with its control characters written as escapes (`\\x1b`), to quote it in a
    message that goes to a terminal."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def repaired(value: T) -> T:
    """`value` (a string, or lists and dicts of them, as JSON decodes) with every lone
    surrogate replaced by U+FFFD, so it encodes as UTF-8; the same object when nothing is."""
    if isinstance(value, str):
        if value.isascii() or _SURROGATE.search(value) is None:
            return value
        return _SURROGATE.sub(REPLACEMENT, value)  # type: ignore[return-value]
    if isinstance(value, dict):
        return {repaired(key): repaired(item) for key, item in value.items()}  # type: ignore[return-value]
    if isinstance(value, list):
        return [repaired(item) for item in value]  # type: ignore[return-value]
    return value


def json_object(line: str) -> dict[str, Any]:
    """One line of JSON lines (a task's metrics, a monitor's data file) as the object it must
    be; ValueError saying what it is instead ("not JSON (...)", "not a JSON object")."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(f"not JSON ({error.msg})") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data
