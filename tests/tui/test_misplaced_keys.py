"""A write key pressed in a tab view where it does not apply (rerun in Models, deploy in the
Timeline) says in one line what it does and where, as a refused key does; a key bound
nowhere stays silent, and none of them is listed in the footer or `?` help there."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from shipdeck.tui.config import TuiConfig
from shipdeck.tui.screens.main import MainScreen
from shipdeck.tui.views.deployments import DeploymentsView
from shipdeck.tui.views.models import ModelsView
from shipdeck.tui.views.monitoring import MonitoringView
from shipdeck.tui.views.timeline import TimelineView
from tests.tui.deck import Deck, wait_for
from tests.tui.shown import Notices

SAYS = {
    "t": "t triggers a pipeline: open Pipelines (2)",
    "r": "r reruns a run: open Runs (3)",
    "R": "R reruns a run's failed tasks: open Runs (3)",
    "F": "F reruns from a task: open a run (enter) and select the task",
    "c": "c cancels a run: open Runs (3); checks a monitor: open Monitoring (7)",
    "d": "d deploys a revision: open Deploys (5)",
    "p": "p promotes to the next environment: open Deploys (5); "
    "pauses a schedule: open Monitoring (7)",
    "b": "b rolls back an environment: open Deploys (5)",
    "a": "a points a model alias: open Models (4); acknowledges an alert: open Monitoring (7)",
}
"""What each write key says where it does not apply (the default keymap)."""

VIEWS: dict[str, tuple[str, type[Any], str]] = {
    "models": ("4", ModelsView, "trRFcdpb"),
    "deployments": ("5", DeploymentsView, "trRFca"),
    "timeline": ("6", TimelineView, "trRFcdpba"),
    "monitoring": ("7", MonitoringView, "trRFdb"),
}
"""Each view's number key, class, and the write keys that do not apply there."""


async def show_tab(pilot: Pilot[Any], view: str) -> MainScreen:
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
    main = app.screen
    assert isinstance(main, MainScreen)
    await wait_for(pilot, lambda: main.snapshot is not None, "the first snapshot")
    key, cls, _ = VIEWS[view]
    await pilot.press(key)
    await wait_for(pilot, lambda: main.current_view == view, view)
    shown = main.query_one(cls)
    await wait_for(pilot, lambda: shown.parts, f"the {view} view")
    await wait_for(pilot, lambda: app.cockpit.known_capabilities(0), "capabilities")
    await pilot.pause()
    return main


@pytest.mark.parametrize("view", list(VIEWS))
async def test_a_write_key_that_does_not_apply_says_where_it_does(deck: Deck, view: str) -> None:
    app = deck.app()
    notices = Notices(app)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await show_tab(pilot, view)
        listed = {a.binding.action for a in main.active_bindings.values()}
        assert not listed & {"trigger", "rerun", "rerun_failed", "cancel", "elsewhere"}, listed
        for key in VIEWS[view][2]:
            notices.shown.clear()
            await pilot.press(key)
            await pilot.pause()
            assert [n.message for n in notices.shown] == [SAYS[key]], (view, key)
            assert main.current_view == view and app.screen is main
        notices.shown.clear()
        await pilot.press("z", "x")  # bound nowhere: nothing to say
        await pilot.pause()
        assert notices.shown == []


async def test_the_hint_names_the_keys_of_the_user_keymap(deck: Deck) -> None:
    app = deck.app(config=TuiConfig(keymap={"deploy.deploy": "D", "view.deployments": "9"}))
    notices = Notices(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await show_tab(pilot, "timeline")
        await pilot.press("D")
        await pilot.pause()
        assert [n.message for n in notices.shown] == ["D deploys a revision: open Deploys (9)"]
        notices.shown.clear()
        await pilot.press("d")  # no longer bound anywhere
        await pilot.pause()
        assert notices.shown == []
