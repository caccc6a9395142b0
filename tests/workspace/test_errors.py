"""Every validation error, as the exact `file:line: key: message` line a user sees."""

from __future__ import annotations

import pytest

from shipdeck.errors import WorkspaceError
from shipdeck.workspace import load_workspace
from tests.workspace.conftest import Problems, WriteWorkspace

F = "shipdeck.toml"


def test_invalid_toml_names_line_and_column(problems: Problems) -> None:
    assert problems(
        """
        [pipelines.a.tasks.x]
        run =
        """
    ) == [f"{F}:2: invalid TOML: invalid value (at column 6)"]


def test_unterminated_string_at_end_of_file(problems: Problems) -> None:
    assert problems(
        '''
        [pipelines.a.tasks.x]
        run = """python3
        x.py
        '''
    ) == [f"{F}:3: invalid TOML: unterminated string (at end of file)"]


def test_unclosed_table_header(problems: Problems) -> None:
    assert problems("[pipelines.a\n") == [
        f"{F}:1: invalid TOML: expected ']' at the end of a table declaration (at column 13)"
    ]


def test_not_utf8_names_the_line(write_workspace: WriteWorkspace) -> None:
    path = write_workspace("")
    path.write_bytes(b'[pipelines.a.tasks.x]\nrun = "caf\xe9"\n')
    with pytest.raises(WorkspaceError) as caught:
        load_workspace(path)
    assert caught.value.problems == [f"{F}:2: invalid TOML: not UTF-8 text (byte 0xe9)"]


def test_duplicate_table_names_the_first_definition(problems: Problems) -> None:
    assert problems(
        """
        [pipelines.a.tasks.build]
        run = "make"

        [pipelines.a.tasks.test]
        run = '''
        [pipelines.a.tasks.build]
        '''

        [pipelines.a.tasks.build]
        run = "make all"
        """
    ) == [f"{F}:9: pipelines.a.tasks.build: duplicate key (first defined on line 1)"]


def test_duplicate_key_in_a_table(problems: Problems) -> None:
    assert problems(
        """
        [pipelines.a.tasks.x]
        run = "one"
        retries = 1
        run = "two"
        """
    ) == [f"{F}:4: pipelines.a.tasks.x.run: duplicate key (first defined on line 2)"]


def test_duplicate_key_in_an_inline_table(problems: Problems) -> None:
    assert problems(
        """
        [pipelines.a.tasks.x]
        run = "one"
        env = { A = "1", A = "2" }
        """
    ) == [f"{F}:3: pipelines.a.tasks.x.env.A: duplicate key (twice on this line)"]


def test_inline_table_extended_later_is_a_duplicate(problems: Problems) -> None:
    assert problems(
        """
        [pipelines.a.tasks.x]
        run = "one"
        env = { A = "1" }
        env.B = "2"
        """
    ) == [f"{F}:4: pipelines.a.tasks.x.env: duplicate key (first defined on line 3)"]


def test_duplicate_dotted_key(problems: Problems) -> None:
    assert problems(
        """
        [pipelines.a]
        tasks.x.run = "one"
        tasks.x.run = "two"
        """
    ) == [f"{F}:3: pipelines.a.tasks.x.run: duplicate key (first defined on line 2)"]


def test_unknown_keys_at_every_level_with_suggestions(problems: Problems) -> None:
    assert problems(
        """
        pipeline = 1

        [pipelines.a]
        descripton = "typo"

        [pipelines.a.tasks.x]
        run = "make"
        retrys = 2
        colour = "red"
        registers = { model = "m", artefact = "a" }
        """
    ) == [
        f"{F}:1: pipeline: unknown key 'pipeline' (did you mean 'pipelines'?)",
        f"{F}:4: pipelines.a.descripton: unknown key 'descripton' (did you mean 'description'?)",
        f"{F}:8: pipelines.a.tasks.x.retrys: unknown key 'retrys' (did you mean 'retries'?)",
        f"{F}:9: pipelines.a.tasks.x.colour: unknown key 'colour'; expected one of: cwd, env,"
        " inputs, needs, registers, retries, retry_delay, run, timeout",
        f"{F}:10: pipelines.a.tasks.x.registers.artefact: unknown key 'artefact'"
        " (did you mean 'artifact'?)",
        f"{F}:10: pipelines.a.tasks.x.registers: missing required key 'artifact'",
    ]


