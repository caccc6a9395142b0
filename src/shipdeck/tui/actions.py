"""Rerun, cancel and trigger: preview exactly what will happen, act only on confirmation.

Failures are titled after what could not be done (`Could not rerun #12`), never `Rerun
failed`, which reads like the rerun-failed-tasks action."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipdeck.formatting import plural
from shipdeck.model import RerunMode, TaskStatus
from shipdeck.model.capabilities import Capability
from shipdeck.model.ids import run_label
from shipdeck.tui.fleet import runner_lacks, runner_read_only
from shipdeck.tui.plan_text import describe_rerun

if TYPE_CHECKING:
    from shipdeck.tui.app import ShipdeckApp

MODE_TITLE = {
    RerunMode.ALL: "Rerun every task",
    RerunMode.FAILED: "Rerun failed tasks",
    RerunMode.FROM: "Rerun from task",
}


ACTION_NEEDS = {
    "trigger": Capability.TRIGGER,
    "rerun": Capability.RERUN_ALL,
    "rerun_failed": Capability.RERUN_FAILED,
    "rerun_from": Capability.RERUN_FROM,
    "cancel": Capability.CANCEL,
}
"""What each run action (keymap.WRITE_ACTIONS) needs of a runner."""
MODE_NEEDS = {
    RerunMode.ALL: Capability.RERUN_ALL,
    RerunMode.FAILED: Capability.RERUN_FAILED,
    RerunMode.FROM: Capability.RERUN_FROM,
}


def refuse_if_read_only(app: ShipdeckApp, what: str, index: int | None = None) -> bool:
    index = app.active if index is None else index
    if runner_read_only(app, index):
        where = f" on {app.runners[index].name}" if len(app.runners) > 1 else ""
        app.notify(f"{what} refused: read-only mode{where}", severity="warning")
        return True
    return False


def refuse_if_unable(app: ShipdeckApp, what: str, need: Capability, index: int) -> bool:
    """Say, in one line, why runner `index` cannot do `need` at all (its kind has no such
    thing), or that it is read-only; True when refused."""
    if refuse_if_read_only(app, what, index):
        return True
    lacks = runner_lacks(app, index, need)
    if lacks:
        app.notify(lacks, title=f"{what} refused", severity="warning")
        return True
    return False


async def able(app: ShipdeckApp, what: str, need: Capability, index: int | None) -> int | None:
    """The runner to act on (`index`, default the active one) once its capabilities are
    known, or None after saying in one line why it cannot do `need`."""
    index = app.active if index is None else index
    await app.capabilities_of(index)
    return None if refuse_if_unable(app, what, need, index) else index


def unable_everywhere(app: ShipdeckApp, action: str, only: int | None = None) -> bool:
    """True when no runner (or runner `only`) can do run action `action`: read-only, or its
    kind cannot. Its key leaves the footer and help; pressed, it says why."""
    need = ACTION_NEEDS.get(action)
    indexes = range(len(app.runners)) if only is None else [only]
    return need is not None and all(
        runner_read_only(app, i) or bool(runner_lacks(app, i, need)) for i in indexes
    )


def refuse_everywhere(app: ShipdeckApp, action: str, what: str) -> bool:
    """When no runner can do run action `action`, say why for the active one: True then."""
    if not unable_everywhere(app, action):
        return False
    return refuse_if_unable(app, what, ACTION_NEEDS[action], app.active)


def on_runner(app: ShipdeckApp, index: int) -> str:
    """` on NAME` in a dialog's title when several runners are connected."""
    return f" on {app.runners[index].name}" if len(app.runners) > 1 else ""


