"""The automatic half of deployments on a real engine, real subprocesses and a real SQLite
file, driven by a test clock (each look is one scheduler `tick()`, no sleeps): scheduled
health checks with automatic rollback, and promotion policies for challenger versions."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shipdeck.engine.automation.scheduler import Scheduler
from shipdeck.engine.deploy.ledger import Ledger
from shipdeck.engine.deploy.promotion_policy import alert_behind
from shipdeck.errors import Conflict
from shipdeck.model import (
    AutoCause,
    AutoKind,
    DeployAction,
    HealthChangedEvent,
    HistoryEntry,
    Outcome,
    Run,
    RunCause,
    RunStatus,
    TriggerKind,
)
from shipdeck.runners.local import LocalRunner, open_local_runner
from tests.engine.deploy.conftest import USER, Clock, write_workspace

WORKSPACE = """
[pipelines.build]
params = { version = "1", fail = false }

[pipelines.build.tasks.package]
run = "sh scripts/package.sh"

[pipelines.train]
params = { auc = 0.9, fail = false, skip_model = false }

[pipelines.train.tasks.train]
run = "sh scripts/train.sh"
registers = { model = "churn", artifact = "out/model.json", alias = "challenger" }

[pipelines.retrain]
params = { auc = 0.9, fail_after = false }

[pipelines.retrain.tasks.train]
run = "sh scripts/train.sh"
registers = { model = "churn", artifact = "out/model.json", alias = "challenger" }

[pipelines.retrain.tasks.after]
run = 'while [ -e hold_after ]; do sleep 0.02; done; [ "$SHIPDECK_PARAM_FAIL_AFTER" != true ]'
needs = ["train"]

[services.api]
pipeline = "build"
artifact = "dist/app.txt"
environments = ["staging", "prod"]
deploy = "sh scripts/deploy.sh"
health = "sh scripts/health.sh"
health_every = "1m"
auto_rollback = ["prod"]
rollback_after = 3

[services.churn]
model = "churn"
environments = ["staging", "prod"]
deploy = "sh scripts/hold_deploy.sh"
gates.staging = ["metric:auc >= 0.5"]
auto_promote = { to = "staging", if = "auc >= champion.auc + 0.005" }

[services.slow]
pipeline = "build"
artifact = "dist/app.txt"
environments = ["dev"]
deploy = "true"
health = "sh scripts/slow_health.sh"
timeout = "0.5s"
health_every = "1m"
"""

SLOW_HEALTH = """
[ "$SHIPDECK_ACTION" = health ] || exit 0
sleep 30 &
echo $! > slow_health.pid
echo "waiting for the database"
wait
"""
"""Hangs when scheduled (deploys pass): its check times out, and its child must die too."""

HEALTH = """
if [ -e "unhealthy_$SHIPDECK_REVISION" ]; then echo "$SHIPDECK_REVISION answers 503" >&2; exit 1; fi
echo "$SHIPDECK_ACTION: $SHIPDECK_ENV serves $SHIPDECK_REVISION"
"""
"""Fails for the revisions the test marks unhealthy (so the way back is healthy)."""

HOLD_DEPLOY = """
while [ -e hold_deploy ]; do sleep 0.02; done
echo "$SHIPDECK_REVISION" > "deployed_$SHIPDECK_ENV"
"""
"""Deploys once the test lets it (removes `hold_deploy`): an action held in flight."""


def shipdeck(root: Path, *args: str) -> str:
    """The real command, in process on the same workspace (a second process on the file)."""
    done = subprocess.run(
        [sys.executable, "-m", "shipdeck", "-C", str(root), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "SHIPDECK_IN_PROCESS": "1", "NO_COLOR": "1"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def newest_when(table: str) -> list[str]:
    """The WHEN column (date and time) of the table's first row."""
    return table.splitlines()[1].split()[1:3]


