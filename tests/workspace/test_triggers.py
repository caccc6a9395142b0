"""Schedules and triggers in shipdeck.toml: what loads, and each problem as the user sees it."""

from __future__ import annotations

from shipdeck.model import PipelineTriggers, TriggerKind
from shipdeck.workspace import load_workspace
from tests.workspace.conftest import Problems, WriteWorkspace

F = "shipdeck.toml"

TASK = '\n[pipelines.{name}.tasks.t]\nrun = "true"\n'


def pipelines(**bodies: str) -> str:
    """One pipeline per keyword, each with its trigger keys and one task."""
    return "".join(
        f"[pipelines.{name}]\n{body}\n" + TASK.format(name=name) for name, body in bodies.items()
    )


def test_every_key_loads(write_workspace: WriteWorkspace) -> None:
    path = write_workspace(
        pipelines(
            ingest='every = "6h"\ncatchup = true',
            retrain=(
                'schedule = "0 3 * * 1-5"\ntimezone = "Europe/Berlin"\n'
                'on_success = ["ingest"]\non_change = ["data/*.csv", "raw/**/*.json"]\n'
                'debounce = "30s"'
            ),
            nightly='schedule = "@daily"',
        )
    )
    spec = load_workspace(path)
    assert spec.pipelines["ingest"].triggers == PipelineTriggers(every=21600.0, catchup=True)
    retrain = spec.pipelines["retrain"].triggers
    assert retrain == PipelineTriggers(
        schedule="0 3 * * 1-5",
        timezone="Europe/Berlin",
        on_success=("ingest",),
        on_change=("data/*.csv", "raw/**/*.json"),
        debounce=30.0,
    )
    assert retrain.kinds() == [TriggerKind.SCHEDULE, TriggerKind.ON_SUCCESS, TriggerKind.ON_CHANGE]
    assert spec.pipelines["nightly"].triggers.timezone == "UTC"  # the default


def test_a_pipeline_without_triggers_has_none(write_workspace: WriteWorkspace) -> None:
    spec = load_workspace(write_workspace(pipelines(a="")))
    assert spec.pipelines["a"].triggers.kinds() == []


def test_bad_cron_expressions(problems: Problems) -> None:
    assert problems(
        pipelines(
            a='schedule = "0 3 * * 1-8"',
            b='schedule = "1 2 3"',
            c='schedule = "61 * * * *"',
            d='schedule = "0 0 30 2 *"',
            e='schedule = "* * * * * *"',
        )
    ) == [
        f"{F}:2: pipelines.a.schedule: bad cron expression '0 3 * * 1-8': bad day-of-week",
        f"{F}:7: pipelines.b.schedule: bad cron expression '1 2 3': expected 5 fields (minute"
        " hour day-of-month month day-of-week) or one of @annually, @daily, @hourly,"
        " @midnight, @monthly, @weekly, @yearly",
        f"{F}:12: pipelines.c.schedule: bad cron expression '61 * * * *': bad minute",
        f"{F}:17: pipelines.d.schedule: bad cron expression '0 0 30 2 *': bad day-of-month",
        f"{F}:22: pipelines.e.schedule: bad cron expression '* * * * * *': expected 5 fields"
        " (minute hour day-of-month month day-of-week) or one of @annually, @daily, @hourly,"
        " @midnight, @monthly, @weekly, @yearly",
    ]


def test_unknown_time_zone_with_a_suggestion(problems: Problems) -> None:
    assert problems(
        pipelines(
            a='schedule = "0 3 * * *"\ntimezone = "Europe/Berln"',
            b='schedule = "0 3 * * *"\ntimezone = "Mars/Olympus_Mons"',
            c='schedule = "0 3 * * *"\ntimezone = "../../etc/passwd"',
        )
    ) == [
        f"{F}:3: pipelines.a.timezone: unknown time zone 'Europe/Berln'"
        " (did you mean 'Europe/Berlin'?)",
        f"{F}:9: pipelines.b.timezone: unknown time zone 'Mars/Olympus_Mons'"
        " (IANA names like 'Europe/Berlin' or 'UTC')",
        f"{F}:15: pipelines.c.timezone: unknown time zone '../../etc/passwd'"
        " (IANA names like 'Europe/Berlin' or 'UTC')",
    ]