def test_services_and_metrics_are_sections_now(problems: Problems) -> None:
    # Their full validation is tested in tests/engine/deploy/test_workspace_services.py.
    assert problems(
        """
        [pipelines.a.tasks.x]
        run = "make"

        [services.web]
        deploy = "x"

        [metrics]
        auc = "max"
        """
    ) == [
        f"{F}:4: services.web: set exactly one of 'pipeline' (deploy its runs) or 'model'",
        f"{F}:4: services.web: missing required key 'environments'",
    ]


def test_run_must_be_a_non_empty_string(problems: Problems) -> None:
    assert problems(
        """
        [pipelines.a.tasks.missing]
        timeout = "1s"

        [pipelines.a.tasks.blank]
        run = "   "

        [pipelines.a.tasks.number]
        run = 5

        [pipelines.a.tasks.array]
        run = ["make", "all"]
        """
    ) == [
        f"{F}:1: pipelines.a.tasks.missing: missing required key 'run'",
        f"{F}:5: pipelines.a.tasks.blank.run: must be a non-empty string",
        f"{F}:8: pipelines.a.tasks.number.run: must be a string, got integer 5",
        f"{F}:11: pipelines.a.tasks.array.run: must be a string, got an array",
    ]


def test_wrong_types_for_every_task_key(problems: Problems) -> None:
    assert problems(
        """
        [pipelines.a.tasks.x]
        run = "make"
        needs = "y"
        env = ["A=1"]
        cwd = 3
        timeout = true
        retries = 1.5
        retry_delay = [1]
        registers = "churn"

        [pipelines.a.tasks.y]
        run = "make"
        """
    ) == [
        f"{F}:3: pipelines.a.tasks.x.needs: must be an array of strings, got string 'y'",
        f"{F}:4: pipelines.a.tasks.x.env: must be a table, got an array",
        f"{F}:5: pipelines.a.tasks.x.cwd: must be a non-empty string, got integer 3",
        f"{F}:6: pipelines.a.tasks.x.timeout: must be a duration like '30s', got boolean true",
        f"{F}:7: pipelines.a.tasks.x.retries: must be a non-negative integer, got float 1.5",
        f"{F}:8: pipelines.a.tasks.x.retry_delay: must be a duration like '30s', got an array",
        f"{F}:9: pipelines.a.tasks.x.registers: must be a table, got string 'churn'",
    ]


@pytest.mark.parametrize(
    ("value", "got"),
    [
        ("0", "integer 0"),
        ("2.5", "float 2.5"),
        ('"2"', "string '2'"),
        ("9999999999999999999", "integer 9999999999999999999"),
    ],
)
def test_concurrency_is_a_positive_integer(problems: Problems, value: str, got: str) -> None:
    assert problems(
        f"""
        [pipelines.a]
        concurrency = {value}
        tasks.x.run = "make"
        """
    ) == [f"{F}:2: pipelines.a.concurrency: must be an integer from 1 to 10000, got {got}"]


def test_needs_items_env_values_and_names(problems: Problems) -> None:
    assert problems(
        """
        [pipelines.a.tasks.x]
        run = "make"
        needs = [
            "y",
            7,
        ]
        env = { PORT = 8080, DEBUG = true, "BAD NAME" = "x", OK = "fine" }
        retries = -1
        cwd = "/srv/app"

        [pipelines.a.tasks.y]
        run = "make"
        """
    ) == [
        f"{F}:5: pipelines.a.tasks.x.needs: item 2 must be a string, got integer 7",
        f'{F}:7: pipelines.a.tasks.x.env.PORT: must be a string (quote it: "8080"),'
        " got integer 8080",
        f'{F}:7: pipelines.a.tasks.x.env.DEBUG: must be a string (quote it: "true"),'
        " got boolean true",
        f'{F}:7: pipelines.a.tasks.x.env."BAD NAME": environment variable names use letters,'
        " digits and '_' only",
        f"{F}:8: pipelines.a.tasks.x.retries: must be a non-negative integer, got integer -1",
        f"{F}:9: pipelines.a.tasks.x.cwd: must be relative to the workspace root, got '/srv/app'",
    ]


