"""The CLI on a runner with only a model registry: what it cannot do is refused in one line
naming the runner and why (exit 2); what it can do works. The runner is served over real HTTP,
so its capabilities travel through /v1/health."""

from __future__ import annotations

import asyncio
import os
import sys

from shipdeck.server.listen import Listen
from tests.contract.harness import serving
from tests.registry_only import NOT_AN_EXECUTOR, RegistryOnly


async def shipdeck(url: str, *args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SHIPDECK_TOKEN"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "shipdeck",
        "--runner",
        url,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_actions_it_cannot_do_are_refused_in_one_line() -> None:
    async with serving(RegistryOnly(), Listen(host="127.0.0.1", port=0)) as server:
        for args, doing in (
            (["rerun", "1"], "rerun runs"),
            (["rerun", "1", "--failed"], "rerun failed tasks"),
            (["cancel", "1"], "cancel runs"),
            (["run", "build"], "start runs"),
        ):
            code, out, err = await shipdeck(server.url, *args)
            assert code == 2, (args, out, err)
            assert err.splitlines() == [
                f"shipdeck: error: runner {server.url} cannot {doing}: {NOT_AN_EXECUTOR}"
            ], args
            assert out == ""
        code, out, err = await shipdeck(server.url, "schedules")
        assert (code, err.splitlines()) == (
            2,
            [f"shipdeck: error: runner {server.url} (registry) cannot schedule pipelines"],
        )


async def test_what_it_can_do_works() -> None:
    async with serving(RegistryOnly(), Listen(host="127.0.0.1", port=0)) as server:
        code, out, err = await shipdeck(server.url, "models")
        assert code == 0, err
        assert "churn" in out
