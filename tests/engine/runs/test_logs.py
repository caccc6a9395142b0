"""Durable logs: one file per task, read by line ranges through an incremental index."""

from __future__ import annotations

import subprocess
from pathlib import Path

from shipdeck.engine.runs.logfile import LogIndex, LogWriter, format_ts
from shipdeck.errors import NotFound
from shipdeck.model import LogStream
from tests.engine.conftest import Engines, task, workspace


def write_big_log(path: Path, lines: int) -> None:
    stamp = format_ts(1_700_000_000.0)
    with path.open("w") as handle:
        subprocess.run(
            ["seq", "-f", f"{stamp} O line %.0f", "0", str(lines - 1)], stdout=handle, check=True
        )


def test_tail_of_a_million_line_log(tmp_path: Path) -> None:
    path = tmp_path / "big.log"
    write_big_log(path, 1_000_000)
    index = LogIndex(path)
    start, lines = index.read(-3, 10)
    assert start == 999_997
    assert [(line.n, line.text) for line in lines] == [
        (999_997, "line 999997"),
        (999_998, "line 999998"),
        (999_999, "line 999999"),
    ]
    assert lines[0].stream == LogStream.OUT
    assert lines[0].ts.timestamp() == 1_700_000_000.0
    assert index.read(500_000, 1)[1][0].text == "line 500000"
    # The offsets are kept compactly, not as strings.
    assert index._offsets.itemsize == 8 and len(index._offsets) == 1_000_000


def test_index_grows_with_the_file_and_ignores_a_partial_line(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    writer = LogWriter(path)
    writer.write(1.0, LogStream.OUT, ["one"])
    writer.write(2.0, LogStream.ERR, ["two"])
    index = LogIndex(path)
    assert index.refresh() == 2
    with path.open("a") as handle:
        handle.write(f"{format_ts(3.0)} S thr")
    assert index.refresh() == 2
    with path.open("a") as handle:
        handle.write("ee\n")
    start, lines = index.read(1, None)
    assert start == 1
    assert [(line.n, line.stream.value, line.text) for line in lines] == [
        (1, "err", "two"),
        (2, "sys", "three"),
    ]
    # A new writer continues the numbering of an existing file.
    again = LogWriter(path)
    assert again.write(4.0, LogStream.OUT, ["four"]) == 3
    again.close()
    writer.close()


def test_a_torn_last_line_is_ended_before_appending(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_text(f"{format_ts(1.0)} O whole\n{format_ts(2.0)} O tor")
    writer = LogWriter(path)
    assert writer.write(3.0, LogStream.SYS, ["interrupted"]) == 2
    writer.close()
    texts = [line.text for line in LogIndex(path).read(0, None)[1]]
    assert texts == ["whole", "tor", "interrupted"]


def test_range_edges(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    writer = LogWriter(path)
    writer.write(1.0, LogStream.OUT, [f"l{n}" for n in range(10)])
    writer.close()
    index = LogIndex(path)
    assert [line.text for line in index.read(8, 5)[1]] == ["l8", "l9"]
    assert index.read(20, 5) == (10, [])
    assert [line.text for line in index.read(-100, 2)[1]] == ["l0", "l1"]
    assert index.read(3, 0) == (3, [])
    assert LogIndex(tmp_path / "missing.log").read(0, 10) == (0, [])


async def test_read_log_through_the_engine(tmp_path: Path, engines: Engines) -> None:
    engine = engines.open(workspace(tmp_path, task("a", "seq 1 50"), task("quiet", "true")))
    run = await engine.wait_run(engine.start_run("p", {}).id)
    chunk = engine.read_log(run.id, "a", start=-5, limit=3)
    assert (chunk.start, chunk.total, chunk.finished) == (45, 50, True)
    assert [line.text for line in chunk.lines] == ["46", "47", "48"]
    head = engine.read_log(run.id, "a", start=0, limit=2)
    assert [line.text for line in head.lines] == ["1", "2"]
    empty = engine.read_log(run.id, "quiet")
    assert (empty.total, empty.lines, empty.finished) == (0, [], True)
    for bad_task, bad_run in (("nope", run.id), ("a", "999")):
        try:
            engine.read_log(bad_run, bad_task)
        except NotFound:
            pass
        else:
            raise AssertionError("expected NotFound")


async def test_log_lines_arrive_as_numbered_events(tmp_path: Path, engines: Engines) -> None:
    engine = engines.open(workspace(tmp_path, task("a", "echo one; echo two >&2")))
    after = engine.last_seq()
    run = await engine.wait_run(engine.start_run("p", {}).id)
    page = await engine.wait_events(after, wait=0)
    logs = [e for e in page.events if e.kind == "log"]
    assert sorted((e.data.n, e.data.stream, e.data.text) for e in logs) == [
        (0, "out", "one"),
        (1, "err", "two"),
    ] or sorted((e.data.n, e.data.stream, e.data.text) for e in logs) == [
        (0, "err", "two"),
        (1, "out", "one"),
    ]
    assert all(e.run_id == run.id and e.task == "a" and len(e.data.ts) == 24 for e in logs)
    file_lines = engine.read_log(run.id, "a").lines
    assert {(line.n, line.text) for line in file_lines} == {(e.data.n, e.data.text) for e in logs}
