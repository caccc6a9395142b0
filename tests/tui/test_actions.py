"""Rerun, cancel, trigger: each previews exactly what will happen and acts only on `y`."""

from __future__ import annotations

from textual.widgets import Input, Static

from shipdeck.model import PipelineSpec, RerunMode, RunStatus, TaskRun, TaskSpec, TaskStatus
from shipdeck.tui.config import TuiConfig
from shipdeck.tui.dialogs.confirm import ConfirmScreen
from shipdeck.tui.dialogs.trigger import TriggerScreen
from shipdeck.tui.plan_text import describe_rerun
from shipdeck.tui.screens.main import MainScreen
from shipdeck.tui.screens.run import RunScreen
from shipdeck.tui.widgets.dag import DagView
from tests.tui.conftest import Demo, wait_for
from tests.tui.shown import Notices


async def open_run_screen(app: object, pilot: object, run_id: str) -> RunScreen:
    from shipdeck.tui.app import ShipdeckApp

    assert isinstance(app, ShipdeckApp)
    app.open_run(run_id)
    await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), "the run view")  # type: ignore[arg-type]
    screen = app.screen
    assert isinstance(screen, RunScreen)
    await wait_for(pilot, lambda: screen.query(DagView), "the DAG")  # type: ignore[arg-type]
    return screen


async def test_rerun_failed_previews_the_plan_and_acts_only_on_confirmation(demo: Demo) -> None:
    failed = await demo.run("train", flaky="true")
    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_run_screen(app, pilot, failed.run.id)
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the preview")
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen)
        preview = dialog.preview
        assert preview.items == ["train_b", "evaluate", "report"]
        assert preview.items == await demo.runner.rerun_plan(failed.run.id, RerunMode.FAILED)
        assert "prepare, train_a" in preview.footnote
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), "back to the run")
        assert len(await demo.runner.runs()) == 1

        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the preview")
        await pilot.press("y")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, RunScreen) and app.screen.run_id != failed.run.id,
            "the new run's view",
        )
        new_id = app.screen.run_id  # type: ignore[attr-defined]
        done = await demo.runner.wait_run(new_id)
        assert done.parent_id == failed.run.id
        assert done.rerun_mode == RerunMode.FAILED
        assert done.status == RunStatus.SUCCEEDED
        assert done.trigger == "tui"


async def test_rerun_all_and_rerun_from_the_selected_task(demo: Demo) -> None:
    first = await demo.run("train")
    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_run_screen(app, pilot, first.run.id)
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the preview")
        assert app.screen.preview.items == ["prepare", "train_a", "train_b", "evaluate", "report"]  # type: ignore[attr-defined]
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, "back to the run")

        await pilot.press("l", "l")
        assert screen.selected_task == "evaluate"
        await pilot.press("F")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the preview")
        assert app.screen.preview.items == ["evaluate", "report"]  # type: ignore[attr-defined]
        await pilot.press("y")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, RunScreen) and app.screen.run_id != first.run.id,
            "the new run's view",
        )
        new = await demo.runner.wait_run(app.screen.run_id)  # type: ignore[attr-defined]
        assert (new.rerun_mode, new.rerun_from) == (RerunMode.FROM, "evaluate")
        detail = await demo.runner.run(new.id)
        kept = {t.name for t in detail.tasks if t.reused_from == first.run.id}
        assert kept == {"prepare", "train_a", "train_b"}


async def test_cancel_lists_the_tasks_it_kills_and_cancels_on_confirmation(demo: Demo) -> None:
    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        run = await demo.runner.start_run("chatty", None, trigger="test")
        screen = await open_run_screen(app, pilot, run.id)
        dag = screen.query_one(DagView)
        await wait_for(
            pilot,
            lambda: (
                dag.tasks.get("talk") is not None and dag.tasks["talk"].status == TaskStatus.RUNNING
            ),
            "talk running",
        )
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the preview")
        assert app.screen.preview.items == ["kill    talk", "cancel  after"]  # type: ignore[attr-defined]
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen is screen, "back to the run")
        assert (await demo.runner.run(run.id)).run.status == RunStatus.RUNNING

        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the preview")
        await pilot.press("y")
        done = await demo.runner.wait_run(run.id)
        assert done.status == RunStatus.CANCELLED
        await wait_for(
            pilot,
            lambda: dag.tasks["talk"].status == TaskStatus.CANCELLED,
            "the DAG to show the cancel",
        )
        # As the preview said: the task that had not started ends cancelled too.
        assert (await demo.runner.run(run.id)).task("after").status == TaskStatus.CANCELLED  # type: ignore[union-attr]


