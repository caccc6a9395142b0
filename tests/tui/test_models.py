"""Models view and compare: deltas against the champion, sort, filter, marks, only-diffs,
charts, and moving an alias (from -> to shown first)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from textual.widgets import Input

from shipdeck.model import Comparison, MetricDirection
from shipdeck.testing.frozen import FrozenTimes, frozen_clock
from shipdeck.tui import create_app
from shipdeck.tui.config import TuiConfig
from shipdeck.tui.deploy_format import LOUD
from shipdeck.tui.dialogs.alias import AliasScreen
from shipdeck.tui.screens.compare import CompareScreen
from shipdeck.tui.views.models import ModelsView
from shipdeck.tui.widgets.charts import Chart
from shipdeck.tui.widgets.footer import SteadyFooter
from shipdeck.tui.widgets.virtual_table import VirtualTable
from shipdeck.workspace import load_workspace
from tests.engine.deploy.conftest import SHARDS
from tests.tui.deck import NOW, Deck, finished, open_deck, open_view, wait_for


def column(table: VirtualTable, key: str) -> list[str]:
    return [str(table.get_cell(row, key)) for row in table.keys]


class HeldComparisons(FrozenTimes):
    """The deck's runner, each comparison held until `release` is set."""

    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.release = asyncio.Event()
        self.asked = 0

    async def compare(self, *args: Any, **kwargs: Any) -> Comparison:
        self.asked += 1
        await self.release.wait()
        return await self.inner.compare(*args, **kwargs)


async def test_versions_are_painted_before_the_metric_directions_come(deck: Deck) -> None:
    held = HeldComparisons(deck.runner)
    app = deck.app(held)
    async with app.run_test(size=(100, 30)) as pilot:
        view: ModelsView = await open_view(pilot, "models")
        table = view.query_one(VirtualTable)
        await wait_for(pilot, lambda: held.asked, "the comparison that says the directions")
        # Painted while the comparison is held: each metric in its default direction.
        assert column(table, "version") == ["v3", "v2", "v1"]
        assert column(table, "m:auc") == ["0.75 ▼-0.16", "0.91", "0.85 ▼-0.06"]
        part = view.parts[0].data
        assert part is not None and not part.directions_known and part.directions == {}

        held.release.set()

        def directions() -> dict[str, MetricDirection]:
            data = view.parts[0].data
            return data.directions if data is not None and data.directions_known else {}

        await wait_for(pilot, directions, "the workspace's directions")
        assert directions() == {"auc": MetricDirection.MAX, "loss": MetricDirection.MIN}
        assert column(table, "version") == ["v3", "v2", "v1"]
        assert held.asked == 1


async def test_versions_with_deltas_against_the_champion_sort_and_filter(deck: Deck) -> None:
    app = deck.app()
    async with app.run_test(size=(100, 30)) as pilot:
        view: ModelsView = await open_view(pilot, "models")
        table = view.query_one(VirtualTable)
        assert column(table, "version") == ["v3", "v2", "v1"]
        assert "champion" in column(table, "aliases")[1]
        auc = column(table, "m:auc")
        assert auc == ["0.75 ▼-0.16", "0.91", "0.85 ▼-0.06"]  # ▼: worse than the champion
        # v3's auc is worse than the champion's: the theme's error colour, and bold.
        worse = app.cockpit.palette.colour("error") + LOUD
        cell = table.get_cell("0:churn:3", "m:auc")
        assert cell.spans and cell.spans[-1].style == worse
        loss = table.get_cell("0:churn:3", "m:loss")
        assert loss.spans[-1].style == worse  # higher loss is worse

        await pilot.press("s")  # by auc, best first
        assert column(table, "version") == ["v2", "v1", "v3"]
        await pilot.press("s")  # by loss, best (lowest) first
        assert column(table, "version") == ["v2", "v1", "v3"]
        assert view.sort_key == "loss"
        await pilot.press("s")  # back to newest first
        assert column(table, "version") == ["v3", "v2", "v1"]

        await pilot.press("slash", *"champion")
        assert column(table, "version") == ["v2"]
        await pilot.press("enter")
        assert table.has_focus
        assert view.close_filter()
        assert column(table, "version") == ["v3", "v2", "v1"]


async def test_compare_marked_versions_with_only_differences_and_charts(deck: Deck) -> None:
    app = deck.app()
    async with app.run_test(size=(100, 30)) as pilot:
        view: ModelsView = await open_view(pilot, "models")
        await pilot.press("space", "space")  # v3, v2
        assert view.marked == ["0:churn:3", "0:churn:2"]
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen), "compare")
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        await wait_for(pilot, lambda: screen.comparison is not None, "the comparison")
        await pilot.pause()
        # Drawn once: the table settling (its scrollbar) and the footer do not redraw them.
        assert [c.builds for c in screen.query(Chart)] == [1, 1]
        assert screen.query_one(SteadyFooter).rebuilds == 1
        table = screen.query_one(VirtualTable)
        keys = list(table.keys)
        assert {"metric:auc", "metric:loss", "param:lr", "param:steps"} <= set(keys)
        # What decides (metrics with a better direction) before the params.
        assert max(keys.index("metric:auc"), keys.index("metric:loss")) < keys.index("param:lr")
        auc = str(table.get_cell("metric:auc", "s1"))
        assert auc == "0.91 ▲+0.16 ★"
        assert "★" not in str(table.get_cell("metric:auc", "s0"))

        await pilot.press("d")
        assert "param:steps" not in table.keys  # both trained 5 steps
        assert "param:lr" in table.keys
        await pilot.press("d")
        assert "param:steps" in table.keys

        curves = screen.query_one("#curves", Chart)
        bars = screen.query_one("#bars", Chart)
        drawn = curves.plt.build()
        assert "loss per step" in drawn and "churn@v3" in drawn and "churn@v2" in drawn
        assert "churn@v2" in bars.plt.build()
        await pilot.press("escape")
        assert isinstance(app.screen.query_one(ModelsView), ModelsView)


