"""The `[monitors.NAME]` and `[notify]` sections: checks run on a schedule against thresholds,
and where alerts and failures are sent."""

from __future__ import annotations

import math
import re
import shlex
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from shipdeck.model import (
    MonitorSpec,
    NotifySpec,
    PipelineSpec,
    PipelineTriggers,
    ServiceSpec,
    ThresholdSpec,
)
from shipdeck.model.monitor import DEFAULT_CHECK_TIMEOUT
from shipdeck.workspace.fields import Fields, named_tables
from shipdeck.workspace.locate import KeyPath
from shipdeck.workspace.pipelines import (
    MAX_NAME,
    MAX_TIMEOUT,
    NAME,
    NAME_RULE,
    check_cwd,
    registered_models,
)
from shipdeck.workspace.problems import describe, did_you_mean, quoted
from shipdeck.workspace.triggers import parse_timing

if TYPE_CHECKING:
    from shipdeck.workspace.loader import SectionContext

MONITOR_KEYS = (
    "description",
    "run",
    "every",
    "schedule",
    "timezone",
    "thresholds",
    "watches",
    "env",
    "cwd",
    "timeout",
)
NOTIFY_KEYS = ("command", "webhook", "timeout", "retries", "on_failure", "on_deploy_failure")
MAX_THRESHOLDS = 100
MAX_NOTIFY_RETRIES = 10
MAX_NOTIFY_TIMEOUT = 300.0
_THRESHOLD = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_.\-/]*)\s*(>=|<=|==|!=|>|<)\s*(\S+)\s*")
_THRESHOLD_FORM = "expected 'METRIC OP NUMBER' like 'drift_share >= 0.5' (OP: >= > <= < == !=)"


def monitors_section(raw: object, context: SectionContext) -> dict[str, Any]:
    problems = context.problems
    pipelines: dict[str, PipelineSpec] = context.loaded.get("pipelines", {})
    services: dict[str, ServiceSpec] = context.loaded.get("services", {})

    def check_name(name: str, path: KeyPath) -> None:
        if not NAME.fullmatch(name):
            problems.add(path, f"monitor name {NAME_RULE}")
        elif len(name) > MAX_NAME:
            problems.add(path, f"monitor name must be at most {MAX_NAME} characters")

    monitors = {
        name: _monitor(name, fields, pipelines, services)
        for name, fields in named_tables(raw, ("monitors",), problems, check_name)
    }
    return {"monitors": monitors}


def _monitor(
    name: str,
    fields: Fields,
    pipelines: dict[str, PipelineSpec],
    services: dict[str, ServiceSpec],
) -> MonitorSpec:
    fields.check_keys(MONITOR_KEYS)
    schedule, timezone, every = parse_timing(fields, "monitor")
    if "timezone" in fields.table and "schedule" not in fields.table:
        fields.problems.add(fields.at("timezone"), "applies to a cron `schedule`")
    timeout = fields.duration("timeout", allow_zero=False, maximum=MAX_TIMEOUT)
    return MonitorSpec(
        name=name,
        run=fields.string("run", required=True),
        description=fields.string("description"),
        timing=PipelineTriggers(schedule=schedule, timezone=timezone, every=every),
        thresholds=_thresholds(fields),
        watches=_watches(fields, pipelines, services),
        env=fields.env_table("env"),
        cwd=check_cwd(fields),
        timeout=DEFAULT_CHECK_TIMEOUT if timeout is None else timeout,
    )


def parse_threshold(text: str) -> ThresholdSpec:
    """The threshold `text` describes; ValueError with a one-line reason otherwise."""
    match = _THRESHOLD.fullmatch(text)
    if match is None:
        raise ValueError(f"bad threshold {quoted(text)}: {_THRESHOLD_FORM}")
    metric, op, number = match.groups()
    try:
        limit = float(number)
    except ValueError:
        raise ValueError(
            f"bad threshold {quoted(text)}: {quoted(number)} is not a number"
        ) from None
    if not math.isfinite(limit):
        raise ValueError(f"bad threshold {quoted(text)}: the limit must be a finite number")
    return ThresholdSpec(text=f"{metric} {op} {number}", metric=metric, op=op, limit=limit)


def _thresholds(fields: Fields) -> tuple[ThresholdSpec, ...]:
    where = fields.at("thresholds")
    texts = fields.string_list("thresholds")
    if len(texts) > MAX_THRESHOLDS:
        fields.problems.add(where, f"at most {MAX_THRESHOLDS} thresholds, got {len(texts):,}")
        return ()
    kept: dict[str, ThresholdSpec] = {}
    for index, text in enumerate(texts):
        try:
            threshold = parse_threshold(text)
        except ValueError as error:
            fields.problems.add(where, str(error), line_of=(*where, str(index)))
            continue
        if threshold.text in kept:
            fields.problems.add(where, f"lists {quoted(text)} twice", line_of=(*where, str(index)))
            continue
        kept[threshold.text] = threshold
    return tuple(kept.values())