def running(pid: int) -> bool:
    """Whether the process runs (a zombie waiting to be reaped does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


class Ticks:
    """The scheduler's clock (epoch seconds), moved by the test."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Deck:
    root: Path
    runner: LocalRunner
    scheduler: Scheduler
    ticks: Ticks

    async def look(self, after: float = 0.0) -> None:
        """Move the clock on, look once, and wait for what the look started."""
        self.ticks.now += after
        await self.scheduler.tick()
        assert self.runner.autopilot.deploy_automation is not None
        await self.runner.autopilot.deploy_automation.idle()

    async def run(self, pipeline: str, **params: Any) -> int:
        run = await self.runner.start_run(pipeline, {k: str(v) for k, v in params.items()})
        finished = await self.runner.wait_run(run.id)
        assert finished.status == RunStatus.SUCCEEDED
        return run.id

    async def history(self, service: str, env: str) -> list[HistoryEntry]:
        return await self.runner.history(service, env)

    async def health_events(self, after: int) -> list[tuple[str, str, str | None]]:
        page = await self.runner.wait_events(after, wait=0)
        return [
            (e.data.revision, e.data.health, e.data.previous)
            for e in page.events
            if isinstance(e, HealthChangedEvent)
        ]


@pytest.fixture
async def deck(tmp_path: Path) -> AsyncIterator[Deck]:
    workspace = write_workspace(tmp_path, WORKSPACE)
    (tmp_path / "scripts" / "health.sh").write_text(HEALTH)
    (tmp_path / "scripts" / "hold_deploy.sh").write_text(HOLD_DEPLOY)
    (tmp_path / "scripts" / "slow_health.sh").write_text(SLOW_HEALTH)
    runner = await open_local_runner(workspace, user=USER, clock=Clock())
    ticks = Ticks()
    scheduler = runner.start_scheduling(clock=ticks)
    try:
        yield Deck(tmp_path, runner, scheduler, ticks)
    finally:
        await runner.close()


async def _prod_on_r2(deck: Deck) -> None:
    """r1 then r2 deployed to prod by a person, both healthy when deployed."""
    await deck.run("build", version="1")
    await deck.run("build", version="2")
    for revision in ("r1", "r2"):
        entry = await deck.runner.deploy("api", revision, "prod")
        assert entry.outcome == Outcome.SUCCEEDED


async def test_health_failing_three_times_in_a_row_rolls_prod_back_as_automatic(
    deck: Deck,
) -> None:
    await _prod_on_r2(deck)
    seq = await deck.runner.last_seq()
    (deck.root / "unhealthy_r2").touch()
    await deck.look()
    await deck.look(after=30)  # not due: one check a minute
    await deck.look(after=30)
    assert [h.to_revision for h in await deck.history("api", "prod")] == ["r2", "r1"]
    await deck.look(after=60)  # the third failure in a row
    assert deck.runner.autopilot.deploy_automation is not None
    checks = deck.runner.autopilot.deploy_automation.store.checks("api", "prod")
    assert [(c.revision, c.passed, c.failures) for c in checks[:3]] == [
        ("r2", False, 3),
        ("r2", False, 2),
        ("r2", False, 1),
    ]
    assert "r2 answers 503" in checks[0].output
    assert checks[0].exit_code == 1
    newest = (await deck.history("api", "prod"))[0]
    assert (newest.action, newest.from_revision, newest.to_revision, newest.outcome) == (
        DeployAction.ROLLBACK,
        "r2",
        "r1",
        Outcome.SUCCEEDED,
    )
    assert newest.automatic and newest.cause is not None
    assert newest.cause.kind == AutoKind.HEALTH and newest.cause.failures == 3
    assert newest.reason.startswith("automatic, because health failed 3 times in a row on r2")
    assert newest.user.startswith("shipdeck@")
    [state] = [s for s in await deck.runner.deployments() if (s.service, s.env) == ("api", "prod")]
    assert (state.revision, state.health) == ("r1", "passed")
    assert (deck.root / "envs" / "api" / "prod" / "revision").read_text().strip() == "r1"
    # The health of the environment moved: failed (by the check), passed (by the rollback).
    assert await deck.health_events(seq) == [("r2", "failed", "passed"), ("r1", "passed", "failed")]
    # The way back is healthy: checks go on, nothing else happens.
    await deck.look(after=60)
    assert deck.runner.autopilot.deploy_automation.store.checks("api", "prod")[0].passed
    assert len(await deck.history("api", "prod")) == 3
    # `shipdeck history` shows it as automatic, with its cause.
    table = shipdeck(deck.root, "history", "api", "--env", "prod")
    assert table.splitlines()[1].split()[:6] == [
        "3",
        *newest_when(table),
        "prod",
        "auto",
        "rollback",
    ]
    assert "automatic, because health failed 3 times in a row on r2" in table
    [listed, *_] = json.loads(shipdeck(deck.root, "history", "api", "--json"))
    assert listed["cause"]["kind"] == "health" and listed["cause"]["failures"] == 3
    # `shipdeck health` lists the checks, newest first.
    lines = shipdeck(deck.root, "health", "api", "--env", "prod").splitlines()
    assert lines[0].split() == [
        "WHEN", "ENV", "REVISION", "HEALTH", "IN", "A", "ROW", "EXIT", "TOOK", "LAST", "LINE"
    ]  # fmt: skip
    assert lines[1].split()[2:6] == ["prod", "r1", "✓", "passed"]
    assert lines[2].split()[2:8] == ["prod", "r2", "✗", "failed", "3", "1"]
    assert lines[2].endswith("r2 answers 503")
    [check, *_] = json.loads(shipdeck(deck.root, "health", "api", "--json"))
    assert (check["revision"], check["passed"]) == ("r1", True)


