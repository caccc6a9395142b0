"""`shipdeck runner add NAME URL --kind prefect`: the entry is checked as a Prefect one and
written; `runner ls` pings the real server (its Prefect version) and says which is down."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shipdeck.config import PrefectEntry, load_runners
from tests.prefect.conftest import PrefectServer, free_port, start_prefect

pytestmark = pytest.mark.timeout(400)


def shipdeck(
    config: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shipdeck", "runner", *args],
        capture_output=True,
        text=True,
        cwd=config.parent,
        env={**(env or {}), "SHIPDECK_CONFIG": str(config), "PATH": "/usr/bin:/bin"},
        check=False,
        timeout=60,
    )


def test_runner_add_and_ls_a_prefect_server(prefect_server: PrefectServer, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    added = shipdeck(config, "add", "orchestra", prefect_server.url, "--kind", "prefect")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == (
        f"added runner orchestra ({prefect_server.url}, kind prefect) to {config}"
    )
    gone = f"http://127.0.0.1:{free_port()}/api"
    cloud = shipdeck(config, "add", "gone", gone, "--kind", "prefect", "--token-env", "PF_KEY")
    assert cloud.returncode == 0, cloud.stderr
    assert 'token_env = "PF_KEY"' in config.read_text()
    entries = load_runners(config)
    assert [type(entry) for entry in entries] == [PrefectEntry, PrefectEntry]

    listed = shipdeck(config, "ls", "--json", env={"PF_KEY": "pnu_secret"})
    assert listed.returncode == 0, listed.stderr
    rows = {row["name"]: row for row in json.loads(listed.stdout)["runners"]}
    assert rows["orchestra"]["reachable"]
    assert rows["orchestra"]["version"].startswith("prefect 3.")
    assert not rows["gone"]["reachable"]
    assert rows["gone"]["error"].startswith(f"runner gone (prefect) is unreachable at {gone}")
    assert "pnu_secret" not in listed.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["ftp://h/api"],
            "runner 'p': url: runner URL must be http(s)://HOST:PORT/api (the Prefect API"
            " root), got 'ftp://h/api'",
        ),
        (
            ["http://h:4200/api", "--token-env", "A", "--token-file", "f"],
            "not allowed with argument",
        ),
    ],
)
def test_runner_add_refuses_a_bad_prefect_entry(
    tmp_path: Path, args: list[str], message: str
) -> None:
    config = tmp_path / "config.toml"
    result = shipdeck(config, "add", "p", *args, "--kind", "prefect")
    assert result.returncode == 2
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert not config.exists()


def test_a_server_with_an_auth_string_takes_basic_auth(tmp_path: Path) -> None:
    """A self-hosted server started with PREFECT_SERVER_API_AUTH_STRING: `auth = "basic"`
    with the right secret is up; a wrong one, or a bearer key, is one line saying so."""
    server = start_prefect(
        tmp_path / "locked", extra_env={"PREFECT_SERVER_API_AUTH_STRING": "admin:s3cret"}
    )
    try:
        config = tmp_path / "config.toml"
        entries = [("right", "basic", "GOOD"), ("wrong", "basic", "BAD"), ("bearer", None, "GOOD")]
        text = ""
        for name, auth, var in entries:
            text += f'[[runners]]\nkind = "prefect"\nname = "{name}"\nurl = "{server.url}"\n'
            text += f'token_env = "{var}"\n' + (f'auth = "{auth}"\n' if auth else "") + "\n"
        config.write_text(text)
        listed = shipdeck(config, "ls", "--json", env={"GOOD": "admin:s3cret", "BAD": "admin:x"})
        assert listed.returncode == 0, listed.stderr
        rows = {row["name"]: row for row in json.loads(listed.stdout)["runners"]}
        assert rows["right"]["reachable"], rows["right"]
        for name in ("wrong", "bearer"):
            assert not rows[name]["reachable"]
            assert rows[name]["error"] == (
                f"runner {name} (prefect) refused the credentials: Unauthorized"
            )
        assert "s3cret" not in listed.stdout
    finally:
        server.stop()


@pytest.fixture
def orchestra(prefect_server: PrefectServer, tmp_path: Path) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[[runners]]\nkind = "prefect"\nname = "orchestra"\nurl = "{prefect_server.url}"\n'
        "poll_interval = 0.5\n"
    )
    return config


def cli(config: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """`shipdeck --runner orchestra ARGS` as a real process, NO_COLOR."""
    return subprocess.run(
        [sys.executable, "-m", "shipdeck", "--runner", "orchestra", *args],
        capture_output=True,
        text=True,
        cwd=config.parent,
        env={"SHIPDECK_CONFIG": str(config), "PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
        check=False,
        timeout=timeout,
    )


def one_line_error(result: subprocess.CompletedProcess[str], words: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert words in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr


def test_run_runs_show_logs_rerun_and_refusals(orchestra: Path) -> None:
    """`run FLOW/DEPLOYMENT -p K=V` checked against the schema, followed to its end; `runs`,
    `show` and `logs` read it back; `rerun` runs the whole flow again (the same flow run);
    a part rerun is one line, exit 2; a bad param one line, exit 2, nothing created."""
    before = json.loads(cli(orchestra, "runs", "--json").stdout or "[]")
    one_line_error(
        cli(orchestra, "run", "etl/nightly", "-p", "rows=abc"),
        "pipeline 'etl/nightly': param 'rows': expected an integer, got 'abc'",
    )
    one_line_error(cli(orchestra, "run", "etl/nightly", "-p", "bogus=1"), "no param 'bogus'")
    assert json.loads(cli(orchestra, "runs", "--json").stdout or "[]") == before

    ran = cli(orchestra, "run", "etl/nightly", "-p", "rows=4")
    assert ran.returncode == 0, ran.stderr
    first = ran.stdout.splitlines()[0]
    assert first.startswith("run ") and " etl/nightly started" in first
    label = first.split()[1]

    listed = cli(orchestra, "runs", "--pipeline", "etl/nightly", "--limit", "1")
    assert listed.returncode == 0, listed.stderr
    assert label in listed.stdout and "✓ succeeded" in listed.stdout

    shown = cli(orchestra, "show", label)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"run {label}  etl/nightly  ✓ succeeded")
    assert "rows=4" in shown.stdout and "extract-" in shown.stdout

    logs = cli(orchestra, "logs", label, "flow")
    assert logs.returncode == 0, logs.stderr
    extract = next(line.split()[0] for line in shown.stdout.splitlines() if "extract-" in line)
    task_log = cli(orchestra, "logs", label, extract)
    assert "extracting 4 rows" in task_log.stdout, task_log.stderr

    for refused in (["--failed"], ["--from", extract]):
        one_line_error(cli(orchestra, "rerun", label, *refused), "retries a flow run as a whole")
    again = cli(orchestra, "rerun", label)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(f"run {label} etl/nightly started: rerun (all) of {label}")
    shown = cli(orchestra, "show", "--json", label)
    assert json.loads(shown.stdout)["tasks"][0]["attempts"] == 2


def test_logs_follow_and_cancel(orchestra: Path, prefect_server: PrefectServer) -> None:
    """`logs -f` prints a running run's lines as they come and ends with it; `cancel`
    says cancelling, `show` then cancelled; cancelling it again is refused."""
    deployment = prefect_server.deployment_id("chatty/contract")
    run = prefect_server.call(
        "POST",
        f"deployments/{deployment}/create_flow_run",
        {"parameters": {"lines": 8, "delay": 0.5}},
    )
    # Prefect knows a task once it runs: follow it from then (a CLI that waits for a task
    # not run yet is not done).
    deadline = time.monotonic() + 120
    while not prefect_server.call(
        "POST", "task_runs/filter", {"flow_runs": {"id": {"any_": [run["id"]]}}}
    ):
        assert time.monotonic() < deadline, "the task never started"
        time.sleep(0.2)
    follow = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shipdeck",
            "--runner",
            "orchestra",
            "logs",
            "-f",
            run["name"],
            "talk",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=orchestra.parent,
        env={"SHIPDECK_CONFIG": str(orchestra), "PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
    )
    try:
        out, err = follow.communicate(timeout=180)
    finally:
        follow.kill()
    assert follow.returncode == 0, err
    assert [line for line in out.splitlines() if line.startswith("line ")] == [
        f"line {i}" for i in range(8)
    ]

    slow = prefect_server.call(
        "POST", f"deployments/{prefect_server.deployment_id('slow/contract')}/create_flow_run", {}
    )
    prefect_server.wait_run(slow["id"], final=False)
    cancelled = cli(orchestra, "cancel", slow["name"])
    assert cancelled.returncode == 0, cancelled.stderr
    assert cancelled.stdout.strip() == f"run {slow['name']} slow/contract: cancelling"
    assert prefect_server.wait_run(slow["id"]) == "CANCELLED"
    assert "⊘ cancelled" in cli(orchestra, "show", slow["name"]).stdout
    refused = cli(orchestra, "cancel", slow["name"])
    assert refused.returncode != 0 and "has already finished" in refused.stderr
    assert refused.stderr.count("\n") == 1
