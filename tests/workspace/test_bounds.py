"""What the engine cannot use is refused at load: unbounded retries and durations, a `cwd`
outside the workspace, NUL characters, metric names no task can report, a BOM; and the list
of problems itself stays readable, however broken or large the file."""

from __future__ import annotations

import codecs

import pytest

from shipdeck.errors import WorkspaceError
from shipdeck.workspace import load_workspace
from tests.workspace.conftest import Problems, WriteWorkspace

F = "shipdeck.toml"


def test_retries_are_bounded(problems: Problems) -> None:
    assert problems(
        """
        [pipelines.a.tasks.x]
        run = "exit 1"
        retries = 4047

        [pipelines.a.tasks.y]
        run = "exit 1"
        retries = 10
        """
    ) == [
        f"{F}:3: pipelines.a.tasks.x.retries: must be at most 10, got integer 4047"
        " (each retry runs the whole command again)"
    ]


@pytest.mark.parametrize(
    ("key", "written", "message"),
    [
        ("timeout", '"8d"', "must be at most 7d, got string '8d'"),
        ("timeout", "604801", "must be at most 7d, got integer 604801"),
        ("timeout", "1e20", "bad duration 1e+20: must be at most 365d"),
        (
            "timeout",
            "100000000000000000000",
            "bad duration 100000000000000000000: must be at most 365d",
        ),
        ("timeout", '"99999999999d"', "bad duration '99999999999d': must be at most 365d"),
        (
            "timeout",
            "9" * 400,
            "bad duration 9999999999999999999999999999999999999...: must be at most 365d",
        ),
        ("retry_delay", '"1d1s"', "must be at most 1d, got string '1d1s'"),
    ],
)
def test_durations_are_bounded(problems: Problems, key: str, written: str, message: str) -> None:
    assert problems(
        f"""
        [pipelines.a.tasks.x]
        run = "make"
        {key} = {written}
        """
    ) == [f"{F}:3: pipelines.a.tasks.x.{key}: {message}"]


def test_the_longest_durations_allowed(write_workspace: WriteWorkspace) -> None:
    workspace = load_workspace(
        write_workspace('[pipelines.a.tasks.x]\nrun = "make"\ntimeout = "7d"\nretry_delay = "1d"\n')
    )
    task = workspace.pipelines["a"].tasks["x"]
    assert (task.timeout, task.retry_delay) == (7 * 86400, 86400)


def test_service_timeouts_and_soak_gates_are_bounded(problems: Problems) -> None:
    assert problems(
        """
        [pipelines.a.tasks.x]
        run = "make"

        [services.web]
        pipeline = "a"
        artifact = "out.txt"
        environments = ["staging", "prod"]
        deploy = "sh deploy.sh"
        timeout = "30d"
        gates.prod = ["soak:staging 1000d"]
        """
    ) == [
        f"{F}:9: services.web.timeout: must be at most 7d, got string '30d'",
        f"{F}:10: services.web.gates.prod: bad gate 'soak:staging 1000d':"
        " bad duration '1000d': must be at most 365d",
    ]


@pytest.mark.parametrize(
    "cwd", ["..", "../elsewhere", "sub/../../elsewhere", "./../x", "a/b/../../.."]
)
def test_cwd_outside_the_workspace_is_refused(problems: Problems, cwd: str) -> None:
    assert problems(
        f"""
        [pipelines.a.tasks.x]
        run = "make"
        cwd = "{cwd}"
        """
    ) == [f"{F}:3: pipelines.a.tasks.x.cwd: must stay inside the workspace root, got {cwd!r}"]


def test_cwd_inside_the_workspace(write_workspace: WriteWorkspace) -> None:
    text = "".join(
        f'[pipelines.a.tasks.t{i}]\nrun = "make"\ncwd = "{cwd}"\n'
        for i, cwd in enumerate(["sub", "./sub", "sub/../other", ".", "a/..b", "..data"])
    )
    workspace = load_workspace(write_workspace(text))
    assert [t.cwd for t in workspace.pipelines["a"].tasks.values()] == [
        "sub",
        "./sub",
        "sub/../other",
        ".",
        "a/..b",
        "..data",
    ]