@pytest.mark.parametrize(
    ("written", "message"),
    [
        (
            '"10 minutes"',
            "bad duration '10 minutes': expected a number of seconds or a duration like"
            " '500ms', '30s', '10m', '1h30m'",
        ),
        ('"30m1h"', "bad duration '30m1h': write units once each, largest first (like '1h30m')"),
        ("-5", "bad duration -5: must not be negative"),
        ("0", "must be longer than 0 seconds, got 0"),
        ('"0s"', "must be longer than 0 seconds, got '0s'"),
        ("inf", "bad duration inf: must be a finite number of seconds"),
    ],
)
def test_bad_timeouts(problems: Problems, written: str, message: str) -> None:
    assert problems(
        f"""
        [pipelines.a.tasks.x]
        run = "make"
        timeout = {written}
        """
    ) == [f"{F}:3: pipelines.a.tasks.x.timeout: {message}"]


def test_retry_delay_may_be_zero_but_not_negative(problems: Problems) -> None:
    assert problems(
        """
        [pipelines.a.tasks.x]
        run = "make"
        retry_delay = "0s"

        [pipelines.a.tasks.y]
        run = "make"
        retry_delay = -1.5
        """
    ) == [f"{F}:7: pipelines.a.tasks.y.retry_delay: bad duration -1.5: must not be negative"]


def test_registers_needs_model_and_artifact(problems: Problems) -> None:
    assert problems(
        """
        [pipelines.a.tasks.x]
        run = "make"

        [pipelines.a.tasks.x.registers]
        model = ""
        """
    ) == [
        f"{F}:4: pipelines.a.tasks.x.registers: missing required key 'artifact'",
        f"{F}:5: pipelines.a.tasks.x.registers.model: must be a non-empty string",
    ]


def test_unknown_need_suggests_the_closest_task(problems: Problems) -> None:
    assert problems(
        """
        [pipelines.a.tasks.build]
        run = "make"

        [pipelines.a.tasks.test]
        run = "make test"
        needs = ["biuld"]

        [pipelines.a.tasks.deploy]
        run = "make deploy"
        needs = ["test", "zzz"]
        """
    ) == [
        f"{F}:6: pipelines.a.tasks.test.needs: needs unknown task 'biuld' (did you mean 'build'?)",
        f"{F}:10: pipelines.a.tasks.deploy.needs: needs unknown task 'zzz'",
    ]


def test_task_needing_itself_and_needing_twice(problems: Problems) -> None:
    assert problems(
        """
        [pipelines.a.tasks.build]
        run = "make"
        needs = ["build"]

        [pipelines.a.tasks.test]
        run = "make test"
        needs = ["build", "build"]
        """
    ) == [
        f"{F}:3: pipelines.a.tasks.build.needs: task needs itself",
        f"{F}:7: pipelines.a.tasks.test.needs: lists 'build' twice",
    ]


def test_cycles_are_reported_with_their_path(problems: Problems) -> None:
    assert problems(
        """
        [pipelines.a.tasks.a]
        run = "true"
        needs = ["c"]

        [pipelines.a.tasks.b]
        run = "true"
        needs = ["a"]

        [pipelines.a.tasks.c]
        run = "true"
        needs = ["b"]

        [pipelines.a.tasks.ok]
        run = "true"
        needs = ["a"]

        [pipelines.a.tasks.x]
        run = "true"
        needs = ["y"]

        [pipelines.a.tasks.y]
        run = "true"
        needs = ["x"]
        """
    ) == [
        f"{F}:3: pipelines.a.tasks.a.needs: cycle: a -> c -> b -> a",
        f"{F}:19: pipelines.a.tasks.x.needs: cycle: x -> y -> x",
    ]


