"""Every tab view in the registry is reachable: by its number key, from `?` help and from the
command palette. The list comes from the registry itself, so a new row is checked too."""

from __future__ import annotations

from textual.widgets import ContentSwitcher, Tabs

from shipdeck.tui.dialogs.help import HelpScreen
from shipdeck.tui.screens.main import MainScreen
from shipdeck.tui.views.registry import VIEWS
from tests.tui.conftest import Demo, wait_for


def test_the_registry_names_each_view_once() -> None:
    for field in ("id", "key", "tab"):
        values = [getattr(view, field) for view in VIEWS]
        assert len(set(values)) == len(values), field


async def test_each_view_is_reached_by_its_key_and_shows_its_tab(demo: Demo) -> None:
    await demo.run("ci")
    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        switcher = main.query_one(ContentSwitcher)
        tabs = main.query_one(Tabs)
        for view in reversed(VIEWS):  # the first is shown already: reach it last
            await pilot.press(view.key)
            await wait_for(pilot, lambda v=view: switcher.current == v.widget_id, view.id)
            assert tabs.active == view.id
            assert str(tabs.active_tab.label) == f"{view.key} {view.tab}"  # type: ignore[union-attr]
            assert isinstance(main.query_one(f"#{view.widget_id}"), view.load())
            assert main.current_view == view.id


async def test_help_lists_each_view_with_its_key(demo: Demo) -> None:
    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.keys_table()
        rows = zip(
            (str(k) for k in table.columns[0].cells),
            (str(d) for d in table.columns[1].cells),
            (str(i) for i in table.columns[2].cells),
            strict=True,
        )
        listed = {binding_id: (keys, about) for keys, about, binding_id in rows}
        for view in VIEWS:
            assert listed.get(view.binding_id) == (view.key, view.description), view.id


async def test_the_palette_switches_to_each_view(demo: Demo) -> None:
    await demo.run("ci")
    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        switcher = main.query_one(ContentSwitcher)
        for view in reversed(VIEWS):
            await pilot.press("ctrl+p", *f"view {view.id}")
            await pilot.pause(0.3)
            await pilot.press("enter")
            await wait_for(pilot, lambda v=view: switcher.current == v.widget_id, view.id)
