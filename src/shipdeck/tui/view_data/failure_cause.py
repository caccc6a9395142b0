"""Why a run failed, in a few words, for the overview's Failures rows: never blank."""

from __future__ import annotations

from shipdeck.model import Run, RunDetail, RunStatus, TaskRun, TaskStatus

UNSUCCESSFUL = (TaskStatus.FAILED, TaskStatus.INTERRUPTED, TaskStatus.CANCELLED, TaskStatus.SKIPPED)
"""The order in which tasks explain a run: a failed task says most."""


def failure_cause(run: Run, detail: RunDetail | None) -> str:
    """`train: exit 1`, `deploy: timed out after 10s`, `check: skipped: build cancelled` (a
    failed rerun that ran nothing itself), `interrupted: owner died (train was running)`."""
    if run.status == RunStatus.INTERRUPTED:
        running = _first(detail, TaskStatus.INTERRUPTED, started=True)
        return "interrupted: owner died" + (f" ({running.name} was running)" if running else "")
    if detail is None:
        return f"{run.status.value} (its tasks could not be read)"
    # The run's own tasks first: a rerun's skipped task names what it kept that failed.
    for own in (True, False):
        for status in UNSUCCESSFUL:
            task = _first(detail, status, own=own)
            if task is not None:
                reason = task.reason or (
                    f"exit {task.exit_code}" if task.exit_code else status.value
                )
                return f"{task.name}: {reason}"
    if run.status == RunStatus.CANCELLED:
        return "cancelled"
    return f"{run.status.value}, with no task that failed"


def _first(
    detail: RunDetail | None, status: TaskStatus, *, own: bool = True, started: bool = False
) -> TaskRun | None:
    """The first task with `status` that the run ran itself (`own`) or kept from an earlier
    run; `started`: only one that had started."""
    if detail is None:
        return None
    return next(
        (
            t
            for t in detail.tasks
            if t.status == status
            and (t.reused_from is None) == own
            and (t.started_at is not None or not started)
        ),
        None,
    )
