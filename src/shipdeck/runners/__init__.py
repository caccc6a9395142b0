"""Runner protocol and its implementations."""

from shipdeck.runners.protocol import Runner

__all__ = ["Runner"]
