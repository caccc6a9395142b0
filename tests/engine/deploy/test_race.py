"""Two processes promote the same environment at the same moment, 50 times over: exactly one
wins each time, the other gets a conflict, and the history tells the same story."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipdeck.model import DeployAction, Outcome

from .conftest import Deck

ROUNDS = 50
WORKER = Path(__file__).with_name("race_worker.py")


@pytest.fixture
def workers(deck: Deck) -> Iterator[list[subprocess.Popen[str]]]:
    started = [
        subprocess.Popen(
            [sys.executable, str(WORKER), str(deck.root), name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for name in ("alice", "bob")
    ]
    try:
        for worker in started:
            assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
        yield started
    finally:
        for worker in started:
            if worker.stdin:
                worker.stdin.close()
            worker.wait(timeout=30)


async def test_concurrent_promotes_have_exactly_one_winner(
    deck: Deck, workers: list[subprocess.Popen[str]]
) -> None:
    await deck.train(auc=0.9)
    await deck.train(auc=0.95)
    deployer = deck.deployer
    await deployer.deploy("churn", "v1", "staging")
    await deployer.promote("churn", "prod")
    prod = "v1"
    for round_number in range(ROUNDS):
        candidate = "v2" if prod == "v1" else "v1"
        await deployer.deploy("churn", candidate, "staging")
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write(prod + "\n")
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.flush()
        results = []
        for worker in workers:
            assert worker.stdout is not None
            results.append(json.loads(worker.stdout.readline()))
        outcomes = sorted(result["outcome"] for result in results)
        assert outcomes == ["error", "succeeded"], (round_number, results)
        (loser,) = [r for r in results if r["outcome"] == "error"]
        assert loser["kind"] == "Conflict", loser
        assert deployer.store.state("churn", "prod").revision == candidate
        assert deck.on_disk("churn", "prod") == candidate
        prod = candidate

    promotes = [
        h
        for h in reversed(deployer.history("churn", "prod", limit=1000))
        if h.action == DeployAction.PROMOTE
    ]
    wins = [h for h in promotes if h.outcome == Outcome.SUCCEEDED]
    conflicts = [h for h in promotes if h.outcome == Outcome.CONFLICT]
    assert len(wins) == ROUNDS + 1 and len(conflicts) == ROUNDS
    assert {h.user for h in wins[1:]} <= {"alice@host", "bob@host"}
    for before, after in itertools.pairwise(wins):
        assert after.from_revision == before.to_revision
    assert all(h.run_id is not None for h in wins)
    assert deck.ledger()["deploy_claims"] == []
