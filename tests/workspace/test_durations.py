"""Durations: units, combinations, plain seconds, and helpful errors."""

from __future__ import annotations

import pytest

from shipdeck.workspace import parse_duration

EXPECTED = "expected a number of seconds or a duration like '500ms', '30s', '10m', '1h30m'"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30.0),
        ("10m", 600.0),
        ("1h", 3600.0),
        ("1h30m", 5400.0),
        ("500ms", 0.5),
        ("1.5s", 1.5),
        ("2d", 172800.0),
        ("365d", 365 * 86400.0),
        ("1h 30m 15s", 5415.0),
        ("1m500ms", 60.5),
        (" 45s ", 45.0),
        ("90", 90.0),
        ("2.5", 2.5),
        (90, 90.0),
        (0.25, 0.25),
        (0, 0.0),
    ],
)
def test_valid_durations(text: str | int | float, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("10 minutes", f"bad duration '10 minutes': {EXPECTED}"),
        ("", f"bad duration '': {EXPECTED}"),
        ("s", f"bad duration 's': {EXPECTED}"),
        ("-5s", f"bad duration '-5s': {EXPECTED}"),
        ("1h30", f"bad duration '1h30': {EXPECTED}"),
        ("5 s x", f"bad duration '5 s x': {EXPECTED}"),
        ("30m1h", "bad duration '30m1h': write units once each, largest first (like '1h30m')"),
        ("1s1s", "bad duration '1s1s': write units once each, largest first (like '1h30m')"),
        (-1, "bad duration -1: must not be negative"),
        (float("inf"), "bad duration inf: must be a finite number of seconds"),
        (float("nan"), "bad duration nan: must be a finite number of seconds"),
        (True, f"bad duration True: {EXPECTED}"),
        ("366d", "bad duration '366d': must be at most 365d"),
        (1e20, "bad duration 1e+20: must be at most 365d"),
        pytest.param(10**5000, f"bad duration {'9' * 37}...: must be at most 365d", id="10**5000"),
        ("9" * 500 + "d", f"bad duration '{'9' * 37}...': must be at most 365d"),
    ],
)
def test_bad_durations(text: str | int | float, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(text)
    assert str(caught.value) == message
