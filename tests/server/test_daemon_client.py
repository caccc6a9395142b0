"""A client of the workspace daemon works end to end without httpx ever being imported.

Run in a fresh interpreter (this test process has httpx loaded already): it starts the real
daemon, round-trips pipelines, runs, a run's detail, a log, start_run and cancel, follows the
SSE event stream, and reports which HTTP libraries it loaded.
"""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap

from shipdeck.model import WorkspaceSpec

CLIENT = textwrap.dedent(
    """
    import asyncio, json, sys
    from pathlib import Path

    from shipdeck.model import EventKind
    from shipdeck.runners import daemon
    from shipdeck.workspace import load_workspace


    async def main() -> None:
        client = await daemon.attach(load_workspace(Path(sys.argv[1])), announce=lambda _: None)
        try:
            out = {"pipelines": sorted(p.name for p in await client.pipelines())}
            page = await client.wait_events(await client.last_seq(), wait=0)  # starts the stream
            built = await client.start_run("build", {"greeting": "hi there"})
            out["built"] = (await client.wait_run(built.id)).status.value
            detail = await client.run(built.id)
            out["tasks"] = sorted(task.name for task in detail.tasks)
            log = await client.read_log(built.id, "compile")
            out["log"] = [line.text for line in log.lines]
            slow = await client.start_run("slow", None)
            await client.cancel(slow.id)
            out["slow"] = (await client.wait_run(slow.id)).status.value
            out["runs"] = [run.id for run in await client.runs(pipeline="build")]
            finished: dict[int, str] = {}
            after = page.last_seq
            while len(finished) < 2:  # both runs' ends, as the event stream reports them
                page = await client.wait_events(after, wait=10)
                assert page.events or page.reset, "no events within 10 s"
                after = page.last_seq
                for event in page.events:
                    if event.kind == EventKind.RUN and getattr(event.data, "status", None) in (
                        "succeeded", "cancelled"
                    ):
                        finished[event.run_id or 0] = event.data.status
            out["streamed"] = {str(k): v for k, v in sorted(finished.items())}
            out["ids"] = [built.id, slow.id]
            out["state"] = client.state.status.value
        finally:
            await client.close()
        out["loaded"] = sorted(
            name for name in ("httpx", "httpcore", "h11", "anyio", "httpx_sse")
            if name in sys.modules
        )
        print(json.dumps(out))


    asyncio.run(main())
    """
)


async def test_daemon_client_round_trips_without_httpx(managed: WorkspaceSpec) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CLIENT,
        str(managed.root),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    out = json.loads(stdout)
    built, slow = out["ids"]
    assert out["pipelines"] == ["build", "chatty", "slow"]
    assert out["built"] == "succeeded"
    assert out["tasks"] == ["compile", "package", "test"]
    assert "greeting=hi there" in out["log"]
    assert out["slow"] == "cancelled"
    assert out["runs"] == [built]
    assert out["streamed"] == {str(built): "succeeded", str(slow): "cancelled"}
    assert out["state"] == "live"
    assert out["loaded"] == []
