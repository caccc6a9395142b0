"""`shipdeck runner add NAME URL --kind prefect`: the entry is checked as a Prefect one and
written; `runner ls` pings the real server (its Prefect version) and says which is down."""

from __future__ import annotations

import json
import subprocess
import sys
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
