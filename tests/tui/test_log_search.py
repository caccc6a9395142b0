"""The log view's search through the runner: filter mode, regular expressions, matching what
lines show, and a long log searched without reading it into the view."""

from __future__ import annotations

import re

import pytest

from shipdeck.runners.local import LocalRunner
from tests.tui.conftest import Demo, wait_for
from tests.tui.test_log import open_log, rendered
from tests.tui.test_log_colours import coloured  # noqa: F401  (fixture)


def status_text(app: object) -> str:
    return str(app.screen.query_one(".log-status").render())  # type: ignore[attr-defined]


async def test_filter_shows_only_matching_lines_with_their_numbers(demo: Demo) -> None:
    run = await demo.runner.start_run("chatty", {"lines": "300"}, trigger="test")
    demo.gate.touch()
    await demo.runner.wait_run(run.id)
    lines = (await demo.runner.read_log(run.id, "talk", limit=None)).lines
    wanted = [line for line in lines if "5 ok" in line.text]
    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_log(app, pilot, run.id, "talk")
        await pilot.press("ampersand")  # no search yet: the box opens, the filter applies
        await pilot.press(*"5 ok", "enter")
        await wait_for(pilot, lambda: view._row_count() == len(wanted), "the filtered rows")
        assert "FILTER" in status_text(app)
        await pilot.press("g")

        def shown() -> list[str]:
            return [row for row in rendered(view) if row]

        expected = [f"{line.n + 1:>3} {line.text}" for line in wanted][: view.size.height]
        await wait_for(pilot, lambda: shown() == expected, "numbered matching lines")

        await pilot.press("n")  # from the top row: the first match
        await wait_for(pilot, lambda: view.match_line == wanted[0].n, "the first match")
        await pilot.press("n")
        await wait_for(pilot, lambda: view.match_line == wanted[1].n, "the second match")
        await pilot.press("ampersand")  # all lines again, on the same match
        await wait_for(pilot, lambda: view._row_count() == len(lines), "every line")
        assert "FILTER" not in status_text(app)
        top = int(view.scroll_y)
        assert top <= wanted[1].n < top + view.size.height
        assert any(row == wanted[1].text for row in rendered(view))


async def test_regex_search_and_its_toggle_in_the_box(demo: Demo) -> None:
    run = await demo.runner.start_run("chatty", {"lines": "300"}, trigger="test")
    demo.gate.touch()
    await demo.runner.wait_run(run.id)
    lines = (await demo.runner.read_log(run.id, "talk", limit=None)).lines
    wanted = [line.n for line in lines if re.fullmatch(r"line 1\d7 ok", line.text)]
    assert len(wanted) == 10
    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_log(app, pilot, run.id, "talk")
        await pilot.press("slash", "ctrl+t")  # toggled while typing in the search box
        assert view.regex
        await pilot.press(*r"^line 1\d7 ok$", "enter")
        await wait_for(pilot, lambda: "REGEX" in status_text(app), "the regex flag")
        await wait_for(pilot, lambda: f"1/{len(wanted)}" in status_text(app), "the count")
        assert view.match_line == wanted[0]

        await pilot.press("ctrl+t")  # back to plain text: the same pattern, literally
        assert not view.regex
        await wait_for(pilot, lambda: "no matches" in status_text(app), "no literal match")

        await pilot.press("ctrl+t", "slash", *"line (", "enter")
        await wait_for(pilot, lambda: "not a valid regular expression" in status_text(app), "error")
        assert view.pattern == r"^line 1\d7 ok$"  # the last good search stays


async def test_search_matches_the_text_not_the_codes(coloured: Demo) -> None:  # noqa: F811
    detail = await coloured.run("hostile")
    lines = (await coloured.runner.read_log(detail.run.id, "print", limit=None)).lines
    failed = next(line.n for line in lines if "FAILED" in line.text)
    app = coloured.app()
    async with app.run_test(size=(60, 20)) as pilot:
        view = await open_log(app, pilot, detail.run.id, "print")
        await pilot.press("slash", *"31m", "enter")  # a colour code is not text
        await wait_for(pilot, lambda: "no matches" in status_text(app), "no match in codes")
        await pilot.press("slash", *"pwned", "enter")  # nor is a window title
        await wait_for(pilot, lambda: "no matches" in status_text(app), "no match in a title")
        await pilot.press("slash", *"FAILED in red", "enter")
        await wait_for(pilot, lambda: view.match_line == failed, "the coloured line")
        row = rendered(view)[failed - int(view.scroll_y)]
        assert row.startswith("FAILED in red")


async def test_a_long_log_is_searched_by_the_runner_not_read_into_the_view(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    total = 30_000
    run = await demo.runner.start_run("chatty", {"lines": str(total)}, trigger="test")
    demo.gate.touch()
    await demo.runner.wait_run(run.id)
    runner: LocalRunner = demo.runner
    read: list[int] = []
    real_read = runner.read_log

    async def counting_read(*args: object, **options: object) -> object:
        chunk = await real_read(*args, **options)  # type: ignore[arg-type]
        read.append(len(chunk.lines))
        return chunk

    monkeypatch.setattr(runner, "read_log", counting_read)
    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_log(app, pilot, run.id, "talk")  # at the tail
        await pilot.press("slash", *"line 1234 ok", "enter")
        await wait_for(pilot, lambda: view.match_line is not None, "the match")
        assert view.match_line is not None
        assert (await real_read(run.id, "talk", start=view.match_line, limit=1)).lines[
            0
        ].text == "line 1234 ok"
        await wait_for(pilot, lambda: "1/1" in status_text(app), "the count")
        await pilot.press("e")
        await wait_for(pilot, lambda: "line 7 error: boom" in rendered(view), "the first error")
    assert sum(read) < 5_000  # a few pages around what was shown, not 30,000 lines


async def test_search_and_filter_through_the_workspace_daemon(demo: Demo) -> None:
    """As `shipdeck` runs: the app attached to the daemon, which searches its own log file."""
    from shipdeck.runners import daemon
    from shipdeck.tui import create_app
    from shipdeck.tui.config import TuiConfig

    await demo.runner.close()  # the daemon owns the workspace from here on
    remote = await daemon.attach(demo.workspace, announce=lambda _: None)
    try:
        run = await remote.start_run("chatty", {"lines": "3000"}, trigger="test")
        demo.gate.touch()
        await remote.wait_run(run.id)
        app = create_app([remote], config=TuiConfig())
        async with app.run_test(size=(80, 24)) as pilot:
            view = await open_log(app, pilot, run.id, "talk")
            await pilot.press("slash", *"line 2345 ok", "enter")
            await wait_for(pilot, lambda: "1/1" in status_text(app), "the match and its count")
            assert view.match_line is not None
            assert "line 2345 ok" in rendered(view)
            await pilot.press("ampersand")
            await wait_for(pilot, lambda: view._row_count() == 1, "one row")
            await wait_for(pilot, lambda: rendered(view)[0].endswith(" line 2345 ok"), "it")
    finally:
        await remote.close()
        await daemon.stop(demo.workspace)
