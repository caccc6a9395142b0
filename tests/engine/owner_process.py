"""Run as a child process by the tests: owns one run of a workspace until it finishes.

Usage: python owner_process.py WORKSPACE_JSON PIPELINE
Prints the run id, then the run's final status.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from shipdeck.engine import Engine
from shipdeck.model import WorkspaceSpec


async def main(spec_file: str, pipeline: str) -> None:
    spec = WorkspaceSpec.model_validate_json(Path(spec_file).read_text())  # noqa: ASYNC240
    engine = Engine(spec)
    run = engine.start_run(pipeline, {}, jobs=4)
    print(run.id, flush=True)
    final = await engine.wait_run(run.id)
    print(final.status.value, flush=True)
    await engine.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
