"""The keyword options several methods take alike, declared once.

The Runner contract (runners/protocol.py) and the engine behind the local runner take these
groups as `**options: Unpack[...]` and hand them on, so the names, types and meaning of each
group are written here only. A key left out means its default: the one named here, or for a
key with no default named, None (or False for a flag)."""

from __future__ import annotations

from typing import TypedDict

from shipdeck.model.run import RunStatus

RUN_LIMIT = 50
"""Runs in one listing when `limit` is not given."""
TRIGGER = "cli"
"""What started a run when `trigger` is not given."""
SEARCH_LIMIT = 10_000
"""Matching lines in one page of a log search when `limit` is not given."""


class RunFilter(TypedDict, total=False):
    """Which runs a listing holds, newest first."""

    pipeline: str | None
    """Only this pipeline's runs (its recorded name)."""
    status: RunStatus | None
    text: str | None
    """Words that must all match: `#12` is run 12, `key=value` a param, any other word is
    looked for in the run's number, pipeline, status, trigger, user, params and parent
    (`rerun #7`) and its tasks' reasons."""
    limit: int
    """At most this many runs (RUN_LIMIT)."""
    before: str | None
    """A run id: only the runs older than that run, as the runner orders them (pages back)."""


class Launch(TypedDict, total=False):
    """How a run is started."""

    jobs: int | None
    """At most this many tasks at once (None: the engine's default)."""
    trigger: str
    """What started it, shown with the run (TRIGGER)."""


class RerunOptions(Launch, total=False):
    """How a rerun is started."""

    from_task: str | None
    """With RerunMode.FROM: the task to rerun from (with what it needs that did not succeed
    and everything downstream)."""


class LogSearchOptions(TypedDict, total=False):
    """How a pattern is looked for in a task's log."""

    regex: bool
    """The pattern is a regular expression (else a literal)."""
    ignore_case: bool | None
    """None is smart case: ignored unless the pattern has an upper-case letter."""
    start: int
    """The first line looked at (0)."""
    end: int | None
    """The line after the last one looked at (None: the end of the log)."""
    limit: int
    """At most this many matching lines in one page (SEARCH_LIMIT)."""


class ActionOptions(TypedDict, total=False):
    """How a deploy, promote or rollback goes."""

    expect: str | None
    """The revision the caller saw in the environment ("none" when empty); a mismatch raises
    Conflict."""
    reason: str
    """Why, recorded in the history ("")."""
    wait: bool
    """Answer once the action has ended (True), else as soon as its run has started."""


class DeployOptions(ActionOptions, total=False):
    force: bool
    """Deploy although gates fail (False: failed gates raise Refused)."""


class RollbackOptions(ActionOptions, total=False):
    to: str | None
    """An earlier revision from the environment's history (None: the previous one)."""
