"""A shipdeck service deploying versions of a model an MLflow server holds (`registry = "lab"`):
gates read the version's run, SHIPDECK_ARTIFACT is its model URI, the prod alias follows what
prod holds, in MLflow and in shipdeck's alias history; the TUI's typed prod confirmation;
against the session's real server."""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from textual.widgets import Input

from shipdeck.errors import InvalidInput, NotFound, Refused
from shipdeck.model import DeployAction, Outcome
from shipdeck.runners.local import LocalRunner, open_local_runner
from shipdeck.runners.mlflow.api import MlflowApi
from shipdeck.runners.mlflow.runner import MlflowRunner
from shipdeck.tui import create_app
from shipdeck.tui.config import TuiConfig
from shipdeck.tui.views.deployments import DeploymentsView
from shipdeck.workspace import load_workspace
from tests.mlflow.conftest import MlflowServer, Seeded, seed
from tests.tui.deck import open_view, wait_for
from tests.tui.test_deployments import body, go_to, held, open_action, outcome

pytestmark = pytest.mark.timeout(300)

DEPLOY = """
set -e
mkdir -p deployed
env | grep '^SHIPDECK_' | sort > "deployed/$SHIPDECK_ENV-$SHIPDECK_REVISION.env"
echo "deployed $SHIPDECK_ARTIFACT to $SHIPDECK_ENV"
"""


def service_toml(model: str, registry: str = "lab") -> str:
    return textwrap.dedent(f"""
        [services.churn]
        model = "{model}"
        registry = "{registry}"
        environments = ["staging", "prod"]
        deploy = "sh deploy.sh"
        gates.prod = ["metric:auc >= 0.75"]
        aliases.prod = "champion"
        """)


def config_toml(url: str) -> str:
    return textwrap.dedent(f"""
        [[runners]]
        kind = "mlflow"
        name = "lab"
        url = "{url}"

        [[runners]]
        name = "build-1"
        url = "http://127.0.0.1:9"
        """)


@dataclass
class Deck:
    root: Path
    runner: LocalRunner
    seeded: Seeded

    def deployed(self, env: str, revision: str) -> dict[str, str]:
        lines = (self.root / "deployed" / f"{env}-{revision}.env").read_text().splitlines()
        return dict(line.split("=", 1) for line in lines)


@pytest.fixture
async def deck(
    mlflow_server: MlflowServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Deck]:
    # Runs 0, 1, 2 end with auc 0.74, 0.76, 0.78: v1 fails the prod gate, v2 and v3 pass.
    seeded = seed(mlflow_server, uuid.uuid4().hex[:8], runs=3, steps=5)
    config = tmp_path / "config.toml"
    config.write_text(config_toml(mlflow_server.url))
    monkeypatch.setenv("SHIPDECK_CONFIG", str(config))
    root = tmp_path / "ws"
    root.mkdir()
    (root / "shipdeck.toml").write_text(service_toml(seeded.model))
    (root / "deploy.sh").write_text(DEPLOY)
    runner = await open_local_runner(load_workspace(root), user="ana@deck")
    try:
        yield Deck(root, runner, seeded)
    finally:
        await runner.close()


def mlflow_aliases(server: MlflowServer, model: str) -> dict[str, str]:
    with server.client() as client:
        found = client.get("registered-models/get", params={"name": model}).json()
    return {a["alias"]: a["version"] for a in found["registered_model"].get("aliases", [])}


async def test_promote_through_a_metric_gate_moves_the_prod_alias_and_rolls_back(
    deck: Deck, mlflow_server: MlflowServer
) -> None:
    runner, model = deck.runner, deck.seeded.model
    assert mlflow_aliases(mlflow_server, model) == {"champion": "1"}

    await runner.deploy("churn", "v1", "staging")
    with pytest.raises(Refused, match=r"metric:auc >= 0.75: auc 0.74 < 0.75"):
        await runner.promote("churn", "prod")
    refused = (await runner.history("churn", "prod"))[0]
    assert (refused.outcome, refused.to_revision) == (Outcome.REFUSED, "v1")

    await runner.deploy("churn", "latest", "staging")  # v3, the newest version
    entry = await runner.promote("churn", "prod", reason="weekly refresh")
    assert (entry.action, entry.outcome, entry.to_revision) == (
        DeployAction.PROMOTE,
        Outcome.SUCCEEDED,
        "v3",
    )
    assert [(g.gate, g.passed, g.reason) for g in entry.gates] == [
        ("metric:auc >= 0.75", True, "auc 0.78 >= 0.75")
    ]
    seen = deck.deployed("prod", "v3")
    assert seen["SHIPDECK_ARTIFACT"] == f"models:/{model}/3"
    assert seen["SHIPDECK_MODEL_SOURCE"] == f"runs:/{deck.seeded.run_ids[2]}/model"
    assert seen["SHIPDECK_PREVIOUS_REVISION"] == ""
    assert entry.detail.endswith("alias champion: v1 -> v3")
    assert mlflow_aliases(mlflow_server, model) == {"champion": "3"}

    lab = MlflowRunner(MlflowApi(mlflow_server.url, name="lab"))
    try:
        (move,) = [m for m in await lab.alias_moves(model) if not m.outside]
        assert (move.alias, move.from_version, move.to_version) == ("champion", "1", "3")
        assert move.reason == f"prod of churn holds v3 (history #{entry.id})"

        await runner.deploy("churn", "2", "staging")
        await runner.promote("churn", "prod")
        assert mlflow_aliases(mlflow_server, model) == {"champion": "2"}
        back = await runner.rollback("churn", "prod", reason="v2 regressed")
        assert (back.outcome, back.from_revision, back.to_revision) == (
            Outcome.SUCCEEDED,
            "v2",
            "v3",
        )
        assert back.detail.endswith("alias champion: v2 -> v3")
        assert mlflow_aliases(mlflow_server, model) == {"champion": "3"}
        moves = [(m.from_version, m.to_version) for m in await lab.alias_moves(model)]
        assert moves[:3] == [("2", "3"), ("3", "2"), ("1", "3")]
    finally:
        await lab.close()
    states = {s.env: s.revision for s in await runner.deployments()}
    assert states == {"staging": "v2", "prod": "v3"}


