"""Rerun, cancel and trigger: preview exactly what will happen, act only on confirmation.

Failures are titled after what could not be done (`Could not rerun #12`), never `Rerun
failed`, which reads like the rerun-failed-tasks action."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, NamedTuple

from shipdeck.formatting import plural
from shipdeck.model import RerunMode, RunDetail, TaskStatus
from shipdeck.model.capabilities import Capability
from shipdeck.model.ids import run_label
from shipdeck.runners.protocol import Runner
from shipdeck.tui.cockpit import Cockpit
from shipdeck.tui.current import cockpit_of
from shipdeck.tui.plan_text import describe_rerun

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from shipdeck.tui.dialogs.confirm import ConfirmScreen

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


def refuse_if_read_only(node: DOMNode, what: str, index: int | None = None) -> bool:
    """Say that runner `index` (default the active one) is read-only; True when it is."""
    cockpit = cockpit_of(node)
    index = cockpit.active if index is None else index
    if cockpit.runner_read_only(index):
        where = cockpit.on_runner(index)
        node.app.notify(f"{what} refused: read-only mode{where}", severity="warning")
        return True
    return False


def refuse_if_unable(node: DOMNode, what: str, need: Capability, index: int) -> bool:
    """Say, in one line, why runner `index` cannot do `need` at all (its kind has no such
    thing), or that it is read-only; True when refused."""
    if refuse_if_read_only(node, what, index):
        return True
    lacks = cockpit_of(node).runner_lacks(index, need)
    if lacks:
        node.app.notify(lacks, title=f"{what} refused", severity="warning")
        return True
    return False


async def able(node: DOMNode, what: str, need: Capability, index: int | None) -> int | None:
    """The runner to act on (`index`, default the active one) once its capabilities are
    known, or None after saying in one line why it cannot do `need`."""
    cockpit = cockpit_of(node)
    index = cockpit.active if index is None else index
    await cockpit.capabilities_of(index)
    return None if refuse_if_unable(node, what, need, index) else index


def unable_everywhere(cockpit: Cockpit, action: str, only: int | None = None) -> bool:
    """True when no runner (or runner `only`) can do run action `action`: read-only, or its
    kind cannot. Its key leaves the footer and help; pressed, it says why."""
    need = ACTION_NEEDS.get(action)
    indexes = range(len(cockpit.runners)) if only is None else [only]
    return need is not None and all(
        cockpit.runner_read_only(i) or bool(cockpit.runner_lacks(i, need)) for i in indexes
    )


def refuse_everywhere(node: DOMNode, action: str, what: str) -> bool:
    """When no runner can do run action `action`, say why for the active one: True then."""
    cockpit = cockpit_of(node)
    if not unable_everywhere(cockpit, action):
        return False
    return refuse_if_unable(node, what, ACTION_NEEDS[action], cockpit.active)


def confirm_then(node: DOMNode, dialog: ConfirmScreen, act: Callable[[], Awaitable[None]]) -> None:
    """Show `dialog`; once the operator confirms, `act` runs as the app's action worker."""

    def done(confirmed: bool | None) -> None:
        if confirmed:
            node.app.run_worker(act(), group="action")

    node.app.push_screen(dialog, done)


class RunTarget(NamedTuple):
    """A run to act on, as its runner just described it."""

    runner_index: int
    runner: Runner
    detail: RunDetail
    failed: str
    """The title of what goes wrong: `Could not rerun #12 on lab`."""


async def run_target(
    node: DOMNode, verb: str, need: Capability, run_id: str, index: int | None
) -> RunTarget | None:
    """Run `run_id` on runner `index` (default the active one) when that runner can `need`;
    None once it has said in one line why not."""
    index = await able(node, verb, need, index)
    if index is None:
        return None
    cockpit = cockpit_of(node)
    runner = cockpit.runners[index]
    failed = f"Could not {verb.lower()} {run_label(run_id)}{cockpit.on_runner(index)}"
    detail = await cockpit.call(verb, lambda: runner.run(run_id), title=failed)
    return None if detail is None else RunTarget(index, runner, detail, failed)


