"""Pipeline parameters: `-p KEY=VALUE` arguments overlaid on the defaults in the workspace file."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from shipdeck.errors import InvalidInput
from shipdeck.model import ParamValue, PipelineSpec
from shipdeck.model.text import text_problem
from shipdeck.workspace.problems import did_you_mean

PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
"""Param names are identifiers, so tasks can receive them as environment variables."""

_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})


def parse_param_args(items: list[str]) -> dict[str, str]:
    """`["lr=0.1", "name=a=b"]` -> `{"lr": "0.1", "name": "a=b"}`; a repeated key's last wins."""
    params: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InvalidInput(f"bad -p {item!r}: expected KEY=VALUE")
        params[key] = value
    return params


def resolve_params(
    pipeline: PipelineSpec, overrides: Mapping[str, str | ParamValue]
) -> dict[str, ParamValue]:
    """The pipeline's defaults with `overrides` applied, each coerced to its default's type.

    Overrides are text from `-p`, or JSON values from an API client; both go through the same
    text coercion, so `true` is not accepted where an integer is expected.
    """
    resolved: dict[str, ParamValue] = dict(pipeline.params)
    for key, given in overrides.items():
        if key not in pipeline.params:
            raise InvalidInput(_unknown_param(pipeline, key))
        resolved[key] = coerce_param(pipeline.name, key, given, pipeline.params[key])
    return resolved


def coerce_param(
    pipeline: str, key: str, given: str | ParamValue, default: ParamValue
) -> ParamValue:
    """`given` converted to the type of `default`; InvalidInput names what was expected.

    Every way of starting a run passes through here (the CLI's -p, the API, the TUI's form),
    so this is where text that cannot be stored or handed to a task is refused."""
    text = _as_text(given)
    if (problem := text_problem(text)) is not None:
        raise InvalidInput(f"pipeline {pipeline!r} param {key!r}: value refused: {problem}")
    value = _coerce(text, default)
    if value is None:
        raise InvalidInput(
            f"pipeline {pipeline!r} param {key!r} expects {_expected(default)}, got {text!r}"
        )
    return value


def _as_text(given: str | ParamValue) -> str:
    if isinstance(given, bool):
        return "true" if given else "false"
    return given if isinstance(given, str) else repr(given)


def _coerce(text: str, default: ParamValue) -> ParamValue | None:
    stripped = text.strip()
    if isinstance(default, bool):
        lowered = stripped.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        return None
    if isinstance(default, int):
        try:
            return int(stripped)
        except ValueError:
            return None
    if isinstance(default, float):
        try:
            number = float(stripped)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return text


def _expected(default: ParamValue) -> str:
    if isinstance(default, bool):
        return "a boolean (true/false, yes/no, 1/0)"
    if isinstance(default, int):
        return "an integer"
    if isinstance(default, float):
        return "a number"
    return "a string"


def _unknown_param(pipeline: PipelineSpec, key: str) -> str:
    message = f"pipeline {pipeline.name!r} has no param {key!r}"
    if not pipeline.params:
        return f"{message}; it takes no params"
    names = sorted(pipeline.params)
    return f"{message}{did_you_mean(key, names)}; params: {', '.join(names)}"