def test_nul_characters_are_refused_where_commands_and_environments_need_text(
    problems: Problems,
) -> None:
    assert problems(
        r"""
        [pipelines.a]
        params = { name = "a\u0000b", ok = "fine" }

        [pipelines.a.tasks.x]
        run = "echo \u0000 hidden"
        env = { A = "1\u0000", B = "2" }
        cwd = "sub\u0000dir"

        [services.web]
        pipeline = "a"
        artifact = "out.txt"
        environments = ["prod"]
        deploy = "sh deploy.sh\u0000"
        """
    ) == [
        f"{F}:2: pipelines.a.params.name: must not contain a NUL character (\\0)",
        f"{F}:5: pipelines.a.tasks.x.run: must not contain a NUL character (\\0)",
        f"{F}:6: pipelines.a.tasks.x.env.A: must not contain a NUL character (\\0)",
        f"{F}:7: pipelines.a.tasks.x.cwd: must not contain a NUL character (\\0)",
        f"{F}:13: services.web.deploy: must not contain a NUL character (\\0)",
    ]


def test_metric_names_are_names_a_task_can_report(
    problems: Problems, write_workspace: WriteWorkspace
) -> None:
    assert problems(
        """
        [metrics]
        "p95 ms" = "min"
        "9lives" = "max"
        auc = "max"
        """
    ) == [
        f"{F}:2: metrics.\"p95 ms\": metric names start with a letter or '_' and use only"
        " letters, digits, '_', '.', '-' and '/' (as tasks report them)",
        f"{F}:3: metrics.9lives: metric names start with a letter or '_' and use only"
        " letters, digits, '_', '.', '-' and '/' (as tasks report them)",
    ]
    workspace = load_workspace(
        write_workspace('[metrics]\n"eval/auc" = "max"\n"train_a.loss" = "min"\n_x-y = "min"\n')
    )
    assert list(workspace.metrics) == ["eval/auc", "train_a.loss", "_x-y"]


def test_long_names_are_refused(problems: Problems) -> None:
    long = "t" * 101
    assert problems(
        f"""
        [pipelines.a.tasks.{long}]
        run = "make"

        [pipelines.a.tasks.{"u" * 100}]
        run = "make"
        """
    ) == [
        f'{F}:1: pipelines.a.tasks."{"t" * 37}...": task name must be at most 100 characters,'
        " got 101"
    ]


def test_integer_params_fit_in_64_bits(problems: Problems) -> None:
    assert problems(
        f"""
        [pipelines.a]
        params = {{ big = {2**63}, small = {-(2**63)}, huge = 0x{"f" * 400} }}
        tasks.x.run = "make"
        """
    ) == [
        f"{F}:2: pipelines.a.params.big: must fit in 64 bits, got integer {2**63}",
        f"{F}:2: pipelines.a.params.huge: must fit in 64 bits, got integer {'9' * 37}...",
    ]


def test_a_byte_order_mark_is_named(write_workspace: WriteWorkspace) -> None:
    path = write_workspace("")
    path.write_bytes(codecs.BOM_UTF8 + b'[pipelines.a.tasks.x]\nrun = "make"\n')
    with pytest.raises(WorkspaceError) as caught:
        load_workspace(path)
    assert caught.value.problems == [
        f"{F}:1: invalid TOML: the file starts with a UTF-8 byte order mark (BOM);"
        " save it as UTF-8 without BOM"
    ]
    path.write_bytes('[pipelines.a.tasks.x]\nrun = "make"\n'.encode("utf-16"))
    with pytest.raises(WorkspaceError) as caught:
        load_workspace(path)
    assert caught.value.problems == [
        f"{F}:1: invalid TOML: the file is UTF-16 text; save it as UTF-8"
    ]


