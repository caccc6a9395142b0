"""A bounded schemathesis run against the served OpenAPI schema: no request makes a 5xx."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from shipdeck.runners.local import open_local_runner
from shipdeck.server import bind, bound_url, create_app, start_server
from shipdeck.server.listen import Listen
from tests.engine.deploy.conftest import write_workspace
from tests.server.conftest import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}
# Endpoints that wait (for events, for a run) by design would only burn the time budget.
WAITING = r"^/v1/(events(/stream)?|runs/\{run_id\}/wait)$"


@pytest.fixture(scope="module")
def served_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real server on loopback TCP, in its own thread and event loop (schemathesis is sync)."""
    root = Path(tmp_path_factory.mktemp("fuzz")) / "ws"
    root.mkdir()
    workspace = write_workspace(root)
    ready = threading.Event()
    box: dict[str, object] = {}

    async def main() -> None:
        runner = await open_local_runner(workspace)
        listen = Listen(host="127.0.0.1", port=0)
        sock = bind(listen)
        server = await start_server(
            create_app(runner, token=TOKEN), sock, bound_url(listen, sock, False)
        )
        stop = asyncio.Event()
        box["url"], box["stop"], box["loop"] = server.url, stop, asyncio.get_running_loop()
        ready.set()
        await stop.wait()
        await server.stop()
        await runner.close()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(30)
    yield str(box["url"])
    loop, stop = box["loop"], box["stop"]
    assert isinstance(loop, asyncio.AbstractEventLoop) and isinstance(stop, asyncio.Event)
    loop.call_soon_threadsafe(stop.set)
    thread.join(30)


@pytest.fixture(scope="module")
def api_schema(served_url: str) -> schemathesis.schemas.BaseSchema:
    return schemathesis.openapi.from_url(f"{served_url}/v1/openapi.json", headers=AUTH)


schema = schemathesis.pytest.from_fixture("api_schema").exclude(path_regex=WAITING)


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_request_makes_a_server_error(case: schemathesis.Case, served_url: str) -> None:
    response = case.call(base_url=served_url, headers=AUTH, timeout=10)
    assert response.status_code < 500, (case.path, response.status_code, response.text)
    if response.status_code >= 400:
        error = response.json()["error"]
        assert error["message"] and "\n" not in error["message"]
