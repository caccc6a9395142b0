"""NO_COLOR in the run view: every task state shows its glyph and word or time, and a failed
task's box is never greyer than a succeeded one (Textual turns colours into greys)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.segment import Segment
from textual.color import Color
from textual.geometry import Region

from shipdeck.runners.local import open_local_runner
from shipdeck.tui import create_app
from shipdeck.tui.config import TuiConfig
from shipdeck.tui.screens.run import RunScreen
from shipdeck.tui.widgets.dag import DagView
from shipdeck.workspace import load_workspace
from tests.tui.conftest import wait_for
from tests.tui.test_run_header import WORKSPACE


def grey(segment: Segment) -> float:
    assert segment.style is not None and segment.style.color is not None
    return Color.from_rich_color(segment.style.color).brightness


async def test_task_states_in_the_dag_are_told_without_colour(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    (tmp_path / "shipdeck.toml").write_text(WORKSPACE)
    runner = await open_local_runner(load_workspace(tmp_path), user="op")
    try:
        run = await runner.start_run("chain", trigger="test")
        await runner.wait_run(run.id)
        app = create_app([runner], config=TuiConfig())
        async with app.run_test(size=(120, 30)) as pilot:
            assert app.no_color
            app.open_run(run.id)
            await wait_for(
                pilot,
                lambda: isinstance(app.screen, RunScreen) and app.screen.detail is not None,
                "the run view",
            )
            dag = app.screen.query_one(DagView)
            dag.selected = "ship"  # a skipped box selected: the others drawn as their state
            await pilot.pause()
            width, height = dag.size
            lines = [list(s) for s in dag.render_lines(Region(0, 0, width, height))]
            text = "\n".join("".join(seg.text for seg in line) for line in lines)
            assert text.count("✓") == 2 and text.count("✗") == 1, text
            assert text.count("↷ skipped") == 2, text

            def box(glyph: str) -> Segment:
                return next(s for line in lines for s in line if f"{glyph} " in s.text)

            failed, succeeded = box("✗"), box("✓")
            assert failed.style is not None and failed.style.bold
            assert grey(failed) >= grey(succeeded)  # red used to become the darker grey
    finally:
        await runner.close()
