"""Workspace-wide settings of the runner: what environment tasks inherit, how long runs are kept."""

from __future__ import annotations

from shipdeck.model.frozen import FrozenModel


class TaskEnvSpec(FrozenModel):
    """`[task_env]`: which variables of the runner's own environment tasks inherit.

    Patterns are variable names in which `*` matches any run of characters (`AWS_*`)."""

    passthrough: tuple[str, ...] | None = None
    """`pass`: inherit only these (and a minimal base: PATH, HOME, LANG, ...); None: everything
    but the credentials."""
    secret: tuple[str, ...] = ()
    """Never inherited, whatever `pass` says."""


class RetentionSpec(FrozenModel):
    """`[retention]`: which finished runs `shipdeck gc` and the runner delete.

    A run goes only when every limit set allows it; runs in progress and runs a deployment or a
    model version depends on are always kept."""

    keep: int | None = None
    """Always keep the newest `keep` runs of each pipeline."""
    older_than: float | None = None
    """Seconds: delete only runs created longer ago than this."""
    every: float = 3600.0
    """Seconds between two passes of the runner."""
