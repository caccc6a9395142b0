"""The TUI over a runner with only a model registry: it opens, shows its models, keeps the run
actions out of the footer and, when their keys are pressed anyway, says why in one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.notifications import SeverityLevel

from shipdeck.tui import app as app_module
from shipdeck.tui.app import ShipdeckApp
from shipdeck.tui.config import TuiConfig
from shipdeck.tui.screens.main import MainScreen
from tests.registry_only import NOT_AN_EXECUTOR, RegistryOnly
from tests.tui.conftest import wait_for
from tests.tui.screen_text import screen_text


class Told(ShipdeckApp):
    """The app, keeping what it told the operator."""

    CSS_PATH = str(Path(app_module.__file__).with_name("app.tcss"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.told: list[tuple[str, SeverityLevel]] = []

    def notify(self, message: str, *, severity: SeverityLevel = "information", **rest: Any) -> None:
        self.told.append((message, severity))
        super().notify(message, severity=severity, **rest)


async def test_the_run_keys_say_why_on_a_model_registry() -> None:
    app = Told([RegistryOnly()], config=TuiConfig())
    async with app.run_test(size=(80, 24)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        await wait_for(pilot, lambda: main.snapshot is not None, "the first snapshot")
        await wait_for(pilot, lambda: app.cockpit.known_capabilities(0) is not None, "capabilities")
        await pilot.pause()
        for view, keys in (("2", "trRc"), ("3", "rRc")):
            await pilot.press(view)
            await pilot.pause()
            shown = {b.binding.id for b in main.active_bindings.values() if b.enabled}
            assert not shown & {"trigger", "rerun", "rerun-failed", "cancel"}, view
            for key in keys:
                before = len(app.told)
                await pilot.press(key)
                await wait_for(pilot, lambda n=before: len(app.told) > n, f"{key} refused")
                message, severity = app.told[-1]
                assert message.startswith("runner models cannot "), (key, message)
                assert message.endswith(f": {NOT_AN_EXECUTOR}") and severity == "warning"
                assert "\n" not in message
                assert app.screen is main
        assert [m for m, s in app.told if s == "error"] == []


async def test_its_models_are_shown() -> None:
    app = Told([RegistryOnly()], config=TuiConfig())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("4")
        await wait_for(pilot, lambda: "v1" in screen_text(app), "the model's version")
        assert "churn" in screen_text(app)
        assert [m for m, s in app.told if s == "error"] == []