async def test_alias_move_shows_from_and_to_then_moves(deck: Deck) -> None:
    app = deck.app()
    async with app.run_test(size=(100, 30)) as pilot:
        view: ModelsView = await open_view(pilot, "models")
        await pilot.press("down", "down")  # v1
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AliasScreen), "the alias dialog")
        dialog = app.screen
        move = str(dialog.query_one("#alias-move").render())
        assert move == "churn@champion: v2 → v1"
        await pilot.press("x")  # the default name is selected: typing replaces it
        assert str(dialog.query_one("#alias-move").render()) == "churn@x: (unset) → v1"
        dialog.query_one("#alias-name", Input).value = "champion"
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, AliasScreen), "the move")
        versions = await deck.runner.model_versions("churn")
        assert [v.revision for v in versions if "champion" in v.aliases] == ["v1"]
        table = view.query_one(VirtualTable)
        await wait_for(
            pilot, lambda: "champion" in str(table.get_cell("0:churn:1", "aliases")), "repaint"
        )


async def test_an_alias_moved_elsewhere_and_a_new_version_show_without_a_reload(
    deck: Deck,
) -> None:
    """Another client's alias move and a newly registered version are events: the view
    loads again at once (within a second or two), not on a timer."""
    app = deck.app()
    async with app.run_test(size=(100, 30)) as pilot:
        view: ModelsView = await open_view(pilot, "models")
        table = view.query_one(VirtualTable)
        await deck.runner.alias("churn", "canary", "v1")
        deadline = time.monotonic() + 5
        while "canary" not in str(table.get_cell("0:churn:1", "aliases")):
            assert time.monotonic() < deadline, "the moved alias was not shown"
            await pilot.pause(0.05)
        await finished(deck.runner, "train", auc="0.8")
        deadline = time.monotonic() + 5
        while "0:churn:4" not in table.keys:
            assert time.monotonic() < deadline, "the new version was not shown"
            await pilot.pause(0.05)


async def test_enter_without_marks_and_an_empty_alias_name(deck: Deck) -> None:
    app = deck.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_view(pilot, "models")
        await pilot.press("enter")  # v3, against the champion v2
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen), "compare")
        assert app.screen.refs == ["churn@v2", "churn@v3"]  # type: ignore[attr-defined]
        await pilot.press("escape", "a")
        await wait_for(pilot, lambda: isinstance(app.screen, AliasScreen), "the alias dialog")
        await pilot.press("backspace", "enter")  # the selected default name deleted
        error = str(app.screen.query_one("#dialog-error").render())
        assert "the alias needs a name" in error
        assert isinstance(app.screen, AliasScreen)
        assert len(await deck.runner.alias_moves()) == 1


async def test_compare_runs_stars_by_the_direction_of_the_name_after_the_task(
    tmp_path: Path,
) -> None:
    (tmp_path / "shipdeck.toml").write_text(SHARDS)
    runner = await open_deck(load_workspace(tmp_path))
    try:
        await finished(runner, "shards")
        await finished(runner, "shards", a="0.2", b="0.6", rows="200")
        app = create_app([FrozenTimes(runner)], config=TuiConfig(), clock=frozen_clock(NOW))
        async with app.run_test(size=(100, 30)) as pilot:
            screen = CompareScreen(0, ["1", "2"])
            await app.push_screen(screen)
            await wait_for(pilot, lambda: screen.comparison is not None, "the comparison")
            await pilot.pause()
            table = screen.query_one(VirtualTable)
            cells = {
                key: [str(table.get_cell(key, column)) for column in ("s0", "s1")]
                for key in ("metric:train_a.loss", "metric:train_b.loss", "metric:rows_train")
            }
            # Lower loss is better for each shard; a count has no better value.
            assert cells == {
                "metric:train_a.loss": ["0.3", "0.2 ▲-0.1 ★"],
                "metric:train_b.loss": ["0.5 ★", "0.6 ▼+0.1"],
                "metric:rows_train": ["100", "200 +100"],
            }
            palette = app.cockpit.palette
            better = table.get_cell("metric:train_a.loss", "s1").spans[0].style
            worse = table.get_cell("metric:train_b.loss", "s1").spans[0].style
            neither = table.get_cell("metric:rows_train", "s1").spans[0].style
            assert better == palette.colour("success")
            assert worse == palette.colour("error") + LOUD  # worse is bold too: not colour alone
            assert neither == palette.muted
            # What decides first (metrics with a direction), counts last.
            keys = list(table.keys)
            assert keys.index("metric:rows_train") == len(keys) - 1
    finally:
        await runner.close()


async def test_q_in_compare_goes_back_as_in_a_pager(deck: Deck) -> None:
    app = deck.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_view(pilot, "models")
        models = app.screen
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen), "compare")
        await pilot.press("q")
        await wait_for(pilot, lambda: app.screen is models, "back to the models")
        assert app.is_running
        await pilot.press("enter", "Q")  # Q still quits from compare, without asking
        await wait_for(pilot, lambda: not app.is_running, "quit")
