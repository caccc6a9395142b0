"""Who an action is recorded as when the caller names no one: whoever runs this shipdeck."""

from __future__ import annotations

import getpass
import socket


def default_user() -> str:
    """user@host of the process, as the embedded engine and the MLflow alias record write it."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"
