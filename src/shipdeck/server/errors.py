"""One JSON shape for every error the API returns: {"error": {"type": ..., "message": ...}}.

The type is the name of a `shipdeck.errors` class, so a client can raise the same class with
the same one-line message that the runner raised.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
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
    413: "InvalidInput",
    422: "InvalidInput",
    501: "Unsupported",
    503: "Unavailable",
}


class ErrorDetail(BaseModel):
    type: str = Field(
        description="The error's class: InvalidInput, WorkspaceError, NotFound, Conflict, "
        "Refused, Unauthorized, Unsupported, Unavailable, or InternalError"
    )
    message: str = Field(description="One line for the operator: what is wrong, and where")


class ErrorAnswer(BaseModel):
    """Every error the API answers."""

    error: ErrorDetail


def _documented(description: str) -> dict[str, Any]:
    return {"model": ErrorAnswer, "description": description}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _documented("Unauthorized: a missing or wrong bearer token"),
    404: _documented("NotFound: no such run, task, pipeline, model, service or endpoint"),
    413: _documented("InvalidInput: the request body is over the size limit"),
    422: _documented(
        "InvalidInput (a malformed body or parameter), Refused (not allowed now, or a "
        "read-only runner) or WorkspaceError (the workspace file does not load)"
    ),
    501: _documented("Unsupported: this runner's kind cannot do that (see its capabilities)"),
    503: _documented("Unavailable: the runner or its run history cannot be used now"),
}
"""The errors any operation may answer, documented in the schema with their one shape."""


def error_response(status: int, kind: str, message: str) -> JSONResponse:
    # A message may quote what the client sent: repaired, so it always encodes as UTF-8.
    body = {"error": {"type": kind, "message": repaired(message)}}
    return JSONResponse(body, status_code=status)


def describe_validation(error: RequestValidationError) -> str:
    """The first problem of a rejected request as one line: where it is and what is wrong."""
    problems = []
    for item in error.errors():
        if item.get("type") == "json_invalid":
            reason = item.get("ctx", {}).get("error", "malformed")
            position = item.get("loc", ("body", "?"))[-1]
            problems.append(f"request body is not JSON: {reason} at character {position}")
            continue
        location = [str(part) for part in item.get("loc", ()) if part not in ("body",)]
        if not location and isinstance(item.get("input"), bytes):  # not sent as JSON
            problems.append("request body: expected a JSON object (Content-Type: application/json)")
            continue
        where = location[0] if location else "request body"
        if len(location) > 1:
            where = f"{location[0]} {'.'.join(location[1:])}"
        problems.append(f"{where}: {item.get('msg', 'invalid')}")
    return "; ".join(problems) if problems else "invalid request"


UNPARSED_BODY = "There was an error parsing the body"
"""FastAPI's 400 for a JSON body it could not even decode (its cause says why)."""


def describe_unparsed(cause: BaseException | None) -> str:
    if isinstance(cause, UnicodeDecodeError):
        byte = cause.object[cause.start : cause.start + 1].hex()
        return f"request body is not UTF-8: byte 0x{byte} at byte {cause.start}"
    if isinstance(cause, RecursionError):
        return "request body is not usable JSON: it nests too deeply"
    return "request body is not JSON"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ShipdeckError)
    async def shipdeck_error(request: Request, error: ShipdeckError) -> JSONResponse:
        return error_response(error.http_status, type(error).__name__, str(error))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        return error_response(422, "InvalidInput", describe_validation(error))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 400 and error.detail == UNPARSED_BODY:
            return error_response(422, "InvalidInput", describe_unparsed(error.__cause__))
        kind = STATUS_TYPES.get(error.status_code, "ShipdeckError")
        message = str(error.detail)
        if error.status_code == 404 and message == "Not Found":
            message = f"no such endpoint: {request.method} {request.url.path}"
        return error_response(error.status_code, kind, message)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return error_response(500, "InternalError", f"internal error: {type(error).__name__}")