async def test_a_passing_check_resets_the_count(deck: Deck) -> None:
    await _prod_on_r2(deck)
    unhealthy = deck.root / "unhealthy_r2"
    for healthy in (False, False, True, False, False):
        if healthy:
            unhealthy.unlink()
        else:
            unhealthy.touch()
        await deck.look(after=60)
    assert deck.runner.autopilot.deploy_automation is not None
    checks = deck.runner.autopilot.deploy_automation.store.checks("api", "prod")
    assert [c.failures for c in reversed(checks)] == [1, 2, 0, 1, 2]
    assert [h.to_revision for h in await deck.history("api", "prod")] == ["r2", "r1"]


async def test_an_environment_not_in_auto_rollback_is_only_checked(deck: Deck) -> None:
    await deck.run("build", version="1")
    await deck.run("build", version="2")
    for revision in ("r1", "r2"):
        await deck.runner.deploy("api", revision, "staging")
    (deck.root / "unhealthy_r2").touch()
    for _ in range(4):
        await deck.look(after=60)
    assert deck.runner.autopilot.deploy_automation is not None
    assert deck.runner.autopilot.deploy_automation.store.checks("api", "staging")[0].failures == 4
    assert [h.to_revision for h in await deck.history("api", "staging")] == ["r2", "r1"]
    [state] = [
        s for s in await deck.runner.deployments() if (s.service, s.env) == ("api", "staging")
    ]
    assert state.health == "failed"


async def test_an_automatic_rollback_is_not_undone_by_another(deck: Deck) -> None:
    """When the revision an automatic rollback returned to fails too, going back again would
    return to the one just rolled back from: a person decides."""
    await _prod_on_r2(deck)
    (deck.root / "unhealthy_r2").touch()
    for _ in range(3):
        await deck.look(after=60)
    (deck.root / "unhealthy_r1").touch()
    for _ in range(4):
        await deck.look(after=60)
    history = await deck.history("api", "prod")
    assert [(h.action, h.to_revision) for h in history] == [
        (DeployAction.ROLLBACK, "r1"),
        (DeployAction.DEPLOY, "r2"),
        (DeployAction.DEPLOY, "r1"),
    ]


async def test_nothing_is_checked_where_nothing_is_deployed(deck: Deck) -> None:
    await deck.look()
    assert deck.runner.autopilot.deploy_automation is not None
    assert deck.runner.autopilot.deploy_automation.store.checks("api") == []


