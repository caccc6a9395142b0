"""Help, command palette, keymap, themes, config problems and connection states."""

from __future__ import annotations

from pathlib import Path

from shipdeck.tui.config import TuiConfig, load_config
from shipdeck.tui.current import follow_runner_events
from shipdeck.tui.dialogs.confirm import ConfirmScreen
from shipdeck.tui.dialogs.help import HelpScreen
from shipdeck.tui.screens.main import MainScreen
from shipdeck.tui.screens.run import RunScreen
from shipdeck.tui.themes import load_themes
from shipdeck.tui.widgets.header import AppHeader
from tests.tui.conftest import Demo, wait_for
from tests.tui.shown import Notices, toast_texts


async def test_help_lists_the_keys_of_the_view_underneath(demo: Demo) -> None:
    detail = await demo.run("ci")
    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = str(list(app.screen.keys_table().columns[2].cells))
        for binding_id in ("rerun", "rerun-failed", "cancel", "trigger", "help", "quit"):
            assert f"'{binding_id}'" in text, binding_id
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        app.open_run(detail.run.id)
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), "the run view")
        await pilot.press("question_mark")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        text = str(list(help_screen.keys_table().columns[2].cells))
        assert "'rerun-from'" in text and "'dag.left'" in text


async def test_command_palette_jumps_to_a_run(demo: Demo) -> None:
    first = await demo.run("ci")
    await demo.run("train")
    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*f"run #{first.run.id} ci")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), "the run view")
        assert app.screen.run_id == first.run.id  # type: ignore[attr-defined]


async def test_command_palette_switches_theme(demo: Demo) -> None:
    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.theme == "shipdeck-dark"
        await pilot.press("ctrl+p")
        await pilot.press(*"theme shipdeck-light")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.theme == "shipdeck-light", "the light theme")


async def test_keymap_from_the_config_file_remaps_by_binding_id(demo: Demo, tmp_path: Path) -> None:
    failed = await demo.run("train", flaky="true")
    path = tmp_path / "config.toml"
    path.write_text('[keymap]\nrerun-failed = "x"\nno-such-binding = "z"\n', encoding="utf-8")
    config = load_config(path)
    assert config.keymap == {"rerun-failed": "x"}
    assert config.problems == [f"{path}: [keymap] no-such-binding: unknown binding id"]
    app = demo.app(config=config)
    notices = Notices(app)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await wait_for(
            pilot,
            lambda: any("no-such-binding" in n.message for n in notices.shown),
            "the config problem",
        )
        # Shown as written: `[keymap]` is not taken for markup (it vanished from the toast).
        (problem,) = [n for n in notices.shown if "no-such-binding" in n.message]
        assert "[keymap] no-such-binding" in problem.message
        await wait_for(
            pilot,
            lambda: any("[keymap] no-such-binding" in text for text in toast_texts(app)),
            "the toast, as written",
        )
        app.open_run(failed.run.id)
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), "the run view")
        await pilot.press("R")
        assert isinstance(app.screen, RunScreen)
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the preview")


def test_bundled_and_user_themes_load_and_bad_files_are_reported(tmp_path: Path) -> None:
    from shipdeck.tui.themes import bundled_themes_dir

    user = tmp_path / "themes"
    user.mkdir()
    (user / "mine.toml").write_text('name = "mine"\nprimary = "#123456"\n', encoding="utf-8")
    (user / "broken.toml").write_text('name = "broken"\nprimary = 3\n', encoding="utf-8")
    (user / "typo.toml").write_text(
        'name = "typo"\nprimary = "#fff"\nsucess = "#0f0"\n', encoding="utf-8"
    )
    themes, problems = load_themes(bundled_themes_dir(), user)
    names = {t.name for t in themes}
    assert {"shipdeck-dark", "shipdeck-light", "shipdeck-high-contrast", "mine"} <= names
    assert len(problems) == 2
    assert any("broken.toml" in p and "primary" in p for p in problems)
    assert any("typo.toml" in p and "unknown field 'sucess'" in p for p in problems)


