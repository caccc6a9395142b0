"""A limit on request bodies: every body the API takes is a few hundred bytes of JSON, so one
past MAX_BODY is refused (413, InvalidInput) before it is read into memory.

Our own middleware rather than Starlette's: its answer is plain text, not the API's one error
shape, and it exists only in recent versions.
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY = 1024 * 1024
"""Bytes; the largest body a client of this API sends is a deploy with its reason."""


def too_large(limit: int) -> str:
    return f"request body too large: at most {limit} bytes"


class BodyLimit:
    """Refuses a declared Content-Length past `limit` at once, and a body that grows past it
    while being read (chunked) as soon as it does."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            await _refuse(send, too_large(self.limit))
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    # Raised where the route reads its body: FastAPI passes HTTPExceptions
                    # on to the error handlers, which answer in the API's shape.
                    raise HTTPException(413, too_large(self.limit))
            return message

        await self.app(scope, limited, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


async def _refuse(send: Send, message: str) -> None:
    answer = {"error": {"type": "InvalidInput", "message": message}}
    body = json.dumps(answer, separators=(",", ":")).encode()
    # The connection stays open: the server reads the rest of the body and drops it, so the
    # client, still sending, gets this answer rather than a reset connection.
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
