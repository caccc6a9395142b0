"""A separate process that promotes churn to prod each time it reads an expected revision on
stdin, and prints the outcome as one JSON line. Used by the concurrent-promote race test."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from shipdeck.engine import Engine
from shipdeck.engine.deploy.deployments import Deployments
from shipdeck.errors import ShipdeckError
from shipdeck.workspace import load_workspace


async def main(root: str, name: str) -> None:
    engine = Engine(load_workspace(Path(root)))
    deployer = Deployments(engine, user=f"{name}@host")
    loop = asyncio.get_running_loop()
    print("ready", flush=True)
    try:
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            try:
                entry = await deployer.promote("churn", "prod", expect=line.strip())
                result = {"outcome": entry.outcome.value, "id": entry.id}
            except ShipdeckError as error:
                result = {"outcome": "error", "kind": type(error).__name__, "message": str(error)}
            print(json.dumps(result), flush=True)
    finally:
        await engine.close()
        await deployer.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
