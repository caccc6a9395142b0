"""Bad input over HTTP: numbers no id can be, malformed and oversized bodies. Each is the
documented 4xx answer with one line naming what is wrong, and changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from shipdeck.runners.local import LocalRunner, open_local_runner
from shipdeck.server.limits import MAX_BODY
from shipdeck.server.listen import Listen
from shipdeck.server.openapi import openapi_schema
from tests.engine.deploy.conftest import write_workspace
from tests.server.conftest import TOKEN, serving

AUTH = {"Authorization": f"Bearer {TOKEN}"}
HUGE = "99999999999999999999"  # past 2**63: SQLite cannot even hold it


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A real server over TCP on the deploy workspace, with one trained model (churn v1)."""
    (tmp_path / "ws").mkdir()
    runner: LocalRunner = await open_local_runner(write_workspace(tmp_path / "ws"))
    try:
        trained = await runner.start_run("train", {})
        await runner.wait_run(trained.id)
        async with (
            serving(runner, Listen(host="127.0.0.1", port=0), token=TOKEN) as server,
            httpx.AsyncClient(base_url=server.url, headers=AUTH, timeout=20) as http,
        ):
            yield http
    finally:
        await runner.close()


def assert_invalid(answer: httpx.Response, *words: str, status: int = 422) -> str:
    assert answer.status_code == status, answer.text[:300]
    error = answer.json()["error"]
    assert error["type"] == "InvalidInput", error
    message = str(error["message"])
    assert "\n" not in message
    for word in words:
        assert word in message, message
    return message


async def test_numbers_past_any_id_are_input_errors(client: httpx.AsyncClient) -> None:
    for ref in (HUGE, f"#{HUGE}"):
        answer = await client.get("/v1/runs/resolve", params={"ref": ref})
        assert_invalid(answer, f"run reference {ref!r}", "too large")
    answer = await client.get("/v1/compare", params={"ref": ["1", HUGE]})
    assert_invalid(answer, f"run reference {HUGE!r}", "too large")
    answer = await client.get("/v1/compare", params={"ref": ["churn@v1", f"churn@v{HUGE}"]})
    assert_invalid(answer, f"model 'churn' version 'v{HUGE}'", "too large")
    for revision in (f"r{HUGE}", HUGE):
        plan = {"action": "deploy", "service": "api", "env": "dev", "revision": revision}
        assert_invalid(await client.get("/v1/plan", params=plan), "too large")
        body = {"service": "api", "env": "dev", "revision": revision}
        assert_invalid(await client.post("/v1/deploy", json=body), "too large")
    answer = await client.post(
        "/v1/models/churn/aliases", json={"alias": "champion", "version": f"v{HUGE}"}
    )
    assert_invalid(answer, "too large")
    # Nothing changed: no alias, no deploy, only the training run.
    assert (await client.get("/v1/models")).json()[0]["aliases"] == {}
    assert (await client.get("/v1/history", params={"service": "api"})).json() == []
    assert len((await client.get("/v1/runs")).json()) == 1


JSON = {"Content-Type": "application/json"}


async def test_malformed_bodies_are_the_documented_422_naming_what_is_wrong(
    client: httpx.AsyncClient,
) -> None:
    for body, headers, words in (
        (b'{"pipeline": ', JSON, ["request body is not JSON", "at character 13"]),
        (b'{"pipeline": "\xff"}', JSON, ["request body is not UTF-8: byte 0xff at byte 14"]),
        (b"[" * 100_000 + b"]" * 100_000, JSON, ["request body is not usable JSON", "deeply"]),
        (b'{"pipeline": "build"}', {}, ["expected a JSON object", "application/json"]),
        (b"", JSON, ["request body: Field required"]),
        (b'{"pipeline": "build", "jobs": 99999999999999999999}', JSON, ["jobs"]),
    ):
        answer = await client.post("/v1/runs", content=body, headers=headers)
        assert_invalid(answer, *words)
    assert len((await client.get("/v1/runs")).json()) == 1  # the training run only


async def test_request_bodies_past_the_limit_are_refused_unread(
    client: httpx.AsyncClient,
) -> None:
    big = b'{"pipeline": "build", "params": {"version": "' + b"9" * MAX_BODY + b'"}}'
    answer = await client.post("/v1/runs", content=big, headers=JSON)
    message = assert_invalid(answer, status=413)
    assert message == f"request body too large: at most {MAX_BODY} bytes"

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(3):
            yield b" " * (MAX_BODY // 2)
        yield b'{"pipeline": "build"}'

    answer = await client.post("/v1/runs", content=chunks(), headers=JSON)
    assert assert_invalid(answer, status=413) == message
    assert len((await client.get("/v1/runs")).json()) == 1
    # A body of exactly the limit is taken like any other.
    padded = b'{"pipeline": "build"' + b" " * (MAX_BODY - 21) + b"}"
    assert len(padded) == MAX_BODY
    answer = await client.post("/v1/runs", content=padded, headers=JSON)
    assert answer.status_code == 201, answer.text[:300]
    await client.get(f"/v1/runs/{answer.json()['id']}/wait")


def test_the_schema_documents_the_error_shape_for_4xx_and_5xx() -> None:
    schema = openapi_schema()
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status in ("401", "413", "422", "503"):
                content = operation["responses"][status]["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/ErrorAnswer"}, (
                    path,
                    method,
                    status,
                )
