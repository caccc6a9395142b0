"""Unix-socket client benchmark: shipdeck's own HTTP/1.1 client (runners/unix_link.py) against
httpx over the same socket (`AsyncHTTPTransport(uds=...)`, no TLS context) with httpx-sse.

The question (runner-kinds issue): is the well-kept library within 10 % of ours where ours was
written for, the start of a command that talks to the workspace daemon? Measured, interleaved,
in the same run against the same daemon (a demo workspace with runs in its history):

- command start: `shipdeck -C WS runs --limit 20` as a fresh process, wall time, with the
  daemon client's link swapped by a small wrapper (`--link unix|httpx`); the same wrapper runs
  both, so the only difference is the link;
- requests: 500 `GET /v1/health` and 100 `GET /v1/runs?limit=50` on one kept-alive connection
  in process;
- stream: the time from opening `GET /v1/events` (SSE) to its first event.

    python bench/unix_client.py [--repeat 15] [--json]
It measures; it does not judge.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

WRAPPER = r"""
import sys
link_kind = sys.argv.pop(1)
if link_kind == "httpx":
    import shipdeck.runners.link as link

    def parse_url(url, *, token=None, timeout=30.0, verify=True):
        path = url[len("unix:"):]
        import httpx
        from shipdeck.runners.httpx_link import HttpxLink

        made = HttpxLink("http://shipdeck/v1", timeout=timeout, verify=False)
        made._client._transport = httpx.AsyncHTTPTransport(uds=path, verify=False)
        return made

    link.parse_url = parse_url
from shipdeck.cli.entry import main
sys.exit(main())
"""


def make_link(kind: str, socket: str) -> Any:
    from shipdeck.runners.link import parse_url

    if kind == "unix":
        return parse_url(f"unix:{socket}")
    import httpx

    from shipdeck.runners.httpx_link import HttpxLink

    made = HttpxLink("http://shipdeck/v1", verify=False)
    made._client._transport = httpx.AsyncHTTPTransport(uds=socket, verify=False)
    return made


async def requests(kind: str, socket: str) -> dict[str, float]:
    link = make_link(kind, socket)
    try:
        await link.send("GET", "/health")
        start = time.perf_counter()
        for _ in range(500):
            await link.send("GET", "/health")
        health = (time.perf_counter() - start) / 500
        start = time.perf_counter()
        for _ in range(100):
            await link.send("GET", "/runs", query={"limit": 50})
        runs = (time.perf_counter() - start) / 100
        start = time.perf_counter()
        async with link.stream("/events/stream?after=0", headers={}, read_timeout=10.0) as stream:
            async for _event in stream.events():
                break
        first_event = time.perf_counter() - start
    finally:
        await link.aclose()
    return {
        "health_ms": health * 1000,
        "runs_ms": runs * 1000,
        "first_event_ms": first_event * 1000,
    }


def command(kind: str, wrapper: Path, workspace: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            str(wrapper),
            kind,
            "-C",
            str(workspace),
            "runs",
            "--limit",
            "20",
            "--json",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "SHIPDECK_IN_PROCESS": "0"},
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    env = {**os.environ, "SHIPDECK_IN_PROCESS": "0"}
    with tempfile.TemporaryDirectory() as scratch:
        workspace = Path(scratch) / "ws"
        shipdeck = [sys.executable, "-m", "shipdeck", "-C", str(workspace)]
        subprocess.run([*shipdeck[:3], "demo", "init", str(workspace)], check=True, env=env)
        for _ in range(10):
            subprocess.run(
                [*shipdeck, "run", "ci"], env=env, stdout=subprocess.DEVNULL, check=False
            )
        wrapper = Path(scratch) / "wrapper.py"
        wrapper.write_text(WRAPPER)
        socket = next(workspace.glob(".shipdeck/runner.sock"), None)
        if socket is None:
            raise SystemExit("the daemon's socket is not in the workspace")
        times: dict[str, list[float]] = {"unix": [], "httpx": []}
        for kind in times:
            command(kind, wrapper, workspace)  # warm the page cache and bytecode
        for _ in range(args.repeat):
            for kind in times:
                times[kind].append(command(kind, wrapper, workspace))
        in_process = {kind: asyncio.run(requests(kind, str(socket))) for kind in times}
        subprocess.run([*shipdeck, "serve", "--stop", "--force"], env=env, check=False)
    medians = {kind: statistics.median(values) for kind, values in times.items()}
    result = {
        "command_start_s": medians,
        "command_start_min_s": {kind: min(values) for kind, values in times.items()},
        "ratio_httpx_to_unix": medians["httpx"] / medians["unix"],
        "in_process": in_process,
        "repeat": args.repeat,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{'':34}{'unix_link (ours)':>18}{'httpx uds':>12}")
    print(f"{'command start, median (s)':34}{medians['unix']:>18.3f}{medians['httpx']:>12.3f}")
    low = result["command_start_min_s"]
    print(f"{'command start, min (s)':34}{low['unix']:>18.3f}{low['httpx']:>12.3f}")
    for key, label in (
        ("health_ms", "GET /v1/health (ms)"),
        ("runs_ms", "GET /v1/runs?limit=50 (ms)"),
        ("first_event_ms", "SSE open to first event (ms)"),
    ):
        print(f"{label:34}{in_process['unix'][key]:>18.2f}{in_process['httpx'][key]:>12.2f}")
    print(f"httpx / ours, command start: {result['ratio_httpx_to_unix']:.3f} (decision: <= 1.10)")


if __name__ == "__main__":
    main()