def test_each_distinct_problem_once(problems: Problems) -> None:
    assert problems(
        """
        [pipelines.a.tasks.b]
        run = "make"

        [pipelines.a.tasks.c]
        run = "make"
        needs = ["b", "b", "b", "b"]

        [pipelines.b.tasks.d]
        run = "make"

        [services.web]
        pipeline = "b"
        artifact = "out.txt"
        environments = ["dev", "dev", "dev"]
        deploy = "sh deploy.sh"
        """
    ) == [
        f"{F}:6: pipelines.a.tasks.c.needs: lists 'b' twice",
        f"{F}:14: services.web.environments: environment 'dev' is listed twice",
    ]


def test_at_most_twenty_problems_then_how_many_more(problems: Problems) -> None:
    text = "".join(f"[pipelines.a.tasks.t{i}]\nrun = {i}\n" for i in range(45))
    found = problems(text)
    assert len(found) == 21
    assert found[0] == f"{F}:2: pipelines.a.tasks.t0.run: must be a string, got integer 0"
    assert found[19] == f"{F}:40: pipelines.a.tasks.t19.run: must be a string, got integer 19"
    assert found[20] == f"{F}:42: and 25 more problems (the first on this line)"


def test_thousands_of_problems_are_counted_not_kept(problems: Problems) -> None:
    text = "[pipelines.a.tasks.x]\nrun = 'make'\nenv = {" + ", ".join(
        f"V{i} = {i}" for i in range(3_000)
    )
    found = problems(text + "}\n")
    assert len(found) == 21
    assert found[-1] == f"{F}:3: and 2,980 more problems (the first on this line)"


def test_every_bad_item_of_an_array_is_one_problem(problems: Problems) -> None:
    assert problems(
        """
        [pipelines.a.tasks.x]
        run = "make"
        needs = ["ok", 1, 2, 3]

        [pipelines.a.tasks.ok]
        run = "make"
        """
    ) == [
        f"{F}:3: pipelines.a.tasks.x.needs: item 2 must be a string, got integer 1"
        " (and 2 more that are not strings)"
    ]


FIVE_MB = 5_000_000
ESCAPE = '\\"'


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        # The memory these take is measured by bench/validate.py; here, what they print.
        (
            f'run = "{"a" * FIVE_MB}"\nretries = -1',
            "3: pipelines.a.tasks.x.retries: must be a non-negative integer, got integer -1",
        ),
        (
            f'run = "{ESCAPE * (FIVE_MB // 2)}"\nretries = -1',
            "3: pipelines.a.tasks.x.retries: must be a non-negative integer, got integer -1",
        ),
        (
            f"run = '''{'a' * FIVE_MB}'''\nretries = -1",
            "3: pipelines.a.tasks.x.retries: must be a non-negative integer, got integer -1",
        ),
        (
            f'run = "make"\nretries = "{"a" * FIVE_MB}"',
            "3: pipelines.a.tasks.x.retries: must be"
            f" a non-negative integer, got string '{'a' * 37}...'",
        ),
        (
            f'run = "make"\n{"k" * FIVE_MB} = 1',
            f'3: pipelines.a.tasks.x."{"k" * 37}...":'
            f" unknown key '{'k' * 37}...'; expected one of: cwd, env, inputs, needs, registers,"
            " retries, retry_delay, run, timeout",
        ),
        (
            f'run = "make"\nretries = {"9" * FIVE_MB}',
            "3: invalid TOML: a number with more than 4,300 digits",
        ),
        (
            f'run = "make"\nneeds = [{"1, " * (FIVE_MB // 30)}]',
            "3: pipelines.a.tasks.x.needs:"
            f" item 1 must be a string, got integer 1 (and {FIVE_MB // 30 - 1:,} more that are not"
            " strings)",
        ),
    ],
    ids=["string", "escapes", "literal", "bad-value", "long-key", "huge-number", "many-items"],
)
def test_a_five_megabyte_line_gives_short_problems(
    write_workspace: WriteWorkspace, line: str, problem: str
) -> None:
    path = write_workspace("")
    path.write_text(f"[pipelines.a.tasks.x]\n{line}\n", encoding="utf-8")
    with pytest.raises(WorkspaceError) as caught:
        load_workspace(path)
    assert caught.value.problems == [f"{F}:{problem}"]