async def test_a_check_that_hangs_times_out_and_is_killed_with_its_children(deck: Deck) -> None:
    await deck.run("build", version="1")
    assert (await deck.runner.deploy("slow", "r1", "dev")).outcome == Outcome.SUCCEEDED
    await deck.look()
    assert deck.runner.autopilot.deploy_automation is not None
    [check] = deck.runner.autopilot.deploy_automation.store.checks("slow")
    assert (check.passed, check.exit_code) == (False, None)
    assert check.output == "waiting for the database\ntimed out after 0.5s"
    pid = int((deck.root / "slow_health.pid").read_text())
    assert not running(pid)


# Promotion policy ----------------------------------------------------------------------


async def _champion(deck: Deck, auc: float) -> None:
    """v1 trained and named champion by a person."""
    await deck.look()  # the policy starts watching
    await deck.run("train", auc=auc)
    await deck.runner.alias("churn", "champion", "v1")


async def test_a_challenger_that_meets_the_policy_goes_to_staging_automatically(
    deck: Deck,
) -> None:
    await _champion(deck, 0.80)
    await deck.look()  # v1 was the challenger too, and is the champion: not better than itself
    assert await deck.history("churn", "staging") == []
    run_id = await deck.run("train", auc=0.85)
    await deck.look()
    [entry] = await deck.history("churn", "staging")
    assert (entry.action, entry.to_revision, entry.outcome) == (
        DeployAction.DEPLOY,
        "v2",
        Outcome.SUCCEEDED,
    )
    assert entry.automatic and entry.cause is not None
    assert (entry.cause.kind, entry.cause.run_id, entry.cause.version) == (
        AutoKind.POLICY,
        run_id,
        "2",
    )
    assert entry.reason == (
        f"automatic, because run #{run_id} made churn v2 the challenger and the policy holds:"
        " auc 0.85 >= champion.auc 0.8 + 0.005"
    )
    assert [g.passed for g in entry.gates] == [True]  # the service's gates still apply
    assert (deck.root / "deployed_staging").read_text().strip() == "v2"
    assert await deck.history("churn", "prod") == []  # never further
    await deck.look(after=60)  # decided once
    assert len(await deck.history("churn", "staging")) == 1


async def test_a_challenger_below_the_policy_is_not_deployed(deck: Deck) -> None:
    await _champion(deck, 0.80)
    await deck.run("train", auc=0.804)
    await deck.look()
    assert await deck.history("churn", "staging") == []
    assert deck.runner.autopilot.deploy_automation is not None
    decisions = deck.runner.autopilot.deploy_automation.store.decisions("churn")
    assert [(d.version, d.held) for d in decisions] == [("2", False), ("1", False)]
    assert "auc 0.804 < champion.auc 0.8 + 0.005" in decisions[0].detail


async def test_the_policy_watches_only_challengers_named_after_it_started(deck: Deck) -> None:
    await deck.run("train", auc=0.80)
    await deck.runner.alias("churn", "champion", "v1")
    await deck.run("train", auc=0.95)  # before the first look: history, not news
    await deck.look()
    await deck.look()
    assert await deck.history("churn", "staging") == []


async def test_a_manual_action_in_flight_beats_the_automatic_one(deck: Deck) -> None:
    """Compare-and-swap as for people: the environment is busy, so the automatic deploy
    is recorded as a conflict and the person's action ends as it would have."""
    await _champion(deck, 0.80)
    hold = deck.root / "hold_deploy"
    hold.touch()
    manual = await deck.runner.deploy("churn", "v1", "staging", wait=False)
    assert manual.outcome == Outcome.RUNNING
    await deck.run("train", auc=0.9)
    await deck.look()
    history = await deck.history("churn", "staging")
    assert [(h.to_revision, h.outcome, h.automatic) for h in history] == [
        ("v2", Outcome.CONFLICT, True),
        ("v1", Outcome.RUNNING, False),
    ]
    assert "busy with another action" in history[0].detail
    hold.unlink()
    await deck.runner.deployer.settled()
    [state] = [
        s for s in await deck.runner.deployments() if (s.service, s.env) == ("churn", "staging")
    ]
    assert state.revision == "v1"
    assert deck.runner.autopilot.deploy_automation is not None
    [decision, _] = deck.runner.autopilot.deploy_automation.store.decisions("churn")
    assert decision.held and "not deployed: staging of churn is busy" in decision.detail


