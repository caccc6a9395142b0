"""Counting a search's matches over a real task log, with live lines arriving meanwhile."""

from __future__ import annotations

from shipdeck.tui.log.matches import LogMatches, LogQuery
from tests.tui.conftest import Demo


async def test_count_with_live_lines_before_and_after_the_scan(demo: Demo) -> None:
    run = await demo.runner.start_run("chatty", {"lines": "40"}, trigger="test")
    demo.gate.touch()
    await demo.runner.wait_run(run.id)
    lines = (await demo.runner.read_log(run.id, "talk", limit=None)).lines
    expected = [line.n for line in lines if "ok" in line.text]
    assert 30 < len(expected) < 40  # line 7 says "error: boom" instead

    matches = LogMatches(LogQuery("ok"))
    matches.add_live(lines[:10])  # the tail of a short log, before the runner reads it again
    matches.add_live(lines[20:25])  # beyond what was looked at: the runner will read these
    last = lines[-1].n
    early = lines[-1].model_copy(update={"n": last + 1, "text": "ok, came before the count"})
    matches.add_live([early])  # in the events before the page that ends the count was read
    await matches.count(demo.runner, run.id, "talk")
    assert list(matches.lines) == [*expected, last + 1] and matches.done

    live = [lines[-1].model_copy(update={"n": n, "text": "ok"}) for n in (last + 2, last + 6)]
    assert matches.add_live(live)  # last + 6 leaves a gap: the runner must search again
    assert list(matches.lines) == [*expected, last + 1, last + 2]
    assert matches.position(expected[2]) == 3
    assert matches.position(7) is None  # not a match
    assert matches.position(None) is None
    assert matches.after(8) == min(n for n in expected if n >= 8)
    assert matches.before(8) == max(n for n in expected if n <= 8)
    assert 8 in expected and matches.before(7) == max(n for n in expected if n < 8)
