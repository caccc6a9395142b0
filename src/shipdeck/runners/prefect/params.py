"""A deployment's parameters: the defaults a trigger form shows, and the values a person types
checked and converted against the deployment's OpenAPI schema before the run is created.

Prefect checks the parameters too (HTTP 422), but only after the request; checking here gives
one line naming the parameter and what it wants, and turns typed text (`rows=5`) into the
JSON value the flow expects (5). Values equal to the default's text are left out, so Prefect
applies the deployment's own default (its exact JSON, not our rendering of it).
"""

from __future__ import annotations

import json
from typing import Any

from shipdeck.errors import InvalidInput
from shipdeck.model.pipeline import ParamValue
from shipdeck.workspace.problems import did_you_mean

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def shown(value: Any) -> ParamValue:
    """A parameter value as shipdeck shows it: scalars as they are, anything else as JSON."""
    if isinstance(value, str | bool | int | float):
        return value
    if value is None:
        return ""
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def properties(schema: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    props = (schema or {}).get("properties") or {}
    return {name: spec for name, spec in props.items() if isinstance(spec, dict)}


def defaults(
    schema: dict[str, Any] | None, parameters: dict[str, Any], *, unset: bool = True
) -> dict[str, ParamValue]:
    """Every parameter of the schema (in its `position` order) with the deployment's value,
    else the flow's default, else (with `unset`) "" (a value the trigger form must fill)."""
    props = properties(schema)
    order = sorted(props, key=lambda name: (props[name].get("position", 1_000_000), name))
    found: dict[str, ParamValue] = {}
    for name in order:
        if name in parameters:
            found[name] = shown(parameters[name])
        elif props[name].get("default") is not None or unset:
            found[name] = shown(props[name].get("default"))
    for name, value in parameters.items():  # set on the deployment but not in the schema
        found.setdefault(name, shown(value))
    return found


def _types(spec: dict[str, Any]) -> list[str]:
    if isinstance(spec.get("type"), str):
        return [spec["type"]]
    if isinstance(spec.get("type"), list):
        return [str(t) for t in spec["type"]]
    types: list[str] = []
    for option in spec.get("anyOf") or spec.get("oneOf") or []:
        if isinstance(option, dict):
            types.extend(_types(option))
    return types


def _convert(text: str, types: list[str]) -> Any:
    """`text` as the first of `types` it reads as; ValueError naming what was wanted."""
    if not types:  # no type given ($ref to a model, Any): JSON if it reads as JSON
        try:
            return json.loads(text)
        except ValueError:
            return text
    for kind in types:
        try:
            return _as(text, kind)
        except ValueError:
            continue
    wanted = " or ".join(_NAMES.get(kind, kind) for kind in types)
    raise ValueError(f"expected {wanted}, got {text!r}")


_NAMES = {
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "string": "a string",
    "array": "a JSON array",
    "object": "a JSON object",
    "null": "null",
}


def _as(text: str, kind: str) -> Any:
    if kind == "string":
        return text
    if kind == "integer":
        return int(text.strip())
    if kind == "number":
        number = float(text.strip())
        return int(number) if number.is_integer() and "." not in text else number
    if kind == "boolean":
        word = text.strip().lower()
        if word in _TRUE | _FALSE:
            return word in _TRUE
        raise ValueError(kind)
    if kind == "null":
        if text.strip().lower() in ("", "null", "none"):
            return None
        raise ValueError(kind)
    value = json.loads(text)
    if (kind == "array" and not isinstance(value, list)) or (
        kind == "object" and not isinstance(value, dict)
    ):
        raise ValueError(kind)
    return value


def _check(value: Any, types: list[str]) -> Any:
    """A value given typed (not as text): kept if it is of one of `types`."""
    if not types:
        return value
    fits = {
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "array": isinstance(value, list),
        "object": isinstance(value, dict),
        "null": value is None,
    }
    if any(fits.get(kind, True) for kind in types):
        return value
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return _convert(str(value), types)
    raise ValueError(f"expected {' or '.join(_NAMES.get(k, k) for k in types)}, got {value!r}")


def check_params(
    pipeline: str,
    schema: dict[str, Any] | None,
    parameters: dict[str, Any],
    given: dict[str, Any],
) -> dict[str, Any]:
    """The JSON parameters for a new run of `pipeline` from what a person gave (text, or
    already typed values); InvalidInput naming the first parameter that is wrong."""
    props = properties(schema)
    current = defaults(schema, parameters)
    required = set((schema or {}).get("required") or [])
    out: dict[str, Any] = {}
    for name, raw in given.items():
        spec = props.get(name)
        if spec is None and name not in parameters:
            message = f"pipeline {pipeline!r} has no param {name!r}"
            if not current:
                raise InvalidInput(f"{message}; it takes no params")
            names = list(current)
            raise InvalidInput(f"{message}{did_you_mean(name, names)}; params: {', '.join(names)}")
        if name in current and raw == current[name] and current[name] != "":
            continue  # the default: Prefect applies the deployment's exact value
        types = _types(spec or {})
        enum = (spec or {}).get("enum")
        try:
            value = _convert(raw, types) if isinstance(raw, str) else _check(raw, types)
        except ValueError as error:
            raise InvalidInput(f"pipeline {pipeline!r}: param {name!r}: {error}") from None
        if isinstance(enum, list) and value not in enum:
            choices = ", ".join(str(choice) for choice in enum)
            raise InvalidInput(f"pipeline {pipeline!r}: param {name!r}: must be one of {choices}")
        out[name] = value
    for name in sorted(required):
        has_default = name in parameters or "default" in props.get(name, {})
        if name not in out and not has_default:
            raise InvalidInput(
                f"pipeline {pipeline!r}: param {name!r} needs a value (-p {name}=VALUE)"
            )
    return out
