"""Searching a stored log as bytes gives exactly the lines whose visible text matches: checked
against reading every line and matching its visible text, on awkward lines and random ones."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shipdeck.engine.runs import logsearch
from shipdeck.engine.runs.log_hits import byte_sets, stays_in_line
from shipdeck.engine.runs.logfile import LogIndex, LogWriter
from shipdeck.engine.runs.logsearch import LogScanner, prepare
from shipdeck.errors import InvalidInput
from shipdeck.logtext import compile_search, visible
from shipdeck.model import LogStream

AWKWARD = [
    "plain boom line",
    "\x1b[31mFAI\x1b[0mLED in the middle of a word",
    "FAILED, plainly",
    "progress boom 10%\rprogress 100%",  # boom only in a frame that is overwritten
    "\x1b]0;boom in a window title\x07visible part",
    "tab\tseparated\tboom",
    "caf\u00e9 CAF\u00c9 na\u00efve",
    "\u212a is the Kelvin sign, k is not",  # folds to k in a str search
    "c1 \u009b31mcontrol\u009d0;title\u009c after",
    "2024-05-01T12:00:00.123Z O looks like a prefix inside the text",
    "ends with boom",
    "boom",
    "",
    "\x1b[1m\x1b[32m",  # codes only: shows nothing
    "bell\x07 and back\x08space",
    "O boom",
    "unterminated \x1b]0;title boom",
]
PATTERNS: list[tuple[str, bool]] = [
    ("boom", False),
    ("Boom", False),
    ("failed", False),
    ("FAILED", False),
    ("k", False),
    ("caf\u00e9", False),
    ("CAF\u00c9", False),
    ("Z O", False),
    ("2024", False),
    ("tab\tsep", False),
    ("\t", False),
    (" ", False),
    ("b.om", True),
    ("^boom", True),
    ("boom$", True),
    ("^$", True),
    (r"\bO\b", True),
    (r"c\w+", True),
    (r"caf.", True),
    (r"boom(?=\s|$)", True),
    (r"(?<=O )boom", True),
    (r"\Aprogress", True),
    ("x*", True),
    (r"(?s)ends.*boom", True),
    (r"\s+boom", True),
    (r"[^a-z]+", True),
]


def write_log(path: Path, texts: list[str]) -> LogIndex:
    writer = LogWriter(path)
    for i, text in enumerate(texts):
        writer.write(time.time(), LogStream.ERR if i % 3 else LogStream.OUT, [text])
    writer.close()
    index = LogIndex(path)
    index.refresh()
    return index


def expected(index: LogIndex, pattern: str, regex: bool, ignore_case: bool | None) -> list[int]:
    search = compile_search(pattern, regex=regex, ignore_case=ignore_case)
    return [line.n for line in index.read(0, None)[1] if search.search(visible(line.text))]


def search_all(scanner: LogScanner, search: logsearch.LogSearch, limit: int) -> list[int]:
    found: list[int] = []
    line = 0
    while line < scanner.index.total:
        page = scanner.search(search, line, scanner.index.total, limit=limit)
        assert page.lines == sorted(page.lines) and len(page.lines) <= limit
        assert all(line <= n < page.next for n in page.lines)
        found += page.lines
        assert page.next > line
        line = page.next
    return found


@pytest.mark.parametrize("chunk", [64, 4 << 20])
def test_awkward_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    monkeypatch.setattr(logsearch, "CHUNK_BYTES", chunk)  # chunk edges inside the test log
    texts = AWKWARD * 40
    index = write_log(tmp_path / "awkward.log", texts)
    with (tmp_path / "awkward.log").open("ab") as handle:
        handle.write(b"a hand-written line with boom, no prefix\n")
        handle.write(b"invalid utf-8 \xff\xfe boom \xc3\n")
    index.refresh()
    scanner = LogScanner(index)
    for pattern, regex in PATTERNS:
        for ignore_case in (None, True, False):
            search = prepare(pattern, regex=regex, ignore_case=ignore_case)
            want = expected(index, pattern, regex, ignore_case)
            for limit in (3, 10_000):
                got = search_all(scanner, search, limit)
                assert got == want, (pattern, regex, ignore_case, limit)
    # What the bytes alone would have got wrong, the text got right:
    assert expected(index, "failed", False, None)[:2] == [1, 2]  # split by a colour code
    assert 3 not in expected(index, "boom", False, None)  # overwritten by \r
    assert 4 not in expected(index, "boom", False, None)  # in a window title
    assert 7 in expected(index, "k", False, None)  # Kelvin sign folds to k
    assert expected(index, "2024", False, None)[:1] == [9]  # the text, not the prefix


def test_a_search_page_goes_on_where_it_stopped(tmp_path: Path) -> None:
    index = write_log(
        tmp_path / "many.log", [f"line {i} {'boom' if i % 7 == 0 else ''}" for i in range(5000)]
    )
    scanner = LogScanner(index)
    search = prepare("boom")
    page = scanner.search(search, 0, index.total, limit=10)
    assert page.lines == list(range(0, 70, 7)) and page.next == 64
    page = scanner.search(search, page.next, index.total, limit=10)
    assert page.lines == list(range(70, 140, 7))
    small = scanner.search(search, 0, index.total, limit=10_000, page_bytes=1)
    assert small.next < index.total and small.lines == [n for n in range(0, small.next, 7)]
    window = scanner.search(search, 100, 200, limit=10_000)
    assert window.lines == [n for n in range(100, 200) if n % 7 == 0] and window.next == 200
    assert scanner.search(search, 6000, 7000, limit=5).lines == []


def test_dense_matches_with_hits_in_every_prefix(tmp_path: Path) -> None:
    """Half the lines say "zone"; every line's prefix has a Z (its timestamp) and a space: a
    search that folds case must count the texts only, also where it goes line by line."""
    texts = [f"{i} {'zone' if i % 2 else 'area'}" for i in range(3000)]
    index = write_log(tmp_path / "dense.log", texts)
    scanner = LogScanner(index)
    for pattern in ("z", "Z", "zone", " ", "area", "Area", "t1"):
        for ignore_case in (None, True, False):
            search = prepare(pattern, ignore_case=ignore_case)
            assert search_all(scanner, search, 100_000) == expected(
                index, pattern, False, ignore_case
            ), (pattern, ignore_case)


def test_bad_patterns_are_refused() -> None:
    for pattern, regex in [("", False), ("(", True), ("\x1b[31m", False), ("a\nb", False)]:
        with pytest.raises(InvalidInput):
            prepare(pattern, regex=regex)


PIECES = [
    "a", "b", "B", "x", " ", "\t", "boom", "\x1b[31m", "\x1b[0m", "\x1b]0;t\x07", "\r",
    "\x07", "\u00e9", "\u00c9", "\u212a", "k", "\u009b1m", "\x1b", "[", "O ", "Z",
]  # fmt: skip


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    texts=st.lists(st.lists(st.sampled_from(PIECES), max_size=8).map("".join), max_size=40),
    pattern=st.lists(
        st.sampled_from(
            ["a", "b", "B", "o", "m", " ", "k", "x", "\u00e9", ".", "*", "^", "$", "+"]
        ),
        min_size=1,
        max_size=4,
    ).map("".join),
    regex=st.booleans(),
)
def test_random_lines_and_patterns(
    tmp_path_factory: pytest.TempPathFactory, texts: list[str], pattern: str, regex: bool
) -> None:
    try:
        search = prepare(pattern, regex=regex)
    except InvalidInput:
        return
    index = write_log(tmp_path_factory.mktemp("random") / "r.log", texts)
    want = expected(index, pattern, regex, None)
    assert search_all(LogScanner(index), search, 7) == want


def test_a_million_lines(tmp_path: Path) -> None:
    """At size, with a few coloured lines: the same lines as reading them all."""
    path = tmp_path / "big.log"
    stamp = "2024-05-01T12:00:00.000Z"
    with path.open("w") as handle:
        for i in range(1_000_000):
            colour = "\x1b[31m" if i % 50_000 == 1 else ""
            handle.write(
                f"{stamp} O {colour}line {i} {'bo' + colour + 'om' if i % 997 == 0 else 'ok'}\n"
            )
    index = LogIndex(path)
    index.refresh()
    scanner = LogScanner(index)
    found = search_all(scanner, prepare("boom"), 10_000)
    assert found == [i for i in range(1_000_000) if i % 997 == 0]
    assert len(search_all(scanner, prepare("ok"), 100_000)) == 1_000_000 - len(found)
    assert search_all(scanner, prepare(r"line 99999\d \w+$", regex=True), 10) == list(
        range(999_990, 1_000_000)
    )


def test_plain_and_coloured_blocks_give_the_same_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same texts, once plain (blocks without an escape byte: matched as bytes, whole
    arrays at a time) and once coloured (matched as visible text): the same matches."""
    monkeypatch.setattr(logsearch, "CHUNK_BYTES", 4096)
    plain = [
        f"{i:04d} {'boom' if i % 3 else 'calm'} fox{' FAILED' if i % 5 == 0 else ''}"
        for i in range(600)
    ]
    coloured = [f"\x1b[3{i % 8}m{text}\x1b[0m" for i, text in enumerate(plain)]
    index = write_log(tmp_path / "mixed.log", plain + coloured)
    scanner = LogScanner(index)
    for pattern, regex, ignore_case in [
        ("boom", False, None), ("BOOM", False, True), ("failed", False, None),
        ("fox", False, False),
        (r"\d{4} b.om", True, None), (r"FAIL(ED)?$", True, None), (r"o\w", True, False),
    ]:  # fmt: skip
        search = prepare(pattern, regex=regex, ignore_case=ignore_case)
        found = search_all(scanner, search, 1_000_000)
        assert found == expected(index, pattern, regex, ignore_case), pattern
        first = [n for n in found if n < len(plain)]
        assert [n - len(plain) for n in found if n >= len(plain)] == first, pattern
        assert first, pattern