def _watches(
    fields: Fields, pipelines: dict[str, PipelineSpec], services: dict[str, ServiceSpec]
) -> dict[str, str]:
    table = fields.table_of("watches")
    if table is None:
        return {}
    where = fields.at("watches")
    fields.problems.check_keys(table, where, ("model", "service", "env"))
    inner = Fields(table, where, fields.problems)
    model = inner.optional_string("model")
    service = inner.optional_string("service")
    env = inner.optional_string("env")
    if ("model" in table) == ("service" in table):
        fields.problems.add(where, "set exactly one of 'model' or 'service' (with its 'env')")
        return {}
    if model is not None:
        registered = registered_models(pipelines)
        if model not in registered:
            fields.problems.add(
                inner.at("model"),
                f"no task registers model {quoted(model)}{did_you_mean(model, registered)}",
            )
            return {}
        return {"model": model}
    if "env" in table and env is None:
        return {}
    if service is None:
        return {}
    spec = services.get(service)
    if spec is None:
        fields.problems.add(
            inner.at("service"),
            f"unknown service {quoted(service)}{did_you_mean(service, services)}",
        )
        return {}
    if env is None:
        fields.problems.add(where, "a service is watched in one environment: add 'env'")
        return {}
    if env not in spec.environments:
        fields.problems.add(
            inner.at("env"),
            f"service {service!r} has no environment {quoted(env)}"
            f" (environments: {', '.join(spec.environments)})",
        )
        return {}
    return {"service": service, "env": env}


def notify_section(raw: object, context: SectionContext) -> dict[str, Any]:
    """`[notify]`: a command (an argv, no shell) and/or a webhook, and what notifies."""
    path = ("notify",)
    problems = context.problems
    fields = Fields.of_table(raw, path, problems, NOTIFY_KEYS)
    if fields is None:
        return {}
    table = fields.table
    command = _command(fields)
    webhook = _webhook(fields)
    if "command" not in table and "webhook" not in table:
        problems.add(path, "say where to send notifications: 'command' and/or 'webhook'")
    timeout = fields.duration("timeout", allow_zero=False, maximum=MAX_NOTIFY_TIMEOUT)
    retries = fields.count("retries", maximum=MAX_NOTIFY_RETRIES) if "retries" in table else 3
    pipelines: dict[str, PipelineSpec] = context.loaded.get("pipelines", {})
    on_failure = fields.string_list("on_failure")
    for index, name in enumerate(on_failure):
        if name not in pipelines:
            problems.add(
                fields.at("on_failure"),
                f"unknown pipeline {quoted(name)}{did_you_mean(name, pipelines)}",
                line_of=(*fields.at("on_failure"), str(index)),
            )
    on_deploy_failure = table.get("on_deploy_failure", True)
    if not isinstance(on_deploy_failure, bool):
        problems.add(
            fields.at("on_deploy_failure"),
            f"must be true or false, got {describe(on_deploy_failure)}",
        )
        on_deploy_failure = True
    spec = NotifySpec(
        command=command,
        webhook=webhook,
        retries=retries,
        on_failure=tuple(dict.fromkeys(on_failure)),
        on_deploy_failure=on_deploy_failure,
    )
    if timeout is not None:
        spec = spec.model_copy(update={"timeout": timeout})
    return {"notify": spec}


def _command(fields: Fields) -> tuple[str, ...]:
    """An argv: an array of strings, or a string split as a shell would split it (no shell
    ever runs it, so nothing in a notification can become a command)."""
    if "command" not in fields.table:
        return ()
    raw = fields.table["command"]
    where = fields.at("command")
    if isinstance(raw, str):
        try:
            argv = shlex.split(raw)
        except ValueError as error:
            fields.problems.add(where, f"cannot split {quoted(raw)} into words: {error}")
            return ()
    elif isinstance(raw, list):
        argv = fields.string_list("command")
    else:
        fields.problems.add(where, f"must be a string or an array of strings, got {describe(raw)}")
        return ()
    if not argv or not argv[0].strip():
        fields.problems.add(where, "must name a program to run")
        return ()
    if any("\0" in word for word in argv):
        fields.problems.add(where, "must not contain a NUL character (\\0)")
        return ()
    return tuple(argv)


def _webhook(fields: Fields) -> str | None:
    url = fields.optional_string("webhook")
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        fields.problems.add(
            fields.at("webhook"), "must be an http:// or https:// URL with a host name"
        )
        return None
    return url