async def test_a_challenger_waits_for_its_run_and_one_whose_run_failed_stays(
    deck: Deck,
) -> None:
    await _champion(deck, 0.80)
    await deck.look()
    hold = deck.root / "hold_after"
    hold.touch()
    try:
        first = await deck.runner.start_run("retrain", {"auc": "0.9", "fail_after": "true"})
        await _registered(deck, 2)
        second = await deck.runner.start_run("retrain", {"auc": "0.95"})
        await _registered(deck, 3)
        await deck.look()  # v2's run is still going: nothing decided, v3 waits behind it
        assert deck.runner.autopilot.deploy_automation is not None
        assert [
            d.version for d in deck.runner.autopilot.deploy_automation.store.decisions("churn")
        ] == ["1"]
    finally:
        hold.unlink()
    assert (await deck.runner.wait_run(first.id)).status == RunStatus.FAILED
    assert (await deck.runner.wait_run(second.id)).status == RunStatus.SUCCEEDED
    await deck.look()
    decisions = deck.runner.autopilot.deploy_automation.store.decisions("churn")
    assert [(d.version, d.held) for d in decisions] == [("3", True), ("2", False), ("1", False)]
    assert f"run #{first.id} failed: not promoted" in decisions[1].detail
    [entry] = await deck.history("churn", "staging")
    assert (entry.to_revision, entry.outcome) == ("v3", Outcome.SUCCEEDED)


async def _registered(deck: Deck, versions: int) -> None:
    """Wait (on events, no sleeps) until the model has `versions` versions."""
    seq = 0
    while len(await deck.runner.model_versions("churn")) < versions:
        page = await deck.runner.wait_events(seq, wait=5)
        seq = page.last_seq


async def test_a_policy_never_deploys_to_prod_without_allow_prod(deck: Deck) -> None:
    """The file refuses it; a configuration built some other way is held to it too."""
    await _champion(deck, 0.80)
    workspace = deck.runner.workspace
    churn = workspace.services["churn"]
    assert churn.auto_promote is not None
    to_prod = churn.auto_promote.model_copy(update={"to": "prod"})
    services = {**workspace.services, "churn": churn.model_copy(update={"auto_promote": to_prod})}
    deck.runner.deployer.workspace = workspace.model_copy(update={"services": services})
    await deck.run("train", auc=0.95)
    await deck.look()
    assert await deck.history("churn", "prod") == []


async def test_a_policy_declared_again_starts_afresh(deck: Deck) -> None:
    await _champion(deck, 0.80)
    toml = deck.root / "shipdeck.toml"
    declared = toml.read_text()
    policy = 'auto_promote = { to = "staging", if = "auc >= champion.auc + 0.005" }\n'
    toml.write_text(declared.replace(policy, ""))
    await deck.look(after=60)
    assert deck.runner.workspace.services["churn"].auto_promote is None
    await deck.run("train", auc=0.9)  # named while no policy watched
    toml.write_text(declared)
    await deck.look(after=60)
    await deck.look(after=60)
    assert await deck.history("churn", "staging") == []
    await deck.run("train", auc=0.91)
    await deck.look(after=60)
    assert [h.to_revision for h in await deck.history("churn", "staging")] == ["v3"]


async def test_a_challenger_is_decided_once_even_if_its_move_is_read_again(deck: Deck) -> None:
    """A process killed after deciding but before moving its cursor: the next one reads the
    move again and finds the decision recorded (keyed by service and move)."""
    await _champion(deck, 0.80)
    await deck.run("train", auc=0.9)
    await deck.look()
    assert len(await deck.history("churn", "staging")) == 1
    with sqlite3.connect(deck.root / ".shipdeck" / "shipdeck.db") as db:
        db.execute("UPDATE automation_cursors SET cursor = 0")
    await deck.look(after=60)
    assert len(await deck.history("churn", "staging")) == 1


