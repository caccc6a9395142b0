"""What route handlers get from the app: the runner, and the read-only guard for actions."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from shipdeck.errors import Refused, Unavailable
from shipdeck.model.run import MAX_ID as MAX_ID  # the routes' bound on ids
from shipdeck.runners.protocol import Runner

# The dependencies are coroutines: FastAPI runs a plain `def` dependency in a worker thread,
# a thread hop on every request for what is an attribute read.


async def get_runner(request: Request) -> Runner:
    runner: Runner | None = request.app.state.runner
    if runner is None:
        raise Unavailable("this server has no runner attached")
    return runner


async def require_writable(request: Request) -> None:
    if request.app.state.read_only:
        raise Refused("this runner is read-only: actions are disabled")


RunnerDep = Annotated[Runner, Depends(get_runner)]
WRITABLE = [Depends(require_writable)]