def test_unknown_pipeline_in_on_success(problems: Problems) -> None:
    assert problems(
        pipelines(ingest="", retrain='on_success = ["ingest", "ingset", "retrain", "ingest"]')
    ) == [
        f"{F}:7: pipelines.retrain.on_success: unknown pipeline 'ingset' (did you mean 'ingest'?)",
        f"{F}:7: pipelines.retrain.on_success: a pipeline cannot start itself on success",
        f"{F}:7: pipelines.retrain.on_success: lists 'ingest' twice",
    ]


def test_a_trigger_cycle(problems: Problems) -> None:
    assert problems(
        pipelines(
            a='on_success = ["c"]',
            b='on_success = ["a"]',
            c='on_success = ["b"]',
            d='on_success = ["a"]',
        )
    ) == [
        f"{F}:2: pipelines.a.on_success: trigger cycle: a -> c -> b -> a"
        " (each starts when the one after it succeeds, forever)"
    ]


def test_keys_that_do_not_go_together(problems: Problems) -> None:
    assert problems(
        pipelines(
            a='schedule = "0 3 * * *"\nevery = "1h"',
            b='timezone = "UTC"\nevery = "1h"',
            c='catchup = true\non_change = ["x"]',
            d='debounce = "1s"',
        )
    ) == [
        f"{F}:3: pipelines.a.every: a pipeline has either a cron `schedule` or an interval `every`",
        f"{F}:8: pipelines.b.timezone: applies to a cron `schedule`, which this pipeline does not"
        " have (`every` counts intervals in UTC)",
        f"{F}:14: pipelines.c.catchup: applies to `schedule`, `every` and `on_success`",
        f"{F}:20: pipelines.d.debounce: applies to `on_change`",
    ]


def test_bad_values(problems: Problems) -> None:
    assert problems(
        pipelines(
            a='every = "0.5s"',
            b='every = "ten minutes"',
            c="catchup = 1\nevery = 60",
            d="on_success = []\non_change = []",
            e='on_change = ["/etc/passwd", "../up/*.csv", ".shipdeck/shipdeck.db", "ok/*.csv"]',
        )
    ) == [
        f"{F}:2: pipelines.a.every: must be at least 1s, got string '0.5s'",
        f"{F}:7: pipelines.b.every: bad duration 'ten minutes': expected a number of seconds"
        " or a duration like '500ms', '30s', '10m', '1h30m'",
        f"{F}:12: pipelines.c.catchup: must be true or false, got integer 1",
        f"{F}:18: pipelines.d.on_success: must name at least one pipeline",
        f"{F}:19: pipelines.d.on_change: must list at least one file pattern, like 'data/*.csv'",
        f"{F}:24: pipelines.e.on_change: a pattern is relative to the workspace root,"
        " got '/etc/passwd'",
        f"{F}:24: pipelines.e.on_change: a pattern must stay inside the workspace root,"
        " got '../up/*.csv'",
        f"{F}:24: pipelines.e.on_change: a pattern must name files of the workspace, not its"
        " .shipdeck state, got '.shipdeck/shipdeck.db'",
    ]


def test_validate_exits_2_with_the_lines(write_workspace: WriteWorkspace) -> None:
    import subprocess
    import sys

    path = write_workspace(pipelines(a='schedule = "0 25 * * *"'))
    done = subprocess.run(
        [sys.executable, "-m", "shipdeck", "validate"],
        cwd=path.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert (
        done.stderr == f"{F}:2: pipelines.a.schedule: bad cron expression '0 25 * * *': bad hour\n"
    )
