"""The Textual front end. Build it with `create_app` (tests inject their own runners)."""

from __future__ import annotations

from typing import Unpack

from shipdeck.runners.protocol import Runner
from shipdeck.tui.app import AppOptions, ShipdeckApp

__all__ = ["AppOptions", "ShipdeckApp", "create_app"]


def create_app(runners: list[Runner], **options: Unpack[AppOptions]) -> ShipdeckApp:
    """The app over these runners (options: see AppOptions)."""
    return ShipdeckApp(runners, **options)
