"""Errors every layer raises and every front end knows how to show.

Each carries a one-line message meant for the operator. Front ends map the class to an exit
code (CLI) or a status code (HTTP); nothing below them prints tracebacks for these.
"""

from __future__ import annotations

from typing import Any


class ShipdeckError(Exception):
    """Base class: `str(error)` is a complete one-line message.

    A subclass states the codes it differs in as class keywords:
    `class NotFound(ShipdeckError, http_status=404)`; the others it inherits."""

    exit_code = 2
    http_status = 400

    def __init_subclass__(
        cls, *, exit_code: int | None = None, http_status: int | None = None, **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        if exit_code is not None:
            cls.exit_code = exit_code
        if http_status is not None:
            cls.http_status = http_status


class InvalidInput(ShipdeckError, http_status=422):
    """The user asked for something malformed (bad -p syntax, unknown param, bad value)."""


class WorkspaceError(ShipdeckError, http_status=422):
    """The workspace is missing or its file is invalid; `problems` holds one line per error."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class NotFound(ShipdeckError, http_status=404):
    """An unknown pipeline, run, task, service, environment, model or revision."""


class Conflict(ShipdeckError, exit_code=1, http_status=409):
    """Someone else changed the state first; nothing was done."""


class Refused(ShipdeckError, exit_code=1, http_status=422):
    """The action is valid but not allowed now (a failed gate, a finished run, read-only)."""


class Unauthorized(ShipdeckError, http_status=401):
    """A runner refused the credentials (a missing or wrong token)."""


class Unavailable(ShipdeckError, exit_code=3, http_status=503):
    """A runner could not be reached or stopped answering."""


class Unsupported(ShipdeckError, http_status=501):
    """The runner cannot do this at all (its kind has no such thing): see its capabilities.

    The message is `Capabilities.why_not`: which runner, what it cannot do, and why."""
