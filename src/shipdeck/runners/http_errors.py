"""Turning a runner's JSON error answer back into the ShipdeckError it came from."""

from __future__ import annotations

from shipdeck import errors
from shipdeck.errors import ShipdeckError
from shipdeck.runners.link import Reply

ERROR_CLASSES: dict[str, type[ShipdeckError]] = {
    cls.__name__: cls
    for cls in (
        errors.InvalidInput,
        errors.NotFound,
        errors.Conflict,
        errors.Refused,
        errors.Unauthorized,
        errors.Unavailable,
        errors.Unsupported,
        ShipdeckError,
    )
}


def error_from_response(response: Reply) -> ShipdeckError:
    """The error a failed response describes; the same class and message the runner raised."""
    kind, message = "", ""
    try:
        body = response.json()
        kind = str(body["error"]["type"])
        message = str(body["error"]["message"])
    except (ValueError, KeyError, TypeError):
        pass
    if not message:
        message = f"runner answered HTTP {response.status} {response.reason}"
    if kind == "WorkspaceError":
        return errors.WorkspaceError(message.splitlines() or [message])
    cls = ERROR_CLASSES.get(kind)
    if cls is None:
        cls = errors.Unavailable if response.status >= 500 else ShipdeckError
        if kind == "InternalError":
            message = f"the runner failed: {message}"
    return cls(message)


def describe_transport_error(error: BaseException) -> str:
    """One line: "timed out (ReadTimeout)", "[Errno 111] Connection refused", ..."""
    text = str(error)
    return text.splitlines()[0] if text else type(error).__name__
