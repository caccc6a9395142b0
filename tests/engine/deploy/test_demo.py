"""The demo's services on the real demo workspace: the api package goes dev -> staging -> prod,
churn versions go staging -> prod, and a poor model fails its health check for real."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from shipdeck.demo import init_demo
from shipdeck.errors import Refused
from shipdeck.model import Outcome, RunStatus
from shipdeck.workspace import load_workspace

from .conftest import Deck

POOR_MODEL = {"rows": 40, "epochs": 2, "lr_a": 10.0, "lr_b": 10.0}
"""Params that train a churn model with an auc of 0.5 (below the 0.7 health floor)."""


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Deck]:
    root = init_demo(tmp_path / "demo")
    opened = Deck(root, load_workspace(root))
    try:
        yield opened
    finally:
        await opened.close()


def served(deck: Deck, env: str, service: str) -> dict[str, Any]:
    current = deck.root / "envs" / env / service / "current.json"
    return dict(json.loads(current.read_text()))


async def test_api_moves_through_its_environments(demo: Deck) -> None:
    run_id = await demo.run("ci")
    assert demo.engine.get_run(run_id).status == RunStatus.SUCCEEDED
    deployer = demo.deployer
    rev = f"r{run_id}"
    entry = await deployer.deploy("api", "latest", "dev")
    assert entry.outcome == Outcome.SUCCEEDED and entry.to_revision == rev
    assert served(demo, "dev", "api")["revision"] == rev
    await deployer.promote("api", "staging")
    with pytest.raises(Refused, match="soak:staging 30s"):
        await deployer.promote("api", "prod")
    demo.clock.advance(seconds=31)
    entry = await deployer.promote("api", "prod")
    assert entry.outcome == Outcome.SUCCEEDED
    assert [g.passed for g in entry.gates] == [True, True]
    prod = served(demo, "prod", "api")
    assert (prod["revision"], prod["action"], prod["previous"]) == (rev, "promote", "none")
    assert entry.run_id is not None
    log = demo.engine.read_log(entry.run_id, "health")
    assert any("prod serves api" in line.text for line in log.lines)


async def test_a_poor_model_fails_its_health_check(demo: Deck) -> None:
    await demo.run("train")
    await demo.run("train", **POOR_MODEL)
    registry = demo.deployer.registry
    good, poor = registry.version("churn", 1), registry.version("churn", 2)
    assert good.metrics["auc"] >= 0.8 > 0.7 > poor.metrics["auc"]

    deployer = demo.deployer
    await deployer.deploy("churn", "v1", "staging")
    await deployer.promote("churn", "prod")
    assert served(demo, "prod", "churn")["revision"] == "v1"

    with pytest.raises(Refused, match=r"metric:auc >= 0.80: auc 0.5 < 0.8"):
        await deployer.deploy("churn", "v2", "prod")
    forced = await deployer.deploy("churn", "v2", "prod", force=True, reason="demo")
    assert forced.outcome == Outcome.FAILED and forced.forced
    assert forced.detail.startswith("health failed")
    assert deployer.store.state("churn", "prod").revision == "v1"
    assert served(demo, "prod", "churn")["revision"] == "v1"  # health.py put v1 back
    assert forced.run_id is not None
    log = demo.engine.read_log(forced.run_id, "health")
    texts = [line.text for line in log.lines]
    assert any("below the floor 0.7" in text for text in texts)
    assert "restored v1 in prod" in texts
