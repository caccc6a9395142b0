"""Auth on every route: no token, a wrong token, a token in the query string are all refused."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import httpx
import pytest

from shipdeck.errors import Refused, Unauthorized
from shipdeck.runners.local import LocalRunner
from shipdeck.runners.remote import RemoteRunner
from shipdeck.server import RunningServer, check_policy, create_app, parse_listen
from shipdeck.server.listen import bind_unix
from tests.server.conftest import TOKEN


def every_route() -> list[tuple[str, str]]:
    schema = create_app(None).openapi()
    routes = [
        (method.upper(), path.replace("{run_id}", "1").replace("{task}", "compile"))
        for path, operations in schema["paths"].items()
        for method in sorted(operations)
    ]
    # The schema and docs are routes too; strangers get nothing from them either.
    return [*routes, ("GET", "/v1/openapi.json"), ("GET", "/v1/docs"), ("GET", "/nowhere")]


ROUTES = every_route()


def test_the_route_list_covers_the_api() -> None:
    paths = {path for _, path in ROUTES}
    assert {"/v1/runs", "/v1/events/stream", "/v1/runs/1/cancel", "/v1/health"} <= paths


async def test_every_route_refuses_missing_wrong_and_query_tokens(
    tcp_server: RunningServer,
) -> None:
    attempts = {
        "no token": {},
        "wrong token": {"headers": {"Authorization": "Bearer not-the-token"}},
        "wrong scheme": {"headers": {"Authorization": f"Basic {TOKEN}"}},
        "token prefix": {"headers": {"Authorization": f"Bearer {TOKEN[:-1]}"}},
        "query token": {"params": {"token": TOKEN}},
        "query token with header": {
            "params": {"access_token": TOKEN},
            "headers": {"Authorization": f"Bearer {TOKEN}"},
        },
    }
    async with httpx.AsyncClient(base_url=tcp_server.url) as client:
        for method, path in ROUTES:
            for label, options in attempts.items():
                response = await client.request(method, path, **options)  # type: ignore[arg-type]
                assert response.status_code == 401, (method, path, label, response.text)
                assert response.json()["error"]["type"] == "Unauthorized"
                assert TOKEN not in response.text


async def test_right_token_is_let_in(tcp_server: RunningServer) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=tcp_server.url, headers=headers) as client:
        assert (await client.get("/v1/health")).status_code == 200
        assert (await client.get("/v1/openapi.json")).status_code == 200


async def test_client_reports_a_wrong_token_as_unauthorized(tcp_server: RunningServer) -> None:
    client = RemoteRunner(tcp_server.url, token="wrong")
    try:
        with pytest.raises(Unauthorized, match="wrong bearer token"):
            await client.pipelines()
        with pytest.raises(Unauthorized):
            await client.wait_events(0, wait=0)
    finally:
        await client.close()


async def test_tokens_never_reach_the_logs(
    tcp_server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with httpx.AsyncClient(base_url=tcp_server.url) as client:
        await client.get("/v1/runs", params={"token": TOKEN})
        await client.get("/v1/runs", headers={"Authorization": f"Bearer {TOKEN}"})
        await client.get("/v1/runs/999", headers={"Authorization": f"Bearer {TOKEN}x"})
    # Only the server's own loggers: this test's client deliberately put a token in a URL.
    server_lines = "\n".join(
        record.getMessage()
        for record in caplog.records
        if record.name.startswith(("shipdeck", "uvicorn", "fastapi", "starlette"))
    )
    assert "GET /v1/runs 401" in server_lines  # the access log is there...
    assert TOKEN not in server_lines  # ...without the token


async def test_unix_socket_is_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "runner.sock"
    sock = bind_unix(path)
    try:
        assert stat.S_ISSOCK(path.stat().st_mode)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        sock.close()


def test_listener_policy() -> None:
    check_policy(parse_listen("unix:/tmp/x.sock"), None, insecure=False)
    check_policy(parse_listen("0.0.0.0:8000"), "token", insecure=False)
    check_policy(parse_listen("127.0.0.1:8000"), None, insecure=True)
    check_policy(parse_listen("[::1]:8000"), None, insecure=True)
    with pytest.raises(Refused, match="needs --token-file"):
        check_policy(parse_listen("127.0.0.1:8000"), None, insecure=False)
    with pytest.raises(Refused, match="only allowed on a loopback"):
        check_policy(parse_listen("0.0.0.0:8000"), None, insecure=True)


async def test_read_only_server_refuses_actions(local_runner: LocalRunner) -> None:
    from shipdeck.server.listen import Listen
    from tests.server.conftest import serving

    async with serving(local_runner, Listen(host="127.0.0.1", port=0), read_only=True) as server:
        client = RemoteRunner(server.url)
        try:
            assert (await client.info()).read_only
            with pytest.raises(Refused, match="read-only"):
                await client.start_run("build")
            assert await client.runs() == []
        finally:
            await client.close()
