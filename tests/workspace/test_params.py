"""`-p KEY=VALUE` parsing and coercion to the types of a pipeline's param defaults."""

from __future__ import annotations

import pytest

from shipdeck.errors import InvalidInput
from shipdeck.model import PipelineSpec, TaskSpec
from shipdeck.workspace import parse_param_args, resolve_params

TRAIN = PipelineSpec(
    name="train",
    params={"lr": 0.1, "epochs": 30, "seed": 7, "flaky": False, "name": "x"},
    tasks={"fit": TaskSpec(name="fit", run="true")},
)


def test_parse_param_args() -> None:
    assert parse_param_args(["lr=0.5", "name=a=b", "empty=", " seed =3", "lr=0.7"]) == {
        "lr": "0.7",
        "name": "a=b",
        "empty": "",
        "seed": "3",
    }
    assert parse_param_args([]) == {}


@pytest.mark.parametrize("item", ["lr", "=5", " =5", ""])
def test_parse_param_args_rejects_bad_syntax(item: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_param_args(["ok=1", item])
    assert str(caught.value) == f"bad -p {item!r}: expected KEY=VALUE"


def test_defaults_without_overrides() -> None:
    assert resolve_params(TRAIN, {}) == TRAIN.params


def test_overrides_are_coerced_to_the_default_type() -> None:
    resolved = resolve_params(
        TRAIN, {"lr": "3", "epochs": "12", "flaky": "YES", "name": "churn v2", "seed": " -1 "}
    )
    assert resolved == {"lr": 3.0, "epochs": 12, "seed": -1, "flaky": True, "name": "churn v2"}
    assert type(resolved["lr"]) is float
    assert type(resolved["epochs"]) is int
    assert list(resolved) == list(TRAIN.params)


@pytest.mark.parametrize(
    ("text", "value"),
    [("true", True), ("1", True), ("yes", True), ("False", False), ("0", False), ("no", False)],
)
def test_booleans(text: str, value: bool) -> None:
    assert resolve_params(TRAIN, {"flaky": text})["flaky"] is value


def test_unknown_param_suggests_and_lists_params() -> None:
    with pytest.raises(InvalidInput) as caught:
        resolve_params(TRAIN, {"lrr": "0.2"})
    assert str(caught.value) == (
        "pipeline 'train' has no param 'lrr' (did you mean 'lr'?);"
        " params: epochs, flaky, lr, name, seed"
    )


def test_unknown_param_of_a_pipeline_without_params() -> None:
    plain = PipelineSpec(name="ci", tasks={"t": TaskSpec(name="t", run="true")})
    with pytest.raises(InvalidInput) as caught:
        resolve_params(plain, {"x": "1"})
    assert str(caught.value) == "pipeline 'ci' has no param 'x'; it takes no params"


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        ("epochs", "ten", "an integer"),
        ("epochs", "1.5", "an integer"),
        ("lr", "fast", "a number"),
        ("lr", "nan", "a number"),
        ("flaky", "maybe", "a boolean (true/false, yes/no, 1/0)"),
    ],
)
def test_uncoercible_values_name_param_value_and_type(key: str, text: str, expected: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        resolve_params(TRAIN, {key: text})
    assert str(caught.value) == f"pipeline 'train' param {key!r} expects {expected}, got {text!r}"


def test_json_values_from_api_clients_are_coerced_like_text() -> None:
    resolved = resolve_params(TRAIN, {"lr": 1, "epochs": 5, "flaky": True, "name": "y"})
    assert resolved == {"lr": 1.0, "epochs": 5, "seed": 7, "flaky": True, "name": "y"}
    assert type(resolved["lr"]) is float
    with pytest.raises(InvalidInput) as caught:
        resolve_params(TRAIN, {"epochs": True})
    assert str(caught.value) == "pipeline 'train' param 'epochs' expects an integer, got 'true'"
    with pytest.raises(InvalidInput):
        resolve_params(TRAIN, {"epochs": 2.5})


def test_resolving_does_not_change_the_pipeline() -> None:
    before = dict(TRAIN.params)
    resolve_params(TRAIN, {"lr": "0.9"})
    assert before == TRAIN.params


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ("a\udcff", "it is not valid UTF-8 (byte 0xff at character 2)"),
        ("\ud800x", "it holds a lone surrogate U+D800 at character 1, which is not text"),
        ("a\x00b", "it contains a NUL character"),
        ("é\x00", "it contains a NUL character"),
    ],
)
def test_values_that_are_not_text_are_refused_whatever_the_param_type(
    given: str, problem: str
) -> None:
    for key in ("name", "seed"):
        with pytest.raises(InvalidInput) as caught:
            resolve_params(TRAIN, {key: given})
        assert str(caught.value) == f"pipeline 'train' param {key!r}: value refused: {problem}"
    assert resolve_params(TRAIN, {"name": "é 😀 \t"})["name"] == "é 😀 \t"