def test_pipeline_without_tasks(problems: Problems) -> None:
    assert problems(
        """
        [pipelines.empty]
        description = "nothing here"

        [pipelines.also_empty.tasks]
        """
    ) == [
        f"{F}:1: pipelines.empty: pipeline has no tasks (add [pipelines.empty.tasks.NAME])",
        f"{F}:4: pipelines.also_empty: pipeline has no tasks"
        " (add [pipelines.also_empty.tasks.NAME])",
    ]


def test_sections_of_the_wrong_type(problems: Problems) -> None:
    assert problems(
        """
        [pipelines]
        a = "make"
        b = { tasks = 3 }
        c = { tasks = { x = "make" } }
        """
    ) == [
        f"{F}:2: pipelines.a: must be a table, got string 'make'",
        f"{F}:3: pipelines.b.tasks: must be a table, got integer 3",
        f"{F}:4: pipelines.c.tasks.x: must be a table, got string 'make'",
    ]


def test_bad_names(problems: Problems) -> None:
    assert problems(
        """
        [pipelines."my pipeline".tasks."build it"]
        run = "make"
        """
    ) == [
        f'{F}:1: pipelines."my pipeline": pipeline name must start with a letter or digit'
        " and use only letters, digits, '-' and '_'",
        f'{F}:1: pipelines."my pipeline".tasks."build it": task name must start with a letter'
        " or digit and use only letters, digits, '-' and '_'",
    ]


def test_bad_params(problems: Problems) -> None:
    assert problems(
        """
        [pipelines.a]
        params = { lr = 0.1, layers = [1, 2], "2fast" = 1, when = 1979-05-27, big = nan }

        [pipelines.a.tasks.x]
        run = "make"

        [pipelines.b]
        params = "lr=0.1"

        [pipelines.b.tasks.x]
        run = "make"
        """
    ) == [
        f"{F}:2: pipelines.a.params.layers: must be a string, integer, float or boolean,"
        " got an array",
        f"{F}:2: pipelines.a.params.2fast: param names use letters, digits and '_'"
        " and do not start with a digit",
        f"{F}:2: pipelines.a.params.when: must be a string, integer, float or boolean,"
        " got date/time 1979-05-27",
        f"{F}:2: pipelines.a.params.big: must be a finite number, got float nan",
        f"{F}:8: pipelines.b.params: must be a table, got string 'lr=0.1'",
    ]


def test_all_problems_are_collected_in_line_order(problems: Problems) -> None:
    found = problems(
        """
        [pipelines.a.tasks.late]
        run = "true"
        needs = ["nope"]

        [pipelines.a]
        description = 1
        """
    )
    assert found == [
        f"{F}:3: pipelines.a.tasks.late.needs: needs unknown task 'nope'",
        f"{F}:6: pipelines.a.description: must be a string, got integer 1",
    ]


def test_params_that_differ_only_in_case(problems: Problems) -> None:
    assert problems(
        """
        [pipelines.a]
        params = { lr = 0.1, LR = 0.2 }

        [pipelines.a.tasks.x]
        run = "make"
        """
    ) == [
        f"{F}:2: pipelines.a.params.LR: same name as param 'lr' apart from case"
        " (tasks get both as $SHIPDECK_PARAM_LR)"
    ]


def test_env_names_reserved_for_shipdeck(problems: Problems) -> None:
    assert problems(
        """
        [pipelines.a.tasks.x]
        run = "make"
        env = { SHIPDECK_METRICS = "m.jsonl", shipdeck_x = "1", SHIPDECKER = "ok" }
        """
    ) == [
        f"{F}:3: pipelines.a.tasks.x.env.SHIPDECK_METRICS: names starting with SHIPDECK_"
        " are set by shipdeck itself",
        f"{F}:3: pipelines.a.tasks.x.env.shipdeck_x: names starting with SHIPDECK_"
        " are set by shipdeck itself",
    ]