async def test_trigger_form_is_prefilled_and_reports_bad_params_without_starting(
    demo: Demo,
) -> None:
    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        await wait_for(pilot, lambda: main.snapshot is not None, "the first snapshot")
        await pilot.press("2", "j")  # pipelines view, second row: train
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, TriggerScreen), "the form")
        form = app.screen
        assert isinstance(form, TriggerScreen)
        assert form.spec.name == "train"
        assert form.params() == {
            "seed": "7",
            "rows": "600",
            "epochs": "30",
            "lr_a": "0.05",
            "lr_b": "0.5",
            "flaky": "false",
        }
        rows = form.query_one("#param-rows", Input)
        rows.value = "lots"
        await pilot.press("enter")
        error = form.query_one("#form-error", Static)
        await wait_for(pilot, lambda: "rows" in str(error.render()), "the error line")
        assert app.screen is form
        assert await demo.runner.runs() == []

        rows.value = "[/b] 3"  # shown as typed: markup would fail on the closing tag
        await pilot.press("enter")
        await wait_for(pilot, lambda: "'[/b] 3'" in str(error.render()), "the error, verbatim")
        assert app.screen is form and app.is_running

        rows.value = "6\udcff"  # what a pasted non-UTF-8 byte becomes: the CLI's and API's line
        await pilot.press("enter")
        refused = "value refused: it is not valid UTF-8 (byte 0xff at character 2)"
        await wait_for(pilot, lambda: refused in str(error.render()), "the text error")
        assert str(error.render()).count("\n") == 0
        assert await demo.runner.runs() == []

        rows.value = "300"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), "the new run")
        runs = await demo.runner.runs()
        assert len(runs) == 1
        assert runs[0].params["rows"] == 300
        assert runs[0].trigger == "tui"
        await demo.runner.wait_run(runs[0].id)


async def test_a_running_run_is_refused_before_any_rerun_preview(demo: Demo) -> None:
    run = await demo.runner.start_run("chatty", trigger="test")  # waits for the gate file
    app = demo.app()
    notices = Notices(app)
    async with app.run_test(size=(80, 24)) as pilot:
        title = f"Could not rerun #{run.id}"

        def refusals() -> list[str]:
            return [str(n.message) for n in notices.shown if n.title == title]

        async def refused(key: str) -> None:
            before = len(refusals())
            screen = app.screen
            await pilot.press(key)
            await wait_for(pilot, lambda: len(refusals()) > before, f"{key} refused")
            assert app.screen is screen  # no preview listing running tasks as kept

        await open_run_screen(app, pilot, run.id)
        for key in ("R", "r", "F"):
            await refused(key)
        assert f"#{run.id} is still running" in refusals()[0]
        assert "cancel it (c)" in refusals()[0]

        await pilot.press("3")  # the Runs row: the same refusal
        main = app.screen
        assert isinstance(main, MainScreen)
        await wait_for(pilot, lambda: main.selected_run() is not None, "the run's row")
        await refused("R")
        assert isinstance(app.screen, MainScreen)
        assert not any(n.title == "Rerun failed" for n in notices.shown)
    demo.gate.touch()
    assert len(await demo.runner.runs()) == 1


async def test_read_only_hides_and_refuses_every_action(demo: Demo) -> None:
    failed = await demo.run("train", flaky="true")
    app = demo.app(read_only=True)
    notices = Notices(app)
    async with app.run_test(size=(80, 24)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        await wait_for(pilot, lambda: main.snapshot is not None, "the first snapshot")
        shown = {b.binding.id for b in main.active_bindings.values() if b.enabled}
        assert not shown & {"trigger", "rerun", "rerun-failed", "cancel"}
        assert "READ-ONLY" in str(main.query_one("AppHeader").render())

        async def refused(key: str, what: str) -> None:
            """Hidden, but a press says why nothing happens (it used to do nothing)."""
            before = len(notices.shown)
            await pilot.press(key)
            await wait_for(pilot, lambda: len(notices.shown) > before, f"{key} refused")
            assert notices.shown[-1].message == f"{what} refused: read-only mode"

        for key, what in (("t", "Trigger"), ("r", "Rerun"), ("R", "Rerun"), ("c", "Cancel")):
            await refused(key, what)
        assert app.screen is main
        screen = await open_run_screen(app, pilot, failed.run.id)
        shown = {b.binding.id for b in screen.active_bindings.values() if b.enabled}
        assert not shown & {"trigger", "rerun", "rerun-failed", "rerun-from", "cancel"}
        for key, what in (("r", "Rerun"), ("R", "Rerun"), ("F", "Rerun"), ("c", "Cancel")):
            await refused(key, what)
        await refused("t", "Trigger")
        assert app.screen is screen
        assert len(await demo.runner.runs()) == 1


async def test_runner_marked_read_only_in_config_is_read_only(demo: Demo) -> None:
    app = demo.app(config=TuiConfig(read_only_runners={"local"}))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("t")
        assert isinstance(app.screen, MainScreen)
        assert app.cockpit.read_only


async def test_runner_errors_become_notifications(demo: Demo) -> None:
    ok = await demo.run("ci")
    app = demo.app()
    notices = Notices(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_run_screen(app, pilot, ok.run.id)
        await pilot.press("R")  # nothing failed: nothing to rerun
        await wait_for(pilot, lambda: notices.shown, "a notification")
        messages = [n.message for n in notices.shown]
        assert any("Nothing to rerun" in m for m in messages), messages
        assert isinstance(app.screen, RunScreen)
        await pilot.press("c")  # the run has finished: cancel is refused with a message
        await wait_for(
            pilot,
            lambda: any("already succeeded" in n.message for n in notices.shown),
            "the refusal",
        )


async def test_rerun_preview_follows_the_pipeline_as_declared_now(demo: Demo) -> None:
    """The engine reruns the current pipeline: a task renamed since the run is neither kept
    nor listed under its old name, and a plain rerun keeps nothing."""
    first = await demo.run("train")
    text = demo.workspace.file.read_text(encoding="utf-8")
    renamed = text.replace("[pipelines.train.tasks.report]", "[pipelines.train.tasks.summary]")
    demo.workspace.file.write_text(renamed, encoding="utf-8")
    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_run_screen(app, pilot, first.run.id)
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the preview")
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen)
        preview = dialog.preview
        assert preview.items == ["prepare", "train_a", "train_b", "evaluate", "summary"]
        assert preview.footnote == ""
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, "back to the run")

        await pilot.press("l", "l")
        assert screen.selected_task == "evaluate"
        await pilot.press("F")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the preview")
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen)
        preview = dialog.preview
        plan = await demo.runner.rerun_plan(first.run.id, RerunMode.FROM, from_task="evaluate")
        assert preview.items == plan == ["evaluate", "summary"]
        assert preview.footnote == f"Kept from #{first.run.id}: prepare, train_a, train_b"
        await pilot.press("y")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, RunScreen) and app.screen.run_id != first.run.id,
            "the new run's view",
        )
        new = await demo.runner.wait_run(app.screen.run_id)  # type: ignore[attr-defined]
        detail = await demo.runner.run(new.id)
        kept = [t.name for t in detail.tasks if t.reused_from == first.run.id]
        assert kept == ["prepare", "train_a", "train_b"]
        assert [t.name for t in detail.tasks if t.reused_from is None] == plan


