"""Bearer-token check for every request, and a plain access log that never shows secrets.

Pure ASGI middleware, so it guards every route alike (the schema and docs too) and the event
stream is not wrapped in anything that buffers.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from pathlib import Path
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shipdeck.errors import Refused

access_log = logging.getLogger("shipdeck.access")

# Query parameters that look like a credential: refused even alongside a valid header, so a
# token never ends up in a URL that proxies, shells and browsers keep in their histories.
SECRET_PARAMS = frozenset({"token", "access_token", "api_key", "apikey", "auth", "key"})


MIN_TOKEN_LENGTH = 16
"""Characters: a shorter bearer token can be guessed by trying, whatever the compare costs."""


def check_token(token: str, path: Path) -> None:
    """Refuse to serve with a token too short to keep strangers out."""
    if len(token) < MIN_TOKEN_LENGTH:
        raise Refused(
            f"token file {path} holds a {len(token)}-character token; a bearer token needs at "
            f"least {MIN_TOKEN_LENGTH} (make one: openssl rand -hex 32 > {path})"
        )


async def _reject(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": {"type": "Unauthorized", "message": message}}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="shipdeck"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BearerAuth:
    """Requires `Authorization: Bearer <token>` when a token is set; compares in constant time."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token.encode() if token is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        names = {name.lower() for name, _ in parse_qsl(query, keep_blank_values=True)}
        if names & SECRET_PARAMS:
            message = "credentials in the query string are refused; use the Authorization header"
            await _reject(send, 401, message)
            return
        if self.token is not None and not self._authorized(scope):
            await _reject(send, 401, "missing or wrong bearer token")
            return
        await self.app(scope, receive, send)

    def _authorized(self, scope: Scope) -> bool:
        assert self.token is not None
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                scheme, _, given = value.partition(b" ")
                # compare_digest on the full value keeps the check constant-time in the token.
                matches = hmac.compare_digest(given.strip(), self.token)
                return scheme.lower() == b"bearer" and matches
        return False


class AccessLog:
    """One line per request: method, path (never the query string), status, milliseconds."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if scope["path"].endswith("/stream"):
                    access_log.info("%s %s %s opened", scope["method"], scope["path"], status)
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            access_log.info("%s %s %s %.1fms", scope["method"], scope["path"], status, elapsed)