async def rerun(
    node: DOMNode,
    run_id: str,
    mode: RerunMode,
    from_task: str | None = None,
    *,
    index: int | None = None,
) -> None:
    """Show the rerun plan; start the rerun when the operator confirms. `index` is the runner
    the run is on (default: the active one)."""
    from shipdeck.tui.dialogs.confirm import ConfirmScreen, Preview

    target = await run_target(node, "Rerun", MODE_NEEDS[mode], run_id, index)
    if target is None:
        return
    app, cockpit = node.app, cockpit_of(node)
    index, runner, detail, failed = target
    if not detail.run.status.finished:
        # Refused before the preview: it would list tasks still running as kept.
        app.notify(
            f"{run_label(run_id)} is still {detail.run.status.value}: wait for it to finish, "
            "or cancel it (c) first",
            title=failed,
            severity="warning",
        )
        return
    plan = await cockpit.call(
        "Rerun", lambda: runner.rerun_plan(run_id, mode, from_task=from_task), title=failed
    )
    if plan is None:
        return
    if not plan:
        app.notify(f"Nothing to rerun in {run_label(run_id)} ({mode.value})", severity="warning")
        return
    pipelines = await cockpit.call("Rerun", runner.pipelines, title=failed)
    if pipelines is None:
        return
    spec = next((p for p in pipelines if p.name == detail.run.pipeline), None)
    title = MODE_TITLE[mode] + (f" {from_task}" if from_task else "")
    preview = describe_rerun(run_id, plan, spec, detail.tasks, from_task)

    async def go() -> None:
        new = await cockpit.call(
            "Rerun",
            lambda: runner.rerun(run_id, mode, from_task=from_task, trigger="tui"),
            title=failed,
        )
        if new is not None:
            tasks = plural(len(plan), "task")
            app.notify(f"Started run {new.label}{cockpit.on_runner(index)} ({tasks})")
            cockpit.nav.open_run_on(index, new.id, replace=True)

    dialog = ConfirmScreen(
        Preview(
            f"{title}: {run_label(run_id)}{cockpit.on_runner(index)}",
            f"Will run {plural(len(plan), 'task')}:",
            preview.items,
            footnote=preview.footnote,
            action="Rerun",
        )
    )
    confirm_then(node, dialog, go)


async def cancel(node: DOMNode, run_id: str, *, index: int | None = None) -> None:
    from shipdeck.tui.dialogs.confirm import ConfirmScreen, Preview

    target = await run_target(node, "Cancel", Capability.CANCEL, run_id, index)
    if target is None:
        return
    app, cockpit = node.app, cockpit_of(node)
    index, runner, detail, failed = target
    if detail.run.status.finished:
        app.notify(f"{run_label(run_id)} already {detail.run.status.value}", severity="warning")
        return
    killed = [t.name for t in detail.tasks if t.status in (TaskStatus.RUNNING, TaskStatus.RETRYING)]
    dropped = [t.name for t in detail.tasks if t.status == TaskStatus.PENDING]
    # Both end `cancelled`: the preview says it in the same word the run view will show.
    lines = [f"kill    {name}" for name in killed] + [f"cancel  {name}" for name in dropped]

    async def go() -> None:
        run = await cockpit.call("Cancel", lambda: runner.cancel(run_id), title=failed)
        if run is not None:
            app.notify(f"Cancelled {run.label}{cockpit.on_runner(index)}")

    dialog = ConfirmScreen(
        Preview(
            f"Cancel run {run_label(run_id)} ({detail.run.pipeline}){cockpit.on_runner(index)}",
            f"Will kill {len(killed)} running and cancel {len(dropped)} not started:",
            lines or ["(no task is running yet)"],
            action="Cancel run",
            danger=True,
        )
    )
    confirm_then(node, dialog, go)


async def trigger(node: DOMNode, pipeline: str, *, index: int | None = None) -> None:
    from shipdeck.tui.dialogs.trigger import TriggerScreen

    index = await able(node, "Trigger", Capability.TRIGGER, index)
    if index is None:
        return
    app, cockpit = node.app, cockpit_of(node)
    failed = f"Could not trigger {pipeline}{cockpit.on_runner(index)}"
    specs = await cockpit.call("Trigger", lambda: cockpit.pipelines(index), title=failed)
    spec = next((p for p in specs or [] if p.name == pipeline), None)
    if spec is None:
        if specs is not None:
            app.notify(f"Unknown pipeline {pipeline!r}", severity="error")
        return

    def done(run_id: str | None) -> None:
        if run_id is not None:
            cockpit.nav.open_run_on(index, run_id, replace=True)

    app.push_screen(TriggerScreen(spec, cockpit.runners[index], cockpit.on_runner(index)), done)
