"""A deployment's parameters checked and converted before a run is created: the schema is the
one the real server holds for tests/prefect/flows/etl.py, plus the types a flow may declare."""

from __future__ import annotations

from typing import Any

import pytest

from shipdeck.errors import InvalidInput
from shipdeck.runners.prefect.params import check_params, defaults
from tests.prefect.conftest import PrefectServer

pytestmark = pytest.mark.timeout(400)


def schema_of(server: PrefectServer) -> tuple[dict[str, Any], dict[str, Any]]:
    deployment = server.call("GET", "deployments/name/etl/nightly")
    return deployment["parameter_openapi_schema"], deployment["parameters"]


def test_defaults_in_the_flow_order(prefect_server: PrefectServer) -> None:
    schema, parameters = schema_of(prefect_server)
    assert list(defaults(schema, parameters).items()) == [
        ("rows", 10),
        ("slow", 0.0),
        ("flag", ""),
    ]


def test_text_becomes_the_type_the_flow_declares(prefect_server: PrefectServer) -> None:
    schema, parameters = schema_of(prefect_server)
    given = {"rows": "5", "slow": "0.5", "flag": "/tmp/x"}
    assert check_params("etl/nightly", schema, parameters, given) == {
        "rows": 5,
        "slow": 0.5,
        "flag": "/tmp/x",
    }
    # The default's own text is left to Prefect, which applies its exact value.
    assert check_params("etl/nightly", schema, parameters, {"rows": 10, "slow": "2"}) == {"slow": 2}


def test_wrong_params_are_one_line_naming_them(prefect_server: PrefectServer) -> None:
    schema, parameters = schema_of(prefect_server)
    with pytest.raises(InvalidInput) as wrong:
        check_params("etl/nightly", schema, parameters, {"rows": "abc"})
    assert str(wrong.value) == (
        "pipeline 'etl/nightly': param 'rows': expected an integer, got 'abc'"
    )
    with pytest.raises(InvalidInput) as unknown:
        check_params("etl/nightly", schema, parameters, {"rowz": "1"})
    assert str(unknown.value) == (
        "pipeline 'etl/nightly' has no param 'rowz' (did you mean 'rows'?); params: rows, slow,"
        " flag"
    )


SCHEMA = {
    "properties": {
        "when": {"type": "string", "position": 0},
        "flags": {"type": "array", "items": {"type": "string"}, "position": 1},
        "options": {"type": "object", "position": 2, "default": {"a": 1}},
        "dry": {"type": "boolean", "position": 3, "default": False},
        "limit": {"anyOf": [{"type": "integer"}, {"type": "null"}], "position": 4},
        "mode": {"enum": ["fast", "full"], "type": "string", "position": 5, "default": "fast"},
    },
    "required": ["when"],
}


def test_json_booleans_nulls_and_choices() -> None:
    assert defaults(SCHEMA, {}) == {
        "when": "",
        "flags": "",
        "options": '{"a":1}',
        "dry": False,
        "limit": "",
        "mode": "fast",
    }
    given = {"when": "today", "flags": '["a","b"]', "dry": "yes", "limit": "", "mode": "full"}
    assert check_params("f/d", SCHEMA, {}, given) == {
        "when": "today",
        "flags": ["a", "b"],
        "dry": True,
        "limit": None,
        "mode": "full",
    }
    with pytest.raises(InvalidInput, match=r"^pipeline 'f/d': param 'when' needs a value"):
        check_params("f/d", SCHEMA, {}, {"dry": "no"})
    with pytest.raises(
        InvalidInput, match=r"^pipeline 'f/d': param 'mode': must be one of fast, full$"
    ):
        check_params("f/d", SCHEMA, {}, {"when": "x", "mode": "slow"})
    with pytest.raises(InvalidInput, match=r"'flags': expected a JSON array, got 'a,b'$"):
        check_params("f/d", SCHEMA, {}, {"when": "x", "flags": "a,b"})
    with pytest.raises(InvalidInput, match=r"'dry': expected true or false, got 'maybe'$"):
        check_params("f/d", SCHEMA, {}, {"when": "x", "dry": "maybe"})
