"""The Runner contract suite (tests/contract) against the prefect runner: the session's Prefect
server serving the suite's pipelines as flows (tests/prefect/flows/contract.py, each the one
deployment `contract` of its flow: `build` triggers `build/contract`), every flow run deleted
before each test (the seeding hook: the tests then trigger those deployments through the
contract), every test of the kind-independent modules collected and skipped only where
Prefect's capabilities say no (or where a test edits the embedded engine's workspace file).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from shipdeck.runners.prefect.runner import PrefectRunner
from shipdeck.runners.protocol import Runner
from tests.contract.harness import Seeder, executing_seeder, skip_unless_capable
from tests.contract.test_log_search import *  # noqa: F403 (collected here, with these fixtures)
from tests.contract.test_runs import *  # noqa: F403
from tests.prefect.conftest import PrefectServer

pytestmark = pytest.mark.timeout(600)


@pytest.fixture
def contract_seed(prefect_server: PrefectServer) -> None:
    """A clean slate: no flow run left from an earlier test (of this module or another)."""
    while True:
        runs: list[dict[str, Any]] = prefect_server.call("POST", "flow_runs/filter", {"limit": 200})
        if not runs:
            return
        for run in runs:
            httpx.delete(f"{prefect_server.url}/flow_runs/{run['id']}", timeout=30.0)


@pytest.fixture
def contract_pipeline() -> Callable[[str], str]:
    """The suite's pipeline `build` is the deployment `build/contract`."""
    return lambda name: f"{name}/contract"


@pytest.fixture
async def contract_runner(
    request: pytest.FixtureRequest, prefect_server: PrefectServer, contract_seed: None
) -> AsyncIterator[Runner]:
    opened = PrefectRunner(prefect_server.url, name="contract", poll_interval=0.5)
    try:
        await skip_unless_capable(request, opened)
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def contract_seeder(contract_runner: Runner) -> Seeder:
    """Runs are made by triggering the deployments (see harness.Seeder)."""
    return executing_seeder(contract_runner)
