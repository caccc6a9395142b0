"""Errors every layer raises and every front end knows how to show.

Each carries a one-line message meant for the operator. Front ends map the class to an exit
code (CLI) or a status code (HTTP); nothing below them prints tracebacks for these.
"""

from __future__ import annotations


class ShipdeckError(Exception):
    """Base class: `str(error)` is a complete one-line message."""

    exit_code = 2
    http_status = 400


class InvalidInput(ShipdeckError):
    """The user asked for something malformed (bad -p syntax, unknown param, bad value)."""

    http_status = 422


class WorkspaceError(ShipdeckError):
    """The workspace is missing or its file is invalid; `problems` holds one line per error."""

    http_status = 422

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class NotFound(ShipdeckError):
    """An unknown pipeline, run, task, service, environment, model or revision."""

    http_status = 404


class Conflict(ShipdeckError):
    """Someone else changed the state first; nothing was done."""

    exit_code = 1
    http_status = 409


class Refused(ShipdeckError):
    """The action is valid but not allowed now (a failed gate, a finished run, read-only)."""

    exit_code = 1
    http_status = 422


class Unauthorized(ShipdeckError):
    """A runner refused the credentials (a missing or wrong token)."""

    http_status = 401


class Unavailable(ShipdeckError):
    """A runner could not be reached or stopped answering."""

    exit_code = 3
    http_status = 503


class Unsupported(ShipdeckError):
    """The runner cannot do this at all (its kind has no such thing): see its capabilities.

    The message is `Capabilities.why_not`: which runner, what it cannot do, and why."""

    http_status = 501
