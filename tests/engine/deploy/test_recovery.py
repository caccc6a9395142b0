"""A process killed in the middle of an action: its claim is released by the next engine to
open, the action is recorded as interrupted, and the environment keeps its revision."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from shipdeck.model import EnvironmentState, Outcome, RunStatus

from .conftest import Deck

WORKER = Path(__file__).with_name("race_worker.py")


def claims(deck: Deck) -> list[tuple[object, ...]]:
    db = sqlite3.connect(deck.workspace.state_dir / "shipdeck.db")
    try:
        return db.execute("SELECT service, env FROM deploy_claims").fetchall()
    finally:
        db.close()


def start_worker(root: Path, name: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(root), name],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


async def test_killed_action_is_released_and_recorded(deck: Deck) -> None:
    await deck.train(auc=0.9)
    await deck.train(auc=0.95)
    await deck.deployer.deploy("churn", "v1", "staging")
    await deck.deployer.promote("churn", "prod")
    await deck.deployer.deploy("churn", "v2", "staging")
    (deck.root / "slow_deploy").touch()

    worker = start_worker(deck.root, "doomed")
    assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
    assert worker.stdin is not None
    worker.stdin.write("v1\n")
    worker.stdin.flush()
    deadline = time.monotonic() + 20
    while claims(deck) != [("churn", "prod")]:
        assert time.monotonic() < deadline, "the worker never claimed prod"
        await asyncio.sleep(0.02)
    # Kill it in the middle of the deploy script: once the claim names its deploy run (the
    # claim comes first; on a busy machine the kill could land before the run existed).
    while (state := deck.deployer.store.state("churn", "prod")).in_flight is None or (
        state.in_flight.run_id is None
    ):
        assert time.monotonic() < deadline, "the worker never started its deploy run"
        await asyncio.sleep(0.02)
    assert state.in_flight is not None and state.in_flight.user == "doomed@host"
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    (deck.root / "slow_deploy").unlink()

    engine, deployer = deck.open()
    assert claims(deck) == []
    (latest, *_) = deployer.history("churn", "prod")
    assert latest.outcome == Outcome.INTERRUPTED and latest.user == "doomed@host"
    assert latest.run_id is not None
    assert engine.get_run(latest.run_id).status == RunStatus.INTERRUPTED
    assert deployer.store.state("churn", "prod").revision == "v1"

    entry = await deployer.promote("churn", "prod", expect="v1")
    assert entry.outcome == Outcome.SUCCEEDED
    assert deployer.store.state("churn", "prod").revision == "v2"


async def test_a_process_open_all_along_sees_the_killed_action_end_on_its_next_read(
    deck: Deck,
) -> None:
    """A long-lived reader (the daemon, a TUI's runner): no new engine opens, yet its reads of
    the environments and the history stop showing an action whose process died."""
    await deck.train(auc=0.9)
    await deck.deployer.deploy("churn", "v1", "staging")
    (deck.root / "slow_deploy").touch()
    worker = start_worker(deck.root, "doomed")
    assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
    assert worker.stdin is not None
    worker.stdin.write("none\n")
    worker.stdin.flush()
    deadline = time.monotonic() + 20
    while (flight := prod(deck).in_flight) is None or flight.run_id is None:
        assert time.monotonic() < deadline, "the worker never started its deploy run"
        await asyncio.sleep(0.02)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)

    assert prod(deck).in_flight is None
    (latest, *_) = deck.deployer.history("churn", "prod")
    assert (latest.id, latest.outcome) == (flight.id, Outcome.INTERRUPTED)
    assert deck.engine.get_run(flight.run_id).status == RunStatus.INTERRUPTED
    assert claims(deck) == []


def prod(deck: Deck) -> EnvironmentState:
    [state] = [s for s in deck.deployer.deployments() if (s.service, s.env) == ("churn", "prod")]
    return state