def test_hits_at_block_edges_and_across_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocks end between lines: a hit on the first or last line of a block, and a regular
    expression whose match may run over a line end (checked line by line), are found as
    reading every line finds them."""
    texts = [f"boom at {i}" if i % 2 else f"{i} ends with boom" for i in range(400)]
    index = write_log(tmp_path / "edges.log", texts)
    line_bytes = len(index.offsets) and index.offsets[1] - index.offsets[0]
    for chunk in (line_bytes, line_bytes * 3 - 1, line_bytes * 7 + 5):
        monkeypatch.setattr(logsearch, "CHUNK_BYTES", chunk)
        scanner = LogScanner(index)
        for pattern, regex in [("boom", False), ("boom$", True), (r"\s+boom", True),
                               (r"m\s*\d", True), (r"[^a-z]+", True), ("x*", True)]:  # fmt: skip
            want = expected(index, pattern, regex, None)
            assert search_all(scanner, prepare(pattern, regex=regex), 5) == want, (chunk, pattern)


def test_crlf_lines_and_a_last_line_without_a_newline(tmp_path: Path) -> None:
    """Lines ending in CRLF (written by hand, not by the engine) match as their visible text
    does; a last line without its newline is not a line yet (as for reading), until it ends."""
    path = tmp_path / "crlf.log"
    stamp = "2024-05-01T12:00:00.000Z O "
    path.write_bytes(
        f"{stamp}first boom\r\n{stamp}second\r\nno prefix boom\r\n{stamp}boom\n".encode()
        + f"{stamp}tail boom".encode()
    )
    index = LogIndex(path)
    index.refresh()
    scanner = LogScanner(index)
    for pattern, regex in [("boom", False), ("second", False), ("boom$", True), (r"\w+", True)]:
        assert search_all(scanner, prepare(pattern, regex=regex), 10) == expected(
            index, pattern, regex, None
        ), pattern
    assert index.total == 4 and 4 not in search_all(scanner, prepare("tail"), 10)
    with path.open("ab") as handle:
        handle.write(b"\n")
    index.refresh()
    assert search_all(LogScanner(index), prepare("tail"), 10) == [4]


def test_which_patterns_stay_in_one_line() -> None:
    """Only a pattern whose every match is non-empty and inside one line is matched by its
    start offsets alone; anything else goes match by match."""
    for source, inside in [
        (rb"b.om", True), (rb"error=T.ue", True), (rb"[0-9]+ the", True), (rb"\w+\d", True),
        (rb"[^\n]+x", True), (rb"(a|b)c", True), (rb"\s+boom", False), (rb"[^a-z]+", False),
        (rb"x*", False), (rb"(?s)a.b", False), (rb"a\nb", False), (rb"\bO\b", True),
        (rb"(a)\1", False), (rb"\D", False), (rb"[\S]", True),
    ]:  # fmt: skip
        assert stays_in_line(re.compile(source, re.MULTILINE)) is inside, source


def test_dense_matches_come_as_runs(tmp_path: Path) -> None:
    """Where most lines match, a page carries runs of lines, not every number."""
    index = write_log(tmp_path / "dense.log", ["" if i % 10 == 9 else "fox" for i in range(2000)])
    page = LogScanner(index).search(prepare("fox"), 0, index.total, limit=100_000)
    assert page.next == 2000 and len(page.spans) == 2 * 200
    assert page.spans[:4] == [0, 9, 10, 19] and len(page.lines) == 1800


def test_fixed_width_patterns_match_as_the_text_does(tmp_path: Path) -> None:
    """A regular expression of fixed width is found by comparing bytes position by position
    (`byte_sets`); also where its bytes are in every line's timestamp prefix."""
    assert byte_sets(re.compile(rb"b.om")) is not None
    assert byte_sets(re.compile(rb"[0-9]{4}-\d", re.IGNORECASE)) is not None
    for variable in (rb"a+", rb"a|bc", rb"a$", rb"\ba", rb"a{1,2}", rb"(?i:a)b", rb"(a)\1"):
        assert byte_sets(re.compile(variable)) is None, variable
    texts = [
        f"{i} error={i % 3 == 0} at 12:0{i % 10} {'Boom' if i % 4 else 'bOOm'}" for i in range(500)
    ]
    index = write_log(
        tmp_path / "fixed.log", [*texts, "\x1b[1merror=True\x1b[0m", "caf\u00e9 12:34"]
    )
    scanner = LogScanner(index)
    for pattern in [r"error=T.ue", r"b[o0]om", r"\d\d:\d\d", r"Z O", r"[0-9]{3} e", r"caf.", r"O"]:
        for ignore_case in (None, True, False):
            search = prepare(pattern, regex=True, ignore_case=ignore_case)
            assert search_all(scanner, search, 50) == expected(index, pattern, True, ignore_case), (
                pattern,
                ignore_case,
            )
