"""GET /v1/runs and /v1/runs/page filters over a real socket: bad values are one clear 422,
and text is data, never SQL."""

from __future__ import annotations

import httpx

from shipdeck.runners.local import LocalRunner
from shipdeck.server.listen import Listen
from tests.server.conftest import TOKEN, serving

AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def test_filters_as_query_params_and_bad_ones_refused(local_runner: LocalRunner) -> None:
    failed = await local_runner.start_run("build", {"fail": "true"})
    await local_runner.wait_run(failed.id)
    ok = await local_runner.start_run("build")
    await local_runner.wait_run(ok.id)
    async with (
        serving(local_runner, Listen(host="127.0.0.1", port=0), token=TOKEN) as server,
        httpx.AsyncClient(base_url=server.url, headers=AUTH, timeout=10) as client,
    ):
        page = (await client.get("/v1/runs/page", params={"status": "failed"})).json()
        assert [r["id"] for r in page["runs"]] == [failed.id] and page["total"] == 1
        listed = (await client.get("/v1/runs", params={"text": "build exit"})).json()
        assert [r["id"] for r in listed] == [failed.id]
        for hostile in ["' OR 1=1 --", '%", "x', "%", "\\"]:
            page = (await client.get("/v1/runs/page", params={"text": hostile})).json()
            assert page == {"runs": [], "total": 0, "exact": True}, hostile
        assert (await client.get("/v1/runs")).json()[0]["id"] == ok.id  # nothing dropped

        bad = await client.get("/v1/runs/page", params={"status": "broken"})
        assert bad.status_code == 422
        assert bad.json()["error"]["message"] == (
            "query status: Input should be 'queued', 'running', 'cancelling', 'succeeded',"
            " 'failed', 'cancelled' or 'interrupted'"
        )
        long = await client.get("/v1/runs", params={"text": "x" * 201})
        assert long.status_code == 422 and "text" in long.text


async def test_run_references_resolve_to_string_ids_and_before_pages_by_id(
    local_runner: LocalRunner,
) -> None:
    first = await local_runner.start_run("build")
    await local_runner.wait_run(first.id)
    second = await local_runner.start_run("build", {"fail": "true"})
    await local_runner.wait_run(second.id)
    async with (
        serving(local_runner, Listen(host="127.0.0.1", port=0), token=TOKEN) as server,
        httpx.AsyncClient(base_url=server.url, headers=AUTH, timeout=10) as client,
    ):
        for ref, expected in [
            ("#1", "1"),
            ("1", "1"),
            ("#2", "2"),
            ("last", "2"),
            ("last:build", "2"),
        ]:
            answer = await client.get("/v1/runs/resolve", params={"ref": ref})
            assert answer.status_code == 200, answer.text
            assert answer.json() == {"run_id": expected}, ref
        shown = (await client.get("/v1/runs/2")).json()["run"]
        assert (shown["id"], shown["label"]) == ("2", "#2")
        older = (await client.get("/v1/runs", params={"before": "2"})).json()
        assert [run["id"] for run in older] == ["1"]
        page = (await client.get("/v1/runs/page", params={"before": "2"})).json()
        assert [run["id"] for run in page["runs"]] == ["1"] and page["total"] == 2
        # An id this runner never gives: no such run, and no run to page from.
        assert (await client.get("/v1/runs/a1b2-c3")).status_code == 404
        bad = await client.get("/v1/runs", params={"before": "a1b2-c3"})
        assert bad.status_code == 422 and "before" in bad.json()["error"]["message"]
