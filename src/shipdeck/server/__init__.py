"""HTTP API for any Runner: FastAPI app, SSE event stream, auth, and uvicorn launching."""

from shipdeck.server.app import create_app
from shipdeck.server.launch import RunningServer, Tls, start_server
from shipdeck.server.listen import Listen, bind, bound_url, check_policy, parse_listen
from shipdeck.server.sse import StreamSettings

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
