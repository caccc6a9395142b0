"""One way durations, ages, sizes, counts and metric values read, in every front end and in
the engine's messages (shipdeck/formatting.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shipdeck.formatting import (
    format_age,
    format_bytes,
    format_delta,
    format_duration,
    format_metric,
    format_number,
    plural,
)

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (None, "-"),
        (0, "0.0s"),
        (0.42, "0.4s"),
        (9.94, "9.9s"),
        (10, "10s"),
        (12.9, "12s"),
        (45, "45s"),
        (59.9, "59s"),  # truncated: a minute that has not passed is not shown
        (60, "1m00s"),
        (185, "3m05s"),
        (252, "4m12s"),
        (3599.9, "59m59s"),
        (3600, "1h00m"),
        (3720, "1h02m"),
        (7500, "2h05m"),
        (86399, "23h59m"),
        (86400, "1d00h"),
        (90000, "1d01h"),
        (93900, "1d02h"),  # 26h05m: the CLI printed it so, the gates 1d2h, the TUI 1d02h
        (45 * 86400, "45d00h"),
        (-3.0, "0.0s"),  # clocks that disagree: never a negative duration
    ],
)
def test_a_duration_reads_the_same_everywhere(seconds: float | None, shown: str) -> None:
    assert format_duration(seconds) == shown


@pytest.mark.parametrize(
    ("ago", "shown"),
    [
        (timedelta(0), "0s ago"),
        (timedelta(seconds=59.9), "59s ago"),
        (timedelta(minutes=1), "1m ago"),
        (timedelta(hours=1), "1h ago"),
        (timedelta(hours=23, minutes=59), "23h ago"),
        (timedelta(days=1), "1d ago"),
        (timedelta(days=400), "400d ago"),
        (timedelta(seconds=-30), "0s ago"),  # a moment from a clock ahead of ours
        (timedelta(hours=-5), "0s ago"),
    ],
)
def test_an_age(ago: timedelta, shown: str) -> None:
    assert format_age(NOW - ago, NOW) == shown


def test_an_unknown_moment_has_no_age() -> None:
    assert format_age(None, NOW) == "-"


@pytest.mark.parametrize(
    ("count", "shown"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (46285, "45.2 KiB"),
        (10 * 1024**3, "10.0 GiB"),
        (3 * 1024**4, "3.0 TiB"),
    ],
)
def test_a_size(count: int, shown: str) -> None:
    assert format_bytes(count) == shown


def test_a_count() -> None:
    assert plural(0, "run") == "0 runs"
    assert plural(1, "run") == "1 run"
    assert plural(1200, "line") == "1,200 lines"
    assert plural(2, "match", "matches") == "2 matches"


def test_numbers_in_full_and_at_a_glance() -> None:
    assert format_number(0.873456789) == "0.873457"
    assert format_number(1e-9) == "1e-09"
    assert [format_metric(v) for v in (0.87412, 12.5, 1204.0, 0.0, None)] == [
        "0.8741",
        "12.5",
        "1204",
        "0",
        "-",
    ]
    assert format_metric(123456.0) == "1.23e+05"
    assert format_metric(-0.0001234) == "-0.000123"
    assert [format_delta(d) for d in (0.06, -0.2182, 0.0, -0.0987412, 0.00001, 12.34, None)] == [
        "+0.06",
        "-0.2182",
        "±0",
        "-0.0987",
        "+0.0000",
        "+12.34",
        "",
    ]
