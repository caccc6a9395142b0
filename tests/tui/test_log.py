"""The log view: follow, search with n/N, wrap, timestamps, first error, live tail, paging."""

from __future__ import annotations

import pytest

from shipdeck.tui.log import buffer as log_buffer
from shipdeck.tui.log.buffer import PAGE
from shipdeck.tui.log.view import LogView
from shipdeck.tui.screens.log import LogScreen
from tests.tui.conftest import Demo, wait_for


async def open_log(app: object, pilot: object, run_id: str, task: str) -> LogView:
    from shipdeck.tui.app import ShipdeckApp

    assert isinstance(app, ShipdeckApp)
    await app.push_screen(LogScreen(run_id, task))
    view = app.screen.query_one(LogView)
    await wait_for(pilot, lambda: view._opened, "the log to open")  # type: ignore[arg-type]
    return view


def rendered(view: LogView) -> list[str]:
    return [view.render_line(y).text.rstrip() for y in range(view.size.height)]


async def test_live_tail_follow_and_finish(demo: Demo) -> None:
    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        run = await demo.runner.start_run("chatty", {"lines": "200"}, trigger="test")
        view = await open_log(app, pilot, run.id, "talk")
        assert view.follow  # a running task opens following its tail
        await wait_for(pilot, lambda: view.buffer.total == 200, "200 lines")
        await wait_for(pilot, lambda: "line 199 ok" in rendered(view), "the tail on screen")

        await pilot.press("f")
        assert not view.follow
        await pilot.press("g")
        await wait_for(pilot, lambda: rendered(view)[0] == "line 0 ok", "the top")
        await pilot.press("G")
        assert view.follow
        await wait_for(pilot, lambda: "line 199 ok" in rendered(view), "the tail again")
        assert not view.buffer.finished
        demo.gate.touch()
        await wait_for(pilot, lambda: view.buffer.finished, "the task to finish")


async def test_search_highlights_and_n_and_shift_n_move_between_matches(demo: Demo) -> None:
    failed = await demo.run("train", flaky="true")
    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_log(app, pilot, failed.run.id, "train_b")
        await pilot.press("slash")
        await pilot.press(*"step=1")
        await pilot.press("enter")
        await wait_for(pilot, lambda: view.match_line is not None, "the first match")
        assert view.has_focus
        lines = (await demo.runner.read_log(failed.run.id, "train_b", limit=None)).lines
        matches = [line.n for line in lines if "step=1" in line.text]
        assert len(matches) >= 3  # step=1, step=10, step=11, step=12
        first = view.match_line
        assert first in matches
        await pilot.press("n")
        await wait_for(pilot, lambda: view.match_line != first, "the next match")
        second = view.match_line
        assert second is not None and second > first and second in matches
        await pilot.press("N")
        await wait_for(pilot, lambda: view.match_line == first, "back to the first")
        strip = view.render_line(first - int(view.scroll_y))
        highlighted = [seg for seg in strip if seg.text == "step=1"]
        assert highlighted and highlighted[0].style and highlighted[0].style.bgcolor

        status = app.screen.query_one(".log-status")
        position = f"/step=1 {matches.index(first) + 1}/{len(matches)}"
        await wait_for(pilot, lambda: position in str(status.render()), "the match count")

        await pilot.press("slash", *"no such text", "enter")
        await wait_for(pilot, lambda: "no matches" in str(status.render()), "zero matches")


async def test_first_error_wrap_and_timestamps(demo: Demo) -> None:
    app = demo.app()
    async with app.run_test(size=(26, 24)) as pilot:
        run = await demo.runner.start_run("chatty", {"lines": "100"}, trigger="test")
        demo.gate.touch()
        await demo.runner.wait_run(run.id)
        view = await open_log(app, pilot, run.id, "talk")
        await pilot.press("e")
        await wait_for(pilot, lambda: "line 7 error: boom" in rendered(view), "the error line")
        assert not view.follow

        await pilot.press("t")
        assert view.timestamps
        await wait_for(
            pilot,
            lambda: any(r[2:3] == ":" and r[5:6] == ":" for r in rendered(view)),
            "timestamps",
        )
        await pilot.press("w")
        assert view.wrap

        def wrapped() -> bool:
            rows = rendered(view)
            joined = "".join(rows)
            return "line 7 error: boom" in joined and not any(
                "line 7 error: boom" in r for r in rows
            )

        await wait_for(pilot, wrapped, "line 7 wrapped over two rows")
        await pilot.press("w", "t")
        assert not view.wrap and not view.timestamps


