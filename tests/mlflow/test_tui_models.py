"""The Models view with an MLflow runner next to a local one (Pilot): both registries listed,
compare of MLflow versions with their curves, an alias moved with `a` through MLflow's API, the
header's "updated Ns ago", and keys MLflow cannot do hidden."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from textual.widgets import Input

from shipdeck.runners.mlflow import alias_log
from shipdeck.runners.mlflow.api import MlflowApi
from shipdeck.runners.mlflow.runner import MlflowRunner
from shipdeck.tui.dialogs.alias import AliasScreen
from shipdeck.tui.screens.compare import CompareScreen
from shipdeck.tui.views.models import ModelsView
from shipdeck.tui.widgets.charts import Chart
from shipdeck.tui.widgets.header import AppHeader
from shipdeck.tui.widgets.virtual_table import VirtualTable
from tests.mlflow.conftest import MlflowServer, Seeded, seed, start_mlflow
from tests.tui.deck import Deck, deck, open_view, seeded, wait_for
from tests.tui.screen_text import CELL_WIDTH

pytestmark = pytest.mark.timeout(300)
__all__ = ["deck", "seeded"]  # the TUI deck (a local runner) and its recorded workspace


@pytest.fixture
def lab(mlflow_server: MlflowServer) -> Seeded:
    return seed(mlflow_server, uuid.uuid4().hex[:8], runs=3, steps=5)


@pytest.fixture
async def mlflow_runner(mlflow_server: MlflowServer) -> AsyncIterator[MlflowRunner]:
    runner = MlflowRunner(MlflowApi(mlflow_server.url, name="lab"))
    try:
        yield runner
    finally:
        await runner.close()


def key(model: str, version: str) -> str:
    return f"1:{model}:{version}"


async def test_mlflow_versions_beside_local_ones_compared_with_curves(
    deck: Deck, lab: Seeded, mlflow_runner: MlflowRunner
) -> None:
    app = deck.app(deck.runner, mlflow_runner)
    async with app.run_test(size=(120, 36)) as pilot:
        view: ModelsView = await open_view(pilot, "models")
        table = view.query_one(VirtualTable)
        keys = table.keys
        assert "0:churn:3" in keys  # the local registry
        assert [k for k in keys if k.startswith(f"1:{lab.model}:")] == [
            key(lab.model, "3"),
            key(lab.model, "2"),
            key(lab.model, "1"),
        ]
        assert "champion" in str(table.get_cell(key(lab.model, "1"), "aliases"))

        table.move_cursor(keys.index(key(lab.model, "3")))
        await pilot.press("space")
        table.move_cursor(keys.index(key(lab.model, "1")))
        await pilot.press("space", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen), "compare")
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        await wait_for(pilot, lambda: screen.comparison is not None, "the comparison")
        await pilot.pause()
        compared = screen.query_one(VirtualTable)
        assert str(compared.get_cell("metric:auc", "s0")).endswith("★")  # v3: the best auc
        curves = screen.query_one("#curves", Chart).plt.build()
        assert "per step" in curves
        assert f"{lab.model}@v3" in curves and f"{lab.model}@v1" in curves


async def test_alias_move_with_a_goes_through_mlflow(
    deck: Deck, lab: Seeded, mlflow_runner: MlflowRunner, mlflow_server: MlflowServer
) -> None:
    app = deck.app(deck.runner, mlflow_runner)
    async with app.run_test(size=(120, 36)) as pilot:
        view: ModelsView = await open_view(pilot, "models")
        table = view.query_one(VirtualTable)
        table.move_cursor(table.keys.index(key(lab.model, "3")))
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AliasScreen), "the alias dialog")
        dialog = app.screen
        assert str(dialog.query_one("#alias-move").render()) == f"{lab.model}@champion: v1 → v3"
        dialog.query_one("#alias-name", Input).value = "champion"
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, AliasScreen), "the move")
        await wait_for(
            pilot,
            lambda: "champion" in str(table.get_cell(key(lab.model, "3"), "aliases")),
            "repaint",
        )
    # Another client of that MLflow sees the move and shipdeck's record of it.
    other = MlflowApi(mlflow_server.url, name="other")
    try:
        assert (await other.version_by_alias(lab.model, "champion")).version == "3"
        moves = alias_log.history(await other.registered_model(lab.model))
        assert [(m.from_version, m.to_version) for m in moves] == [("1", "3")]
    finally:
        await other.close()


async def test_header_says_how_old_the_mlflow_view_is(
    deck: Deck, mlflow_runner: MlflowRunner
) -> None:
    app = deck.app(deck.runner, mlflow_runner)
    async with app.run_test(size=(120, 36)) as pilot:

        def header() -> str:
            return str(app.screen.query_one(AppHeader).render())

        await wait_for(pilot, lambda: "updated" in header(), "the MLflow runner's first answer")
        assert "local ● live" in header() or "● live" in header()  # the local runner pushes
        assert "lab ◷ updated 0s ago" in header() or "lab ◷ updated 1s ago" in header()
        assert "lab ● live" not in header()


async def test_an_mlflow_going_offline_never_blocks_the_local_runner_and_comes_back(
    deck: Deck, tmp_path: Path
) -> None:
    server = start_mlflow(tmp_path / "private")
    port = int(server.url.rsplit(":", 1)[1])
    runner = MlflowRunner(MlflowApi(server.url, name="lab", timeout=3.0), poll_interval=0.5)
    runner.api.breaker.max_backoff = 1.0
    app = deck.app(deck.runner, runner)
    try:
        async with app.run_test(size=(120, 36)) as pilot:

            def header() -> str:
                return str(app.screen.query_one(AppHeader).render())

            await wait_for(pilot, lambda: "lab ◷ updated" in header(), "the first answer")
            server.stop()
            await wait_for(pilot, lambda: "lab ○ offline" in header(), "offline")
            assert "● live" in header()  # the local runner, untouched
            # The local runner answers while MLflow is gone.
            assert [r.pipeline for r in await app.cockpit.runners[0].runs(limit=1)]

            server = start_mlflow(tmp_path / "private", port=port)
            await wait_for(pilot, lambda: "lab ◷ updated" in header(), "back by itself")
    finally:
        await runner.close()
        server.stop()


def header_as_trimmed(svg: str) -> str:
    """The header row of an SVG export as a viewer draws it that trims the spaces at both ends
    of each run of text (librsvg does): each run's glyphs from the run's own cell."""
    row: dict[int, str] = {}
    for x, content in re.findall(
        r'<text class="[^"]*" x="([0-9.]+)" y="[0-9.]+" textLength="[0-9.]+" '
        r'clip-path="url\(#[^)]*-line-0\)">([^<]*)</text>',
        svg,
    ):
        glyphs = html.unescape(content).replace("\xa0", " ").strip()
        for offset, glyph in enumerate(glyphs):
            row[round(float(x) / CELL_WIDTH) + offset] = glyph
    return "".join(row.get(column, " ") for column in range(max(row, default=-1) + 1))


async def test_runner_names_stay_apart_in_the_header_of_a_screenshot(
    deck: Deck, mlflow_runner: MlflowRunner
) -> None:
    app = deck.app(deck.runner, mlflow_runner)
    async with app.run_test(size=(120, 36)) as pilot:

        def drawn() -> str:
            return header_as_trimmed(app.export_screenshot())

        await wait_for(pilot, lambda: "updated" in drawn(), "the MLflow runner's first answer")
        assert re.search(r"▸local +● live +lab ◷ updated \ds ago", drawn()), drawn()
