"""A failed deploy in the Overview's Failures stays until that same environment succeeds: a
success elsewhere (dev) is not a fix for staging."""

from __future__ import annotations

from shipdeck.model import Outcome
from shipdeck.tui.screens.main import MainScreen
from shipdeck.tui.widgets.table import KeyedTable
from tests.tui.deck import Deck, wait_for


async def test_a_failed_staging_deploy_stays_until_staging_succeeds(deck: Deck) -> None:
    fail = deck.workspace.root / "fail_deploy"
    fail.touch()
    failed = await deck.runner.deploy("api", "r1", "staging")
    assert failed.outcome == Outcome.FAILED
    fail.unlink()
    assert (await deck.runner.deploy("api", "r1", "dev")).outcome == Outcome.SUCCEEDED
    app = deck.app()
    async with app.run_test(size=(100, 30)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        table = main.query_one("#overview-failures", KeyedTable)
        await wait_for(pilot, lambda: table.row_count == 1, "the failed deploy")
        row = [str(cell) for cell in table.get_row(str(failed.run_id))]
        assert row[1:2] == ["deploy:api staging"] and row[3].startswith("deploy: exit 1")

        await deck.runner.deploy("api", "r1", "staging")
        await wait_for(pilot, lambda: table.row_count == 0, "the fix")
        assert "Nothing failing" in str(main.query_one("#failures-empty").render())