async def rerun(
    app: ShipdeckApp,
    run_id: str,
    mode: RerunMode,
    from_task: str | None = None,
    *,
    index: int | None = None,
) -> None:
    """Show the rerun plan; start the rerun when the operator confirms. `index` is the runner
    the run is on (default: the active one)."""
    from shipdeck.tui.dialogs.confirm import ConfirmScreen

    index = await able(app, "Rerun", MODE_NEEDS[mode], index)
    if index is None:
        return
    runner = app.runners[index]
    failed = f"Could not rerun {run_label(run_id)}{on_runner(app, index)}"
    detail = await app.call("Rerun", lambda: runner.run(run_id), title=failed)
    if detail is None:
        return
    if not detail.run.status.finished:
        # Refused before the preview: it would list tasks still running as kept.
        app.notify(
            f"{run_label(run_id)} is still {detail.run.status.value}: wait for it to finish, "
            "or cancel it (c) first",
            title=failed,
            severity="warning",
        )
        return
    plan = await app.call(
        "Rerun", lambda: runner.rerun_plan(run_id, mode, from_task=from_task), title=failed
    )
    if plan is None:
        return
    if not plan:
        app.notify(f"Nothing to rerun in {run_label(run_id)} ({mode.value})", severity="warning")
        return
    pipelines = await app.call("Rerun", runner.pipelines, title=failed)
    if pipelines is None:
        return
    spec = next((p for p in pipelines if p.name == detail.run.pipeline), None)
    title = MODE_TITLE[mode] + (f" {from_task}" if from_task else "")
    preview = describe_rerun(run_id, plan, spec, detail.tasks, from_task)

    async def go() -> None:
        new = await app.call(
            "Rerun",
            lambda: runner.rerun(run_id, mode, from_task=from_task, trigger="tui"),
            title=failed,
        )
        if new is not None:
            tasks = plural(len(plan), "task")
            app.notify(f"Started run {new.label}{on_runner(app, index)} ({tasks})")
            app.open_run_on(index, new.id, replace=True)

    def done(confirmed: bool | None) -> None:
        if confirmed:
            app.run_worker(go(), group="action")

    app.push_screen(
        ConfirmScreen(
            f"{title}: {run_label(run_id)}{on_runner(app, index)}",
            f"Will run {plural(len(plan), 'task')}:",
            preview.items,
            footnote=preview.footnote,
            action="Rerun",
        ),
        done,
    )


async def cancel(app: ShipdeckApp, run_id: str, *, index: int | None = None) -> None:
    from shipdeck.tui.dialogs.confirm import ConfirmScreen

    index = await able(app, "Cancel", Capability.CANCEL, index)
    if index is None:
        return
    runner = app.runners[index]
    failed = f"Could not cancel {run_label(run_id)}{on_runner(app, index)}"
    detail = await app.call("Cancel", lambda: runner.run(run_id), title=failed)
    if detail is None:
        return
    if detail.run.status.finished:
        app.notify(f"{run_label(run_id)} already {detail.run.status.value}", severity="warning")
        return
    killed = [t.name for t in detail.tasks if t.status in (TaskStatus.RUNNING, TaskStatus.RETRYING)]
    dropped = [t.name for t in detail.tasks if t.status == TaskStatus.PENDING]
    # Both end `cancelled`: the preview says it in the same word the run view will show.
    lines = [f"kill    {name}" for name in killed] + [f"cancel  {name}" for name in dropped]

    async def go() -> None:
        run = await app.call("Cancel", lambda: runner.cancel(run_id), title=failed)
        if run is not None:
            app.notify(f"Cancelled {run.label}{on_runner(app, index)}")

    def done(confirmed: bool | None) -> None:
        if confirmed:
            app.run_worker(go(), group="action")

    app.push_screen(
        ConfirmScreen(
            f"Cancel run {run_label(run_id)} ({detail.run.pipeline}){on_runner(app, index)}",
            f"Will kill {len(killed)} running and cancel {len(dropped)} not started:",
            lines or ["(no task is running yet)"],
            action="Cancel run",
            danger=True,
        ),
        done,
    )


async def trigger(app: ShipdeckApp, pipeline: str, *, index: int | None = None) -> None:
    from shipdeck.tui.dialogs.trigger import TriggerScreen

    index = await able(app, "Trigger", Capability.TRIGGER, index)
    if index is None:
        return
    failed = f"Could not trigger {pipeline}{on_runner(app, index)}"
    specs = await app.call("Trigger", lambda: app.pipelines(index), title=failed)
    spec = next((p for p in specs or [] if p.name == pipeline), None)
    if spec is None:
        if specs is not None:
            app.notify(f"Unknown pipeline {pipeline!r}", severity="error")
        return

    def done(run_id: str | None) -> None:
        if run_id is not None:
            app.open_run_on(index, run_id, replace=True)

    app.push_screen(TriggerScreen(spec, app.runners[index], on_runner(app, index)), done)
