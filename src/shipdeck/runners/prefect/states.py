"""Prefect's state types as shipdeck's run and task statuses.

Prefect has more states than shipdeck: SCHEDULED, PENDING and PAUSED all wait (queued);
CANCELLING is cancelling (asked to stop, still running: a filter on running runs includes
it); CRASHED means the process running the flow died (interrupted, as for a local run whose
owner died). A state's own name says more (Late, AwaitingRetry, Retrying, TimedOut).
"""

from __future__ import annotations

from shipdeck.model import RunStatus, TaskStatus

FINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED", "CRASHED"})
ACTIVE = ("SCHEDULED", "PENDING", "RUNNING", "CANCELLING", "PAUSED")
WAITING = frozenset({"SCHEDULED", "PAUSED"})
"""States of a flow run that no worker has taken up yet."""
LOGGING = frozenset({"RUNNING", "CANCELLING"})
"""States in which a flow run writes log records."""

_RUN = {
    "SCHEDULED": RunStatus.QUEUED,
    "PENDING": RunStatus.QUEUED,
    "PAUSED": RunStatus.QUEUED,
    "RUNNING": RunStatus.RUNNING,
    "CANCELLING": RunStatus.CANCELLING,
    "COMPLETED": RunStatus.SUCCEEDED,
    "FAILED": RunStatus.FAILED,
    "CANCELLED": RunStatus.CANCELLED,
    "CRASHED": RunStatus.INTERRUPTED,
}

_TASK = {
    "SCHEDULED": TaskStatus.PENDING,
    "PENDING": TaskStatus.PENDING,
    "PAUSED": TaskStatus.PENDING,
    "RUNNING": TaskStatus.RUNNING,
    "CANCELLING": TaskStatus.RUNNING,
    "COMPLETED": TaskStatus.SUCCEEDED,
    "FAILED": TaskStatus.FAILED,
    "CANCELLED": TaskStatus.CANCELLED,
    "CRASHED": TaskStatus.INTERRUPTED,
}

_STATUS_STATES: dict[RunStatus, list[str]] = {}
for _state, _status in _RUN.items():
    _STATUS_STATES.setdefault(_status, []).append(_state)
_STATUS_STATES[RunStatus.RUNNING].append("CANCELLING")


def run_status(state_type: str | None) -> RunStatus:
    return _RUN.get(state_type or "", RunStatus.QUEUED)


def task_status(state_type: str | None, state_name: str | None = None) -> TaskStatus:
    if state_name == "AwaitingRetry" or (state_type == "SCHEDULED" and state_name == "Retrying"):
        return TaskStatus.RETRYING
    return _TASK.get(state_type or "", TaskStatus.PENDING)


def state_types(status: RunStatus) -> list[str]:
    """The Prefect state types a shipdeck status stands for (a filter's `any_`)."""
    return list(_STATUS_STATES.get(status, []))


def phase(state_type: str | None, state_name: str | None) -> str | None:
    """Prefect's own name for the state when it says more than the status does."""
    if not state_name:
        return None
    plain = {"SCHEDULED": "Scheduled", "PENDING": "Pending", "RUNNING": "Running"}
    plain |= {"COMPLETED": "Completed", "FAILED": "Failed", "CANCELLED": "Cancelled"}
    if plain.get(state_type or "") == state_name:
        return None
    return state_name
