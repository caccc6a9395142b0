"""The Runner contract suite (tests/contract) against the MLflow runner on the real server.

The suite's tests say what they need (`@needs`); the MLflow runner declares pipelines, metrics
and their steps, models, aliases, failures and polled events, so the tests that start runs
(TRIGGER, which MLflow cannot) skip, saying why, and the rest run here. What MLflow itself
holds is seeded through its REST API (`contract_seed`): the experiments the suite names.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from shipdeck.runners.mlflow.api import MlflowApi
from shipdeck.runners.mlflow.runner import MlflowRunner
from shipdeck.runners.protocol import Runner
from tests.contract.harness import skip_unless_capable
from tests.contract.test_runs import *  # noqa: F403 (the suite's tests, collected here)
from tests.mlflow.conftest import MlflowServer

pytestmark = pytest.mark.timeout(300)
EXPERIMENTS = ("build", "slow", "chatty")
"""The pipelines the suite names (tests.contract.harness.WORKSPACE), as experiments."""


@pytest.fixture
def contract_seed(mlflow_server: MlflowServer) -> None:
    """The suite's pipelines as experiments (once: the server is shared by the session)."""
    with mlflow_server.client() as client:
        for name in EXPERIMENTS:
            found = client.get("experiments/get-by-name", params={"experiment_name": name})
            if found.status_code == httpx.codes.NOT_FOUND:
                client.post("experiments/create", json={"name": name}).raise_for_status()


@pytest.fixture
async def contract_runner(
    request: pytest.FixtureRequest, mlflow_server: MlflowServer, contract_seed: None
) -> AsyncIterator[Runner]:
    runner = MlflowRunner(MlflowApi(mlflow_server.url, name="lab"))
    try:
        await skip_unless_capable(request, runner)
        yield runner
    finally:
        await runner.close()
