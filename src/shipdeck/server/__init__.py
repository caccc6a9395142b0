"""HTTP API for any Runner: FastAPI app, SSE event stream, auth, and uvicorn launching.

Names are imported on first use, so commands that only need `shipdeck.server.listen` (or
nothing from here) don't pay for importing FastAPI at startup.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shipdeck.server.app import create_app
    from shipdeck.server.launch import RunningServer, Tls, start_server
    from shipdeck.server.listen import Listen, bind, bound_url, check_policy, parse_listen
    from shipdeck.server.sse import StreamSettings

_WHERE = {
    "create_app": "app",
    "RunningServer": "launch",
    "Tls": "launch",
    "start_server": "launch",
    "Listen": "listen",
    "bind": "listen",
    "bound_url": "listen",
    "check_policy": "listen",
    "parse_listen": "listen",
    "StreamSettings": "sse",
}

__all__ = [
    "Listen",
    "RunningServer",
    "StreamSettings",
    "Tls",
    "bind",
    "bound_url",
    "check_policy",
    "create_app",
    "parse_listen",
    "start_server",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'shipdeck.server' has no attribute {name!r}")
    return getattr(importlib.import_module(f"shipdeck.server.{module}"), name)
