"""A pipeline's schedule and triggers: `schedule`, `timezone`, `every`, `catchup`,
`on_success`, `on_change`, `debounce`, `on_alert`, `cooldown`. References between pipelines
are checked once every pipeline is known (`check_trigger_references`), references to monitors
once the monitors are (`check_alert_references`)."""

from __future__ import annotations

import functools
import posixpath
import zoneinfo
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from cronsim import CronSim, CronSimError

from shipdeck.model import PipelineSpec, PipelineTriggers
from shipdeck.model.triggers import DEFAULT_COOLDOWN, DEFAULT_DEBOUNCE, DEFAULT_TIMEZONE
from shipdeck.workspace.durations import LONGEST
from shipdeck.workspace.fields import Fields
from shipdeck.workspace.locate import KeyPath
from shipdeck.workspace.problems import Problems, describe, did_you_mean, quoted
from shipdeck.workspace.validate import find_cycles

TRIGGER_KEYS = (
    "schedule",
    "timezone",
    "every",
    "catchup",
    "on_success",
    "on_change",
    "debounce",
    "on_alert",
    "cooldown",
)
CRON_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
LONGEST_DEBOUNCE = 86400.0
MAX_PATTERNS = 100
_CRON_FIELDS = "minute hour day-of-month month day-of-week"


def cron_expression(schedule: str) -> str:
    """The five-field expression a schedule stands for (macros like @daily expanded)."""
    text = " ".join(schedule.split())
    return CRON_MACROS.get(text.lower(), text)


def parse_triggers(table: Mapping[str, Any], path: KeyPath, problems: Problems) -> PipelineTriggers:
    """The trigger keys of one pipeline table (other keys are the caller's)."""
    fields = Fields(table, path, problems)
    schedule, timezone, every = parse_timing(fields, "pipeline")
    if "timezone" in table and "schedule" not in table:
        problems.add(
            fields.at("timezone"),
            "applies to a cron `schedule`, which this pipeline does not have"
            " (`every` counts intervals in UTC)",
        )
    catchup = _flag(fields, "catchup")
    if "catchup" in table and not ({"schedule", "every", "on_success"} & table.keys()):
        problems.add(fields.at("catchup"), "applies to `schedule`, `every` and `on_success`")
    on_success = _names(fields)
    on_change = _patterns(fields)
    debounce = fields.duration("debounce", allow_zero=True, maximum=LONGEST_DEBOUNCE)
    if "debounce" in table and "on_change" not in table:
        problems.add(fields.at("debounce"), "applies to `on_change`")
    on_alert = fields.string_list("on_alert")
    if "on_alert" in table and not on_alert and isinstance(table["on_alert"], list):
        problems.add(fields.at("on_alert"), "must name at least one monitor")
    cooldown = fields.duration("cooldown", allow_zero=True, maximum=LONGEST)
    if "cooldown" in table and "on_alert" not in table:
        problems.add(fields.at("cooldown"), "applies to `on_alert`")
    return PipelineTriggers(
        schedule=schedule,
        timezone=timezone,
        every=every,
        catchup=catchup,
        on_success=tuple(on_success),
        on_change=tuple(on_change),
        debounce=DEFAULT_DEBOUNCE if debounce is None else debounce,
        on_alert=tuple(dict.fromkeys(on_alert)),
        cooldown=DEFAULT_COOLDOWN if cooldown is None else cooldown,
    )


def parse_timing(fields: Fields, owner: str) -> tuple[str | None, str, float | None]:
    """The `schedule`, `timezone` and `every` of a pipeline's or monitor's table (`owner`
    names which): at most one of a schedule and an interval, each None when absent or
    reported."""
    schedule = parse_schedule(fields)
    timezone = parse_timezone(fields)
    every = fields.interval("every", maximum=LONGEST)
    if "schedule" in fields.table and "every" in fields.table:
        fields.problems.add(
            fields.at("every"), f"a {owner} has either a cron `schedule` or an interval `every`"
        )
        every = None
    return schedule, timezone, every


def parse_schedule(fields: Fields) -> str | None:
    """The table's `schedule`, a valid cron expression (None when absent or reported)."""
    text = fields.optional_string("schedule")
    if text is None:
        return None
    expression = cron_expression(text)
    if len(expression.split()) != 5 or expression.startswith("@"):
        fields.problems.add(
            fields.at("schedule"),
            f"bad cron expression {quoted(text)}: expected 5 fields ({_CRON_FIELDS})"
            f" or one of {', '.join(sorted(set(CRON_MACROS)))}",
        )
        return None
    try:
        next(CronSim(expression, datetime(2000, 1, 1, tzinfo=UTC)))
    except CronSimError as error:
        reason = str(error) or "invalid"
        fields.problems.add(
            fields.at("schedule"),
            f"bad cron expression {quoted(text)}: {reason[:1].lower() + reason[1:]}",
        )
        return None
    except StopIteration:
        fields.problems.add(fields.at("schedule"), f"cron expression {quoted(text)} never fires")
        return None
    return text