def test_config_problems_are_one_line_each(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[tui\ntheme = 1", encoding="utf-8")
    config = load_config(path)
    assert len(config.problems) == 1 and "invalid TOML" in config.problems[0]
    path.write_text("[tui]\ntheme = 1\n[runners.prod]\nread_only = true\n", encoding="utf-8")
    config = load_config(path)
    assert config.problems[0] == f"{path}:2: [tui] theme: expected a theme name"
    assert config.problems[1].startswith(f"{path}:3: runners: the [runners.NAME] form")
    assert len(config.problems) == 2
    assert config.read_only_runners == {"prod"}
    assert load_config(tmp_path / "missing.toml") == TuiConfig(themes_dir=tmp_path / "themes")


async def test_unknown_theme_falls_back_with_a_notification(demo: Demo) -> None:
    app = demo.app(theme="no-such-theme")
    notices = Notices(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.theme == "shipdeck-dark"
        assert any("no-such-theme" in n.message for n in notices.shown)


async def test_header_shows_each_runners_connection_state(demo: Demo) -> None:
    """A runner's own `state.status` (as the remote runner has) wins over what we observe."""

    class Link:
        status = "reconnecting"

    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        header = app.screen.query_one(AppHeader)
        assert "local ● live" in str(header.render())
        demo.runner.state = Link()  # type: ignore[attr-defined]
        await pilot.pause()
        assert "◌ reconnecting" in str(header.render())


def test_every_binding_id_is_documented_in_the_keymap_guide() -> None:
    from shipdeck.tui.keymap import ALL_BINDINGS

    guide = (Path(__file__).resolve().parents[2] / "docs" / "keymap.md").read_text()
    missing = [i for i in ALL_BINDINGS if f"| `{i}` |" not in guide]
    assert missing == []


async def test_palette_switches_runner_and_the_views_follow(demo: Demo, tmp_path: Path) -> None:
    from shipdeck.engine import Engine
    from shipdeck.runners.local import LocalRunner
    from shipdeck.tui import create_app
    from tests.tui.conftest import make_workspace

    await demo.run("ci")
    other = LocalRunner(Engine(make_workspace(tmp_path / "other")), user="op", name="build-2")
    try:
        app = create_app([demo.runner, other], config=TuiConfig())
        async with app.run_test(size=(80, 24)) as pilot:
            main = app.screen
            assert isinstance(main, MainScreen)
            await wait_for(pilot, lambda: main.snapshot is not None, "the first snapshot")
            assert len(main.snapshot.runs) == 1  # type: ignore[union-attr]
            await pilot.press("ctrl+p", *"runner build-2")
            await pilot.pause(0.3)
            await pilot.press("enter")
            await wait_for(pilot, lambda: app.cockpit.active == 1, "the switch")
            await wait_for(
                pilot,
                lambda: main.snapshot is not None and main.snapshot.runs == [],
                "the other runner's (empty) history",
            )
            header = str(main.query_one(AppHeader).render())
            assert "▸build-2 ● live" in header and " local ● live" in header
    finally:
        await other.close()


async def test_no_color_is_respected(demo: Demo, monkeypatch: object) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setenv("NO_COLOR", "1")
    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.no_color


async def test_runs_filter_and_palette_jump_by_number(demo: Demo) -> None:
    from textual.widgets import Input

    from shipdeck.tui.widgets.table import KeyedTable

    ok = await demo.run("ci")
    failed = await demo.run("train", flaky="true")
    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        await wait_for(pilot, lambda: main.snapshot is not None, "the first snapshot")
        await pilot.press("3")
        table = main.query_one("#runs-table", KeyedTable)
        await wait_for(pilot, lambda: table.row_count == 2, "both runs")
        await pilot.press("slash", *"train fail")
        await wait_for(pilot, lambda: table.row_count == 1, "the filter")
        assert table.selected_key == str(failed.run.id)
        await pilot.press("escape")
        await wait_for(pilot, lambda: table.row_count == 2, "the filter cleared")
        assert main.query_one("#runs-filter", Input).value == ""

        await pilot.press("ctrl+p", *f"#{ok.run.id}")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), "the run view")
        assert app.screen.run_id == ok.run.id  # type: ignore[attr-defined]


async def test_a_view_failing_on_events_does_not_stop_the_feed(demo: Demo) -> None:
    """A bug in one screen's event handler is shown, and every other screen keeps updating."""
    app = demo.app()
    notices = Notices(app)
    async with app.run_test(size=(80, 24)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        seen: list[int] = []

        def failing(runner_index: int, page: object) -> None:
            raise RuntimeError("boom in a view")

        def recording(runner_index: int, page: object) -> None:
            seen.append(runner_index)

        app.push_screen(HelpScreen(main))
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, HelpScreen) and app.screen.is_running,
            "the help screen",
        )
        # Subscribed after the main screen's own handler, and before this one: the failure
        # sits between two views that must both go on receiving events.
        follow_runner_events(app.screen, failing)
        follow_runner_events(main, recording)
        await demo.run("ci")
        await wait_for(pilot, lambda: len(seen) >= 2, "events after the failure")
        assert any("boom in a view" in str(n.message) for n in notices.shown)
