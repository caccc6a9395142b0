"""The bases of the domain types: immutable pydantic models."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class FrozenModel(BaseModel):
    """A value, not a record to edit: assigning to a field raises, and a changed copy is made
    with `model_copy(update=...)`."""

    model_config = ConfigDict(frozen=True)


class LazyFrozenModel(FrozenModel):
    """A FrozenModel whose validator is built on first use: most commands and the TUI's first
    frame never touch these models, and building all of them costs every process ~40 ms at
    import."""

    model_config = ConfigDict(frozen=True, defer_build=True)