def parse_timezone(fields: Fields) -> str:
    """The table's `timezone`, a known IANA zone (UTC when absent or reported)."""
    name = fields.optional_string("timezone")
    if name is None:
        return DEFAULT_TIMEZONE
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        hint = did_you_mean(name, _known_zones()) or " (IANA names like 'Europe/Berlin' or 'UTC')"
        fields.problems.add(fields.at("timezone"), f"unknown time zone {quoted(name)}{hint}")
        return DEFAULT_TIMEZONE
    return name


@functools.cache
def _known_zones() -> frozenset[str]:
    """The IANA names installed (a scan of the zone files: only for suggestions)."""
    return frozenset(zoneinfo.available_timezones())


def _flag(fields: Fields, key: str) -> bool:
    value = fields.table.get(key, False)
    if not isinstance(value, bool):
        fields.problems.add(fields.at(key), f"must be true or false, got {describe(value)}")
        return False
    return value


def _names(fields: Fields) -> list[str]:
    names = fields.string_list("on_success")
    if "on_success" in fields.table and not names and isinstance(fields.table["on_success"], list):
        fields.problems.add(fields.at("on_success"), "must name at least one pipeline")
    return names


def _patterns(fields: Fields) -> list[str]:
    patterns = fields.string_list("on_change")
    where = fields.at("on_change")
    raw = fields.table.get("on_change")
    if "on_change" in fields.table and not patterns and isinstance(raw, list):
        fields.problems.add(where, "must list at least one file pattern, like 'data/*.csv'")
    if len(patterns) > MAX_PATTERNS:
        fields.problems.add(where, f"at most {MAX_PATTERNS} patterns, got {len(patterns):,}")
        return []
    kept: list[str] = []
    for index, pattern in enumerate(patterns):
        item = (*where, str(index))
        problem = _pattern_problem(pattern)
        if problem:
            fields.problems.add(where, f"{problem}, got {quoted(pattern)}", line_of=item)
        else:
            kept.append(pattern)
    return kept


def _pattern_problem(pattern: str) -> str:
    if not pattern.strip() or "\0" in pattern:
        return "a pattern must be a non-empty path without NUL characters"
    if PurePosixPath(pattern).is_absolute() or PureWindowsPath(pattern).is_absolute():
        return "a pattern is relative to the workspace root"
    normal = posixpath.normpath(pattern)
    if normal == ".." or normal.startswith("../") or "/../" in f"/{pattern}/":
        return "a pattern must stay inside the workspace root"
    if normal == "." or normal.split("/")[0] == ".shipdeck":
        return "a pattern must name files of the workspace, not its .shipdeck state"
    return ""


def check_trigger_references(pipelines: Mapping[str, PipelineSpec], problems: Problems) -> None:
    """Every `on_success` names another declared pipeline, and no pipelines start each other
    in a circle (a succeeds -> b starts, b succeeds -> a starts, forever)."""
    graph: dict[str, list[str]] = {}
    for name, pipeline in pipelines.items():
        where = ("pipelines", name, "on_success")
        kept: list[str] = []
        for index, upstream in enumerate(pipeline.triggers.on_success):
            item = (*where, str(index))
            if upstream == name:
                problems.add(where, "a pipeline cannot start itself on success", line_of=item)
            elif upstream not in pipelines:
                hint = did_you_mean(upstream, [p for p in pipelines if p != name])
                problems.add(where, f"unknown pipeline {quoted(upstream)}{hint}", line_of=item)
            elif upstream in kept:
                problems.add(where, f"lists {quoted(upstream)} twice", line_of=item)
            else:
                kept.append(upstream)
        graph[name] = kept
    for cycle in find_cycles(graph):
        problems.add(
            ("pipelines", cycle[0], "on_success"),
            "trigger cycle: "
            + " -> ".join(cycle)
            + " (each starts when the one after it succeeds, forever)",
        )


def check_alert_references(
    pipelines: Mapping[str, PipelineSpec], monitors: Collection[str], problems: Problems
) -> None:
    """Every `on_alert` names a declared monitor."""
    for name, pipeline in pipelines.items():
        where = ("pipelines", name, "on_alert")
        for index, monitor in enumerate(pipeline.triggers.on_alert):
            if monitor not in monitors:
                known = did_you_mean(monitor, monitors) or (
                    "" if monitors else " (declare it as [monitors.NAME])"
                )
                problems.add(
                    where, f"unknown monitor {quoted(monitor)}{known}", line_of=(*where, str(index))
                )