async def test_the_deploy_dialog_reads_the_versions_in_mlflow(deck: Deck) -> None:
    versions = await deck.runner.model_versions(deck.seeded.model)
    assert [v.revision for v in versions] == ["v3", "v2", "v1"]
    assert versions[2].aliases == ["champion"]
    assert versions[0].metrics["auc"] == pytest.approx(0.78)


async def test_an_unknown_version_or_alias_is_one_line(deck: Deck) -> None:
    with pytest.raises(NotFound, match=r"has no version v9 \(v1\.\.v3\)$"):
        await deck.runner.deploy("churn", "v9", "staging")
    with pytest.raises(NotFound, match=r"no version or alias 'best'; aliases: champion$"):
        await deck.runner.plan(DeployAction.DEPLOY, "churn", "staging", revision="best")
    assert await deck.runner.history("churn") == []


@pytest.mark.parametrize(
    ("registry", "message"),
    [
        ("nope", r"registry 'nope' is not a configured runner \(model registries: lab;"),
        ("build-1", r"registry 'build-1' is a shipdeck runner, which holds no model registry"),
    ],
)
async def test_a_registry_that_is_not_one_is_refused_in_one_line(
    deck: Deck, registry: str, message: str
) -> None:
    (deck.root / "shipdeck.toml").write_text(service_toml(deck.seeded.model, registry))
    runner = await open_local_runner(load_workspace(deck.root), user="ana@deck")
    try:
        with pytest.raises(InvalidInput, match=message) as raised:
            await runner.deploy("churn", "v1", "staging")
        assert "\n" not in str(raised.value)
        assert await runner.history("churn") == []
        assert not (deck.root / "deployed").exists()
    finally:
        await runner.close()


async def test_promote_to_prod_asks_for_a_reason_and_the_name(
    deck: Deck, mlflow_server: MlflowServer
) -> None:
    await deck.runner.deploy("churn", "v3", "staging")
    app = create_app([deck.runner], config=TuiConfig())
    async with app.run_test(size=(80, 24)) as pilot:
        view: DeploymentsView = await open_view(pilot, "deployments")
        await go_to(pilot, view, "0:churn", "prod")
        screen = await open_action(pilot, "p")
        planned = "prod: (empty) → v3 (from staging)"
        await wait_for(pilot, lambda: planned in body(screen), "the plan")
        assert "✓ metric:auc >= 0.75  auc 0.78 >= 0.75" in body(screen)
        reason = screen.query_one("#reason", Input)
        await wait_for(pilot, lambda: screen.focused is reason, "the reason box")
        await pilot.press("enter")
        assert "a reason is required for prod" in outcome(screen)
        await pilot.press(*"weekly refresh", "enter")
        name = screen.query_one("#confirm-name", Input)
        assert screen.focused is name
        await pilot.press(*"chrun", "enter")  # not the service's name: nothing happens
        await pilot.pause(0.2)
        assert screen.phase == "ready" and await held(deck, "churn", "prod") is None
        await pilot.press(*["backspace"] * 5, *"churn", "enter")
        await wait_for(pilot, lambda: screen.phase == "done", "the promotion")
        assert "prod now holds v3" in outcome(screen)
    entry = (await deck.runner.history("churn", "prod"))[0]
    assert (entry.action, entry.outcome, entry.reason) == (
        DeployAction.PROMOTE,
        Outcome.SUCCEEDED,
        "weekly refresh",
    )
    assert mlflow_aliases(mlflow_server, deck.seeded.model) == {"champion": "3"}
