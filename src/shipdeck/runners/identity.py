"""Who acts, as runs, deploy actions and alias moves record it."""

from __future__ import annotations

import getpass
import socket


def default_user() -> str:
    """user@host of whoever runs this shipdeck ("unknown@host" when the system cannot say)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"
