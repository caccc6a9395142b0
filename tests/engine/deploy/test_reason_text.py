"""A reason travels to every operator's terminal (the TUI's history, `shipdeck history`): one
holding an escape sequence is refused whoever sends it, and nothing is recorded."""

from __future__ import annotations

import pytest

from shipdeck.errors import InvalidInput

from .conftest import Deck


@pytest.mark.parametrize("reason", ["fix\x1b]0;pwned\x07", "wipe\x1b[2J", "bell\x07", "c1\x9b2J"])
async def test_a_reason_with_a_control_character_is_refused(deck: Deck, reason: str) -> None:
    rev = await deck.build(version="7")
    before = deck.ledger()
    with pytest.raises(InvalidInput, match="reason refused: it contains the control character"):
        await deck.deployer.deploy("api", rev, "dev", reason=reason)
    assert deck.ledger() == before
    assert deck.on_disk("api", "dev") is None


async def test_a_reason_on_several_lines_is_kept(deck: Deck) -> None:
    rev = await deck.build(version="7")
    entry = await deck.deployer.deploy("api", rev, "dev", reason="INC-42\n\tthe fix")
    assert entry.reason == "INC-42\n\tthe fix"