async def test_an_automatic_action_in_flight_beats_a_manual_one(deck: Deck) -> None:
    """And the other way round: while the automatic deploy holds staging, a person's action
    on it is a conflict; the automatic one ends as it would have."""
    await _champion(deck, 0.80)
    await deck.look()
    hold = deck.root / "hold_deploy"
    hold.touch()
    try:
        await deck.run("train", auc=0.9)
        deck.ticks.now += 60
        await deck.scheduler.tick()  # the automatic deploy starts, and waits on `hold`
        await _in_flight(deck, "churn", "staging")
        with pytest.raises(Conflict, match="busy with another action \\(deploy to v2 by shipdeck@"):
            await deck.runner.deploy("churn", "v1", "staging", expect="none")
    finally:
        hold.unlink()
    assert deck.runner.autopilot.deploy_automation is not None
    await deck.runner.autopilot.deploy_automation.idle()
    history = await deck.history("churn", "staging")
    assert [(h.to_revision, h.outcome, h.automatic) for h in history] == [
        ("v1", Outcome.CONFLICT, False),
        ("v2", Outcome.SUCCEEDED, True),
    ]


async def _in_flight(deck: Deck, service: str, env: str) -> None:
    """Wait (on events) until an action holds the environment."""
    seq = 0
    while True:
        states = await deck.runner.deployments()
        if any(s.in_flight for s in states if (s.service, s.env) == (service, env)):
            return
        seq = (await deck.runner.wait_events(seq, wait=5)).last_seq


# The ledger's migration ----------------------------------------------------------------


def test_a_ledger_of_schema_1_gains_the_automation_tables(tmp_path: Path) -> None:
    path = tmp_path / "shipdeck.db"
    Ledger(path).close()
    with sqlite3.connect(path) as db:
        for table in ("health_checks", "policy_decisions", "automation_cursors"):
            db.execute(f"DROP TABLE {table}")
        db.execute("ALTER TABLE deploy_history DROP COLUMN cause")
        db.execute(
            "INSERT INTO deploy_history (service, env, action, from_revision, to_revision, user,"
            " at, reason, outcome, gates, forced, detail) VALUES"
            " ('api', 'prod', 'deploy', NULL, 'r1', 'a@b', 0, '', 'succeeded', '[]', 0, '')"
        )
        db.execute("UPDATE meta SET value = '1' WHERE key = 'ledger_schema'")
    ledger = Ledger(path)
    try:
        from shipdeck.engine.deploy.deploy_store import DeployStore

        [entry] = DeployStore(ledger).history("api")
        assert (entry.to_revision, entry.cause) == ("r1", None)
        tables = {r[0] for r in ledger.db.execute("SELECT name FROM sqlite_master")}
        assert {"health_checks", "policy_decisions", "automation_cursors"} <= tables
    finally:
        ledger.close()


async def test_a_daemon_with_scheduled_checks_does_not_exit_when_idle(deck: Deck) -> None:
    """No pipeline has a schedule here: the services' health checks and policy keep the
    runner that fires them from idling out."""
    assert deck.runner.scheduling


def test_an_alert_behind_a_retraining_run_is_the_cause() -> None:
    """The hook for monitors: a run whose cause names an alert (retraining `on_alert`) makes
    the promotion it leads to `automatic, because alert #N: ...`."""

    class AlertCause(RunCause):
        alert_id: int

    at = datetime(2026, 1, 5, tzinfo=UTC)
    run = Run(id=7, pipeline="retrain", status=RunStatus.SUCCEEDED, created_at=at, user="u@h")
    assert alert_behind(run) is None
    cause = AlertCause(kind=TriggerKind.EVERY, schedule="retrain.on_alert", alert_id=4)
    assert alert_behind(run.model_copy(update={"cause": cause})) == 4
    named = AutoCause(kind=AutoKind.POLICY, text="run #7 made churn v5 the challenger", alert_id=4)
    assert named.because == "automatic, because alert #4: run #7 made churn v5 the challenger"