async def test_rerun_from_a_task_after_a_failure_says_what_it_adds_and_keeps(
    demo: Demo,
) -> None:
    failed = await demo.run("train", flaky="true")  # train_b fails: evaluate, report skipped
    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_run_screen(app, pilot, failed.run.id)
        while screen.selected_task != "report":
            await pilot.press("l")
        await pilot.press("F")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the preview")
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen)
        preview = dialog.preview
        n = failed.run.id
        # Kept as they were, train_b and evaluate would skip report again: they run first.
        assert preview.summary == "Will run 3 tasks:"
        assert preview.items == [
            f"train_b (failed in #{n})",
            f"evaluate (skipped in #{n})",
            "report",
        ]
        assert preview.footnote == (
            f"report needs train_b, evaluate, which did not succeed in #{n}: they run again first\n"
            f"Kept from #{n}: prepare, train_a"
        )
        assert [item.split()[0] for item in preview.items] == await demo.runner.rerun_plan(
            n, RerunMode.FROM, from_task="report"
        )
        await pilot.press("y")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, RunScreen) and app.screen.run_id != n,
            "the new run's view",
        )
        done = await demo.runner.wait_run(app.screen.run_id)  # type: ignore[attr-defined]
        assert (done.rerun_mode, done.rerun_from, done.status) == (
            RerunMode.FROM,
            "report",
            RunStatus.SUCCEEDED,
        )


def test_the_rerun_preview_of_a_cancelled_run_names_what_it_adds_and_keeps() -> None:
    spec = PipelineSpec(
        name="p",
        tasks={
            "a": TaskSpec(name="a", run="true"),
            "b": TaskSpec(name="b", run="true", needs=("a",)),
            "c": TaskSpec(name="c", run="true", needs=("b",)),
            "side": TaskSpec(name="side", run="true"),
            "new": TaskSpec(name="new", run="true"),
        },
    )
    ended = {
        "a": TaskStatus.CANCELLED,
        "b": TaskStatus.CANCELLED,
        "c": TaskStatus.CANCELLED,
        "side": TaskStatus.FAILED,
    }
    previous = [TaskRun(run_id=4, name=name, status=status) for name, status in ended.items()]
    preview = describe_rerun("4", ["a", "b", "c", "new"], spec, previous, "c")
    assert preview.items == [
        "a (cancelled in #4)",
        "b (cancelled in #4)",
        "c",
        "new (new since #4)",
    ]
    assert preview.footnote == (
        "c needs a, b, which did not succeed in #4: they run again first\n"
        "Kept from #4: side (failed)"
    )
    # Rerun every task or the failed ones: nothing added to explain, only what is kept.
    failed_only = describe_rerun("4", ["a", "b", "c", "side", "new"], spec, previous)
    assert failed_only.items == ["a", "b", "c", "side", "new"]
    assert failed_only.footnote == ""
