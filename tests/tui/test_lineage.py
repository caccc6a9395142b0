"""Lineage in the TUI: one line each in the run view, the models view (the highlighted
version's origin) and compare; a real git repository and real runs."""

from __future__ import annotations

import asyncio
import hashlib
import textwrap
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from textual.widgets import Static

from shipdeck.model import RunStatus
from shipdeck.tui import ShipdeckApp, create_app
from shipdeck.tui.config import TuiConfig
from shipdeck.tui.screens.compare import CompareScreen
from shipdeck.tui.screens.run import RunScreen
from shipdeck.workspace import load_workspace
from tests.git_repo import GitRepo
from tests.tui.deck import DeckRunner, finished, open_deck, open_view, wait_for

WORKSPACE = """
[pipelines.train]
params = { rows = "a", gate = false }

[pipelines.train.tasks.prepare]
run = '''
if [ "$SHIPDECK_PARAM_GATE" = true ]; then while [ ! -f gate ]; do sleep 0.02; done; fi
mkdir -p data && echo "$SHIPDECK_PARAM_ROWS" > data/train.csv
'''

[pipelines.train.tasks.fit]
run = "mkdir -p out && echo '{}' > out/model.json && echo '::metric auc=0.9'"
needs = ["prepare"]
inputs = ["data/train.csv"]
registers = { model = "churn", artifact = "out/model.json" }
"""


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


FILE_A, FILE_B = (sha(f"{rows}\n")[:7] for rows in "ab")
"""data/train.csv's digest for each value of `rows`."""
DATA_A, DATA_B, DATA_C = (sha("data/train.csv\0" + sha(rows + "\n") + "\n")[:7] for rows in "abc")
"""The digest of all inputs (path and content) for each value of `rows`."""


def line(app: ShipdeckApp, selector: str) -> str:
    widget = app.screen.query_one(selector, Static)
    return widget.render_line(0).text.strip() if widget.display else ""


@dataclass
class Lab:
    repo: GitRepo
    runner: DeckRunner
    first_short: str

    def app(self) -> ShipdeckApp:
        return create_app([self.runner], config=TuiConfig())


@pytest.fixture
async def lab(tmp_path: Path) -> AsyncIterator[Lab]:
    """churn v1 (rows a, a clean commit), v2 (rows b, the next commit with an uncommitted
    edit)."""
    repo = GitRepo.init(tmp_path / "ws")
    (repo.root / "shipdeck.toml").write_text(textwrap.dedent(WORKSPACE))
    (repo.root / ".gitignore").write_text(".shipdeck/\ndata/\nout/\ngate\n")
    repo.commit("first")
    first = repo.short()
    runner = await open_deck(load_workspace(repo.root))
    try:
        await finished(runner, "train", rows="a")
        (repo.root / "fit.py").write_text("# v2\n")
        repo.commit("second")
        (repo.root / "fit.py").write_text("# v2, edited\n")
        await finished(runner, "train", rows="b")
        yield Lab(repo, runner, first)
    finally:
        await runner.close()


async def test_the_models_view_says_where_the_highlighted_version_came_from(lab: Lab) -> None:
    app = lab.app()
    async with app.run_test(size=(120, 24)) as pilot:
        await open_view(pilot, "models")
        await pilot.pause()
        assert line(app, "#models-origin") == (
            f"v2 ← #2 · code {lab.repo.short()} (dirty) · data {DATA_B} (1 input)"
            " · rows=b gate=false"
        )
        await pilot.press("j")
        await pilot.pause()
        assert line(app, "#models-origin") == (
            f"v1 ← #1 · code {lab.first_short} · data {DATA_A} (1 input) · rows=a gate=false"
        )


async def test_compare_flags_other_data_and_code_in_one_line(lab: Lab) -> None:
    app = lab.app()
    async with app.run_test(size=(200, 24)) as pilot:
        await app.push_screen(CompareScreen(0, ["churn@v1", "churn@v2"]))
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        await wait_for(pilot, lambda: screen.comparison is not None, "the comparison")
        await pilot.pause()
        assert line(app, "#compare-lineage") == (
            f"different data: churn@v2 (data/train.csv differs ({FILE_A}"
            f" → {FILE_B})) · different code: churn@v2 (commit {lab.first_short}"
            f" → {lab.repo.short()} (dirty))"
        )
        await app.pop_screen()
        await app.push_screen(CompareScreen(0, ["1", "1"]))
        same = app.screen
        assert isinstance(same, CompareScreen)
        await wait_for(pilot, lambda: same.comparison is not None, "the comparison")
        await pilot.pause()
        assert line(app, "#compare-lineage") == "same data · same code"


async def test_the_run_view_shows_code_and_data_and_catches_up_when_the_run_ends(
    lab: Lab,
) -> None:
    app = lab.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(RunScreen("2"))
        await wait_for(pilot, lambda: line(app, "#run-lineage") != "", "the lineage line")
        assert line(app, "#run-lineage") == (
            f"code {lab.repo.short()} (dirty) · data {DATA_B} (1 input)"
        )
        run = await lab.runner.start_run("train", {"rows": "c", "gate": "true"})
        while (await lab.runner.run(run.id)).run.status != RunStatus.RUNNING:
            await pilot.pause(0.02)  # its code is recorded before it runs
        await app.push_screen(RunScreen(run.id))
        # Loaded while `prepare` waits: the code is known, fit's input not yet.
        await wait_for(pilot, lambda: line(app, "#run-lineage") != "", "the lineage line")
        assert line(app, "#run-lineage") == f"code {lab.repo.short()} (dirty)"
        (lab.repo.root / "gate").touch()
        done = await asyncio.wait_for(lab.runner.wait_run(run.id), 30)
        assert done.status == RunStatus.SUCCEEDED

        def caught_up() -> bool:
            return "data " in line(app, "#run-lineage")

        await wait_for(pilot, caught_up, "the inputs once the run ended")
        assert line(app, "#run-lineage").endswith(f"data {DATA_C} (1 input)")


async def test_nothing_is_shown_where_nothing_was_recorded(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "shipdeck.toml").write_text('[pipelines.p.tasks.a]\nrun = "true"\n')
    runner = await open_deck(load_workspace(plain))
    try:
        run_id = await finished(runner, "p")
        app = create_app([runner], config=TuiConfig())
        async with app.run_test(size=(80, 24)) as pilot:
            await app.push_screen(RunScreen(run_id))
            screen = app.screen
            assert isinstance(screen, RunScreen)
            await wait_for(pilot, lambda: screen.detail is not None, "the run")
            await pilot.pause()
            assert not app.screen.query_one("#run-lineage", Static).display
    finally:
        await runner.close()
