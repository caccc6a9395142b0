"""What a runner cannot do, over HTTP: 501 `Unsupported` with the runner's one line, raised
again as the same error by the client; and a client of an older server reads its list of
capabilities."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from shipdeck.errors import Unsupported
from shipdeck.model.capabilities import Capability
from shipdeck.runners.remote import RemoteRunner, RunnerInfo
from shipdeck.server.listen import Listen
from tests.contract.harness import serving
from tests.registry_only import NOT_AN_EXECUTOR, RegistryOnly


async def test_a_method_the_runner_lacks_is_501_with_its_reason() -> None:
    async with serving(RegistryOnly(), Listen(host="127.0.0.1", port=0)) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            answer = await http.post("/v1/runs/1/cancel")
            assert answer.status_code == 501
            assert answer.json() == {
                "error": {
                    "type": "Unsupported",
                    "message": f"runner models cannot cancel runs: {NOT_AN_EXECUTOR}",
                }
            }
            health = (await http.get("/v1/health")).json()
            assert health["capabilities"]["can"] == ["models"]
            assert health["capabilities"]["events"] == "none"
        client = RemoteRunner(server.url, name="reg")
        try:
            declared = await client.capabilities()
            assert declared.kind == "registry" and declared.can == {Capability.MODELS}
            with pytest.raises(
                Unsupported, match=f"^runner models cannot cancel runs: {NOT_AN_EXECUTOR}$"
            ):
                await client.cancel("1")
            assert [m.name for m in await client.models()] == ["churn"]
        finally:
            await client.close()


def test_an_older_servers_list_of_halves_is_read() -> None:
    common = {
        "name": "old",
        "version": "0.9",
        "pid": 1,
        "started_at": datetime(2026, 1, 1, tzinfo=UTC),
        "read_only": True,
        "last_seq": 0,
    }
    both = RunnerInfo.model_validate({**common, "capabilities": ["deployments", "schedules"]})
    declared = both.declared()
    assert declared.kind == "shipdeck" and declared.read_only
    assert {Capability.DEPLOYMENTS, Capability.MODELS, Capability.SCHEDULES} <= declared.can
    assert Capability.CANCEL in declared.can and not declared.has(Capability.CANCEL)
    older = RunnerInfo.model_validate(common).declared()
    assert Capability.PIPELINES in older.can
    assert Capability.DEPLOYMENTS not in older.can and Capability.SCHEDULES not in older.can
