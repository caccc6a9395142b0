"""Counting a search's matches over a real task log, with live lines arriving meanwhile."""

from __future__ import annotations

from shipdeck.logtext import compile_search
from shipdeck.tui.log_buffer import LogBuffer
from shipdeck.tui.log_matches import LogMatches
from tests.tui.conftest import Demo


async def test_count_with_live_lines_before_and_after_the_scan(demo: Demo) -> None:
    run = await demo.runner.start_run("chatty", {"lines": "40"}, trigger="test")
    demo.gate.touch()
    await demo.runner.wait_run(run.id)
    lines = (await demo.runner.read_log(run.id, "talk", limit=None)).lines
    expected = [line.n for line in lines if "ok" in line.text]
    assert 30 < len(expected) < 40  # line 7 says "error: boom" instead

    matches = LogMatches(compile_search("ok"))
    matches.add_live(lines[:10])  # the tail of a short log, before the scan reads it again
    matches.add_live(lines[20:25])  # beyond what was looked at: the scan will read these
    await matches.count(LogBuffer(demo.runner, run.id, "talk"))
    assert list(matches.lines) == expected and matches.done

    last = lines[-1].n
    live = [lines[-1].model_copy(update={"n": n, "text": "ok"}) for n in (last + 1, last + 5)]
    matches.add_live(live)
    assert list(matches.lines) == [*expected, last + 1]
    assert matches.position(expected[2]) == 3
    assert matches.position(7) is None  # not a match
    assert matches.position(None) is None
