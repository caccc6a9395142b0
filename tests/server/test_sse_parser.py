"""The SSE parser: the same events however the bytes are cut."""

from __future__ import annotations

import pytest

from shipdeck.runners.link import ServerEvent
from shipdeck.runners.sse import SSEParser

STREAM = (
    b"retry: 1000\n: connected\n\n"
    b"id: 7\nevent: events\ndata: [1, 2]\n\n"
    b"data: first\r\ndata:second\r\ndata\r\ndata:  indented\r\n\r\n"
    b"event: reset\rid: 9\rdata: {}\r\r"
    b": heartbeat\n\n"
    b"event: lonely\n\n"
    b"id: bad\0id\nunknown: field\ndata: last\n\n"
    b"data: \xc3\xa9t\xc3\xa9\n\n"
)
EXPECTED = [
    ServerEvent("events", "[1, 2]", "7"),
    ServerEvent("message", "first\nsecond\n\n indented", "7"),
    ServerEvent("reset", "{}", "9"),
    ServerEvent("message", "last", "9"),  # an id with NUL is ignored; the last one carries on
    ServerEvent("message", "été", "9"),
]


def feed_in(pieces: list[bytes]) -> list[ServerEvent]:
    parser = SSEParser()
    return [event for piece in pieces for event in parser.feed(piece)]


def test_whole_stream() -> None:
    assert feed_in([STREAM]) == EXPECTED


def test_byte_by_byte() -> None:
    assert feed_in([STREAM[i : i + 1] for i in range(len(STREAM))]) == EXPECTED


@pytest.mark.parametrize("size", [2, 3, 5, 7, 11, 64])
def test_every_cut(size: int) -> None:
    assert feed_in([STREAM[i : i + size] for i in range(0, len(STREAM), size)]) == EXPECTED


def test_crlf_split_between_chunks_is_one_line_end() -> None:
    assert feed_in([b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]) == [ServerEvent(data="a\nb")]


def test_an_unfinished_event_is_not_dispatched() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: a\ndata: b\n") == []
    assert parser.feed(b"data: c") == []
    assert parser.feed(b"\n\n") == [ServerEvent(data="a\nb\nc")]
