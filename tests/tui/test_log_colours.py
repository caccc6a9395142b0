"""Task output with terminal codes in the log view: a real `pytest --color=yes` run and a task
that tries to drive the terminal, both through a real runner."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from rich.color import Color

from shipdeck.logtext import CONTROL, visible
from shipdeck.runners.local import open_local_runner
from tests.tui.conftest import Demo, make_workspace, wait_for
from tests.tui.test_log import open_log, rendered

PIPELINES = """
[pipelines.tests]
[pipelines.tests.tasks.pytest]
run = "python3 -m pytest --color=yes -p no:cacheprovider -rf sample_test.py"
env = { COLUMNS = "80" }

[pipelines.hostile]
[pipelines.hostile.tasks.print]
run = "python3 hostile.py"
"""

SAMPLE_TEST = """
def test_good():
    assert 1

def test_bad():
    assert 1 == 2
"""

HOSTILE = r"""
import sys
out = sys.stdout
out.write("\x1b]0;pwned title\x07\x1b[2J\x1b[H\x1b[?1049h")  # title, clear, home, alt screen
out.write("\x1b[31mFAILED\x1b[0m in red, then \x1b[8mhidden\x1b[0m and \x1b[5mblink\x1b[0m\n")
out.write("progress 10%\rprogress 50%\rprogress \x1b[32m100%\x1b[0m\n")
out.write("bell\x07 back\x08space \x1bc reset \x9b2J c1 \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\\n")
out.write("tab\there " + "\x1b[1m" * 40 + "bold tail END\x1b[0m\n")
out.write("unterminated \x1b]0;title to the end of the line\n")
out.flush()
"""


@pytest.fixture
async def coloured(tmp_path: Path) -> AsyncIterator[Demo]:
    workspace = make_workspace(tmp_path / "demo")
    with (workspace.root / "shipdeck.toml").open("a", encoding="utf-8") as file:
        file.write(PIPELINES)
    (workspace.root / "sample_test.py").write_text(SAMPLE_TEST, encoding="utf-8")
    (workspace.root / "hostile.py").write_text(HOSTILE, encoding="utf-8")
    from shipdeck.workspace import load_workspace

    runner = await open_local_runner(load_workspace(workspace.root / "shipdeck.toml"), user="op")
    try:
        yield Demo(runner.workspace, runner)
    finally:
        await runner.close()


async def test_pytest_colour_output_is_drawn_whole_and_in_colour(coloured: Demo) -> None:
    detail = await coloured.run("tests")
    lines = (await coloured.runner.read_log(detail.run.id, "pytest", limit=None)).lines
    summary = next(line for line in lines if "1 failed" in line.text)
    assert "\x1b[" in summary.text  # pytest really coloured it
    shown = visible(summary.text)
    assert len(shown) == 80 and shown.endswith("=")

    app = coloured.app()
    async with app.run_test(size=(100, 40)) as pilot:
        view = await open_log(app, pilot, detail.run.id, "pytest")
        await wait_for(pilot, lambda: shown in rendered(view), "the summary line")
        for y in range(view.size.height):
            strip = view.render_line(y)
            assert strip.cell_length == view.size.width  # no line cut short, none too long
            assert not CONTROL.search(strip.text)
        rows = rendered(view)
        for line in lines[int(view.scroll_y) : int(view.scroll_y) + view.size.height]:
            assert visible(line.text)[: view.size.width].rstrip() in rows

        failed = next(line for line in lines if visible(line.text).startswith("FAILED "))
        strip = view.render_line(failed.n - int(view.scroll_y))
        first = next(segment for segment in strip if segment.text)
        assert first.text == "FAILED" and first.style is not None
        assert first.style.color == Color.from_ansi(1)  # red FAILED stays red
        after = next(segment for segment in strip if segment.text.startswith(" sample"))
        assert after.style is not None and after.style.color != Color.from_ansi(1)


async def test_control_sequences_are_dropped_and_widths_count_what_is_drawn(
    coloured: Demo,
) -> None:
    detail = await coloured.run("hostile")
    app = coloured.app()
    async with app.run_test(size=(60, 20)) as pilot:
        view = await open_log(app, pilot, detail.run.id, "print")
        await wait_for(pilot, lambda: view.buffer.total >= 5, "the lines")
        await pilot.press("g")

        def on_screen() -> list[str]:
            return rendered(view)[:5]

        expected = [
            "FAILED in red, then hidden and blink",
            "progress 100%",
            "bell backspace  reset  c1 link",
            "tab here bold tail END",
            "unterminated",
        ]
        await wait_for(pilot, lambda: on_screen() == expected, f"{expected} drawn")
        for y in range(5):
            strip = view.render_line(y)
            assert strip.cell_length == view.size.width
            assert not CONTROL.search(strip.text)
            for segment in strip:
                style = segment.style
                assert style is None or not (style.conceal or style.blink or style.link)
        # Widths are measured as drawn, not in characters with their codes (up to 222).
        assert view.buffer.max_width == max(len(text) for text in expected)
        assert view.virtual_size.width <= view.size.width
