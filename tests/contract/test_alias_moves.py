"""alias_moves, the registry's audit log, through the Runner contract."""

from __future__ import annotations

from shipdeck.model.capabilities import Capability
from shipdeck.runners.protocol import Runner
from tests.contract.harness import Seeder, needs
from tests.contract.test_deployments import contract_seed, deck

__all__ = ["contract_seed", "deck"]


@needs(Capability.MODELS, Capability.ALIASES)
async def test_alias_moves_newest_first_and_per_model(
    deck: Runner, contract_seeder: Seeder
) -> None:
    assert await deck.alias_moves() == []
    await contract_seeder("train", {"auc": "0.85"})
    await contract_seeder("train", {"auc": "0.9"})
    await deck.alias("churn", "champion", "v1")
    await deck.alias("churn", "champion", "v2")
    moves = await deck.alias_moves()
    assert [(m.alias, m.from_version, m.to_version) for m in moves] == [
        ("champion", "1", "2"),
        ("champion", None, "1"),
    ]
    assert moves[0].user == moves[1].user != ""
    assert [m.to_version for m in await deck.alias_moves("churn", limit=1)] == ["2"]
    assert await deck.alias_moves("nosuch") == []
