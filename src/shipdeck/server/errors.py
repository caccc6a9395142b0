"""One JSON shape for every error the API returns: {"error": {"type": ..., "message": ...}}.

The type is the name of a `shipdeck.errors` class, so a client can raise the same class with
the same one-line message that the runner raised.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shipdeck.errors import ShipdeckError
from shipdeck.model.text import repaired

log = logging.getLogger("shipdeck.server")

STATUS_TYPES = {
    401: "Unauthorized",
    403: "Unauthorized",
    404: "NotFound",
    405: "InvalidInput",
    409: "Conflict",
    422: "InvalidInput",
    503: "Unavailable",
}


def error_response(status: int, kind: str, message: str) -> JSONResponse:
    # A message may quote what the client sent: repaired, so it always encodes as UTF-8.
    body = {"error": {"type": kind, "message": repaired(message)}}
    return JSONResponse(body, status_code=status)


def describe_validation(error: RequestValidationError) -> str:
    """The first problem of a rejected request as one line: where it is and what is wrong."""
    problems = []
    for item in error.errors():
        location = [str(part) for part in item.get("loc", ()) if part not in ("body",)]
        where = location[0] if location else "request"
        if len(location) > 1:
            where = f"{location[0]} {'.'.join(location[1:])}"
        problems.append(f"{where}: {item.get('msg', 'invalid')}")
    return "; ".join(problems) if problems else "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ShipdeckError)
    async def shipdeck_error(request: Request, error: ShipdeckError) -> JSONResponse:
        return error_response(error.http_status, type(error).__name__, str(error))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        return error_response(422, "InvalidInput", describe_validation(error))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        kind = STATUS_TYPES.get(error.status_code, "ShipdeckError")
        message = str(error.detail)
        if error.status_code == 404 and message == "Not Found":
            message = f"no such endpoint: {request.method} {request.url.path}"
        return error_response(error.status_code, kind, message)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return error_response(500, "InternalError", f"internal error: {type(error).__name__}")