async def test_failed_run_opens_at_the_end_of_the_failed_tasks_log(demo: Demo) -> None:
    failed = await demo.run("train", flaky="true")
    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_log(app, pilot, failed.run.id, "train_b")
        assert not view.follow
        await wait_for(pilot, lambda: "exit 1" in "\n".join(rendered(view)), "the end")


async def test_a_long_log_holds_only_a_few_pages(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log_buffer, "MAX_PAGES", 4)
    total = PAGE * (4 + 6)
    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        run = await demo.runner.start_run("chatty", {"lines": str(total)}, trigger="test")
        demo.gate.touch()
        await demo.runner.wait_run(run.id)
        view = await open_log(app, pilot, run.id, "talk")
        assert view.buffer.total == total
        await pilot.press("g")
        await wait_for(pilot, lambda: rendered(view)[0] == "line 0 ok", "the first page")
        for _ in range(4 + 4):
            await pilot.press("pagedown")
            view.scroll_to(y=view.scroll_y + PAGE, animate=False, immediate=True)
            await pilot.pause()
        held = sum(len(page) for page in view.buffer._pages.values())
        assert held <= 4 * PAGE
        top = int(view.scroll_y)
        await wait_for(pilot, lambda: rendered(view)[0] == f"line {top} ok", "the page in view")


async def test_search_scrolls_sideways_to_a_match_past_the_right_edge(demo: Demo) -> None:
    failed = await demo.run("train", flaky="true")
    lines = (await demo.runner.read_log(failed.run.id, "train_b", limit=None)).lines
    errno = next(line for line in lines if "[Errno" in line.text)
    column = errno.text.index("[Errno")
    assert column + len("[Errno") > 80  # beyond the right edge of an 80-column view
    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_log(app, pilot, failed.run.id, "train_b")
        await pilot.press("slash", *"[Errno", "enter")
        await wait_for(pilot, lambda: view.match_line == errno.n, "the match")
        await wait_for(pilot, lambda: view.scroll_x > 0, "a sideways scroll")
        width = view.scrollable_content_region.width
        assert view.scroll_x <= column and column + len("[Errno") <= view.scroll_x + width
        row = rendered(view)[errno.n - int(view.scroll_y)]
        assert "[Errno" in row  # on screen, not past the edge

        await pilot.press("slash", *"step=1", "enter")  # fits: back to the first column
        await wait_for(pilot, lambda: view.scroll_x == 0, "the left edge")
        assert view.match_line is not None and view.match_line < errno.n
        assert "step=1" in rendered(view)[view.match_line - int(view.scroll_y)]

        await pilot.press("w")  # wrapped lines need no sideways scroll
        await pilot.press("slash", *"[Errno", "enter")
        await wait_for(pilot, lambda: view.match_line == errno.n, "the match, wrapped")
        assert view.scroll_x == 0


async def test_keys_typed_right_after_slash_land_in_the_search_box(demo: Demo) -> None:
    """Type-ahead: the keys are all queued before the app handles `/` (a fast typist, a
    paste, tmux send-keys); none may go to the log as commands (`w` wrap, `n` next)."""
    from textual import events

    failed = await demo.run("train", flaky="true")
    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_log(app, pilot, failed.run.id, "train_b")
        for key, char in [("slash", "/"), *((c, c) for c in "wnew"), ("enter", "\r")]:
            app.post_message(events.Key(key, char))
        await wait_for(pilot, lambda: view.pattern == "wnew", "the search for 'wnew'")
        assert not view.wrap


async def test_n_and_shift_n_go_on_from_where_the_view_is_and_wrap(demo: Demo) -> None:
    run = await demo.runner.start_run("chatty", {"lines": "300"}, trigger="test")
    demo.gate.touch()
    await demo.runner.wait_run(run.id)
    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_log(app, pilot, run.id, "talk")  # at the tail
        await pilot.press("slash", *"5 ok", "enter")
        await wait_for(pilot, lambda: view.match_line is not None, "a match")
        assert view.match_line == 285  # the first one on screen, not line 5
        await pilot.press("g")  # scrolled away: n goes on from the top of the view
        await wait_for(pilot, lambda: rendered(view)[0] == "line 0 ok", "the top")
        await pilot.press("n")
        await wait_for(pilot, lambda: view.match_line == 5, "line 5")
        await pilot.press("N")  # nothing above: wraps around to the last match
        await wait_for(pilot, lambda: view.match_line == 295, "the last match")
        assert view.note == "wrapped to the end"
