"""The contract suite's subject: the embedded engine on a seeded workspace, reached in process,
over the daemon's Unix socket and over TCP (see the package docstring)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from shipdeck.model import WorkspaceSpec
from shipdeck.runners.local import LocalRunner, open_local_runner
from shipdeck.runners.protocol import Runner
from tests.contract.harness import (
    KINDS,
    Seeder,
    executing_seeder,
    reach,
    skip_unless_capable,
    write_workspace,
)


@pytest.fixture
def contract_seed(tmp_path: Path) -> WorkspaceSpec:
    """The workspace the tests run on (pipelines build, slow and chatty); modules that need
    another override this fixture."""
    return write_workspace(tmp_path / "ws")


@pytest.fixture
def contract_pipeline() -> Callable[[str], str]:
    """The name a runner records for the suite's pipeline NAME (`build`): the name itself
    here; an adapter whose pipelines are named otherwise (Prefect's `build/contract`)
    overrides this, and the tests filter runs by what it answers."""
    return lambda name: name


@pytest.fixture
async def contract_backend(contract_seed: WorkspaceSpec) -> AsyncIterator[LocalRunner]:
    """The embedded engine's runner behind every kind (tests reach its engine through it)."""
    runner = await open_local_runner(contract_seed)
    try:
        yield runner
    finally:
        await runner.close()


@pytest.fixture(params=KINDS)
async def contract_runner(
    request: pytest.FixtureRequest,
    contract_backend: LocalRunner,
    contract_seed: WorkspaceSpec,
    tmp_path: Path,
) -> AsyncIterator[Runner]:
    async with reach(request.param, contract_backend, contract_seed, tmp_path) as runner:
        await skip_unless_capable(request, runner)
        yield runner


@pytest.fixture
def contract_seeder(contract_runner: Runner) -> Seeder:
    """How tests make finished runs: by running them here (see harness.Seeder)."""
    return executing_seeder(contract_runner)
