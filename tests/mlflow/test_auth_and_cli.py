"""Credentials against a real MLflow with its auth app (`mlflow server --app-name basic-auth`),
and `shipdeck runner add|ls` for kind mlflow, as real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipdeck.config import MlflowEntry, entry_from_table
from shipdeck.errors import Unauthorized
from shipdeck.runners.mlflow.open import open_api
from tests.mlflow.conftest import MlflowServer, start_mlflow

pytestmark = pytest.mark.timeout(300)
ADMIN_PASSWORD = "admin-pw-for-tests-only"


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    server = start_mlflow(
        tmp_path_factory.mktemp("mlflow-auth"),
        extra=("--app-name", "basic-auth"),
        environ={
            "MLFLOW_FLASK_SERVER_SECRET_KEY": "tests-only-secret",
            "MLFLOW_AUTH_ADMIN_PASSWORD": ADMIN_PASSWORD,
        },
    )
    try:
        yield server
    finally:
        server.stop()


def shipdeck(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shipdeck", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )


async def test_basic_auth_and_a_wrong_secret_is_one_line_401(
    auth_server: MlflowServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAB_PW", ADMIN_PASSWORD)
    entry = entry_from_table(
        {
            "kind": "mlflow",
            "name": "lab",
            "url": auth_server.url,
            "username": "admin",
            "token_env": "LAB_PW",
        }
    )
    api = open_api(entry)
    try:
        await api.health()
    finally:
        await api.close()

    monkeypatch.setenv("LAB_PW", "wrong")
    api = open_api(entry)
    try:
        with pytest.raises(Unauthorized) as refused:
            await api.health()
    finally:
        await api.close()
    message = str(refused.value)
    assert message.startswith("runner lab (mlflow) refused the credentials: You are not auth")
    assert "\n" not in message

    # A bearer token is not what this auth app takes: refused the same way.
    monkeypatch.setenv("LAB_TOKEN", "some-token")
    bearer = open_api(MlflowEntry(name="lab", url=auth_server.url, token_env="LAB_TOKEN"))
    try:
        with pytest.raises(Unauthorized, match=r"^runner lab \(mlflow\) refused the credentials"):
            await bearer.runs(["0"])
    finally:
        await bearer.close()


def test_runner_add_and_ls_for_kind_mlflow(
    auth_server: MlflowServer, mlflow_server: MlflowServer, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    env = {"SHIPDECK_CONFIG": str(config), "LAB_PW": ADMIN_PASSWORD, "BAD_PW": "nope"}
    added = shipdeck(
        "runner",
        "add",
        "lab",
        auth_server.url,
        "--kind",
        "mlflow",
        "--username",
        "admin",
        "--token-env",
        "LAB_PW",
        env=env,
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == f"added runner lab ({auth_server.url}, kind mlflow) to {config}"
    shipdeck(
        "runner",
        "add",
        "locked",
        auth_server.url,
        "--kind",
        "mlflow",
        "--username",
        "admin",
        "--token-env",
        "BAD_PW",
        env=env,
    )
    shipdeck("runner", "add", "open", mlflow_server.url, "--kind", "mlflow", "--read-only", env=env)
    text = config.read_text()
    assert 'kind = "mlflow"' in text and 'username = "admin"' in text and ADMIN_PASSWORD not in text

    listed = shipdeck("runner", "ls", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    rows = {row["name"]: row for row in json.loads(listed.stdout)["runners"]}
    assert rows["lab"]["reachable"] and rows["lab"]["version"].startswith("mlflow 3.")
    assert rows["open"]["reachable"] and rows["open"]["read_only"]
    assert not rows["locked"]["reachable"]
    assert rows["locked"]["error"].startswith("runner locked (mlflow) refused the credentials")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["unix:/tmp/x.sock", "--kind", "mlflow"],
            "runner URL must be http(s)://HOST[:PORT][/PATH], got 'unix:/tmp/x.sock'",
        ),
        (
            ["http://127.0.0.1:5000", "--username", "ana", "--token-env", "X"],
            "username: unknown option",
        ),
        (
            ["http://127.0.0.1:5000", "--kind", "mlflow", "--username", "ana"],
            "basic auth needs the password in token_env or token_file",
        ),
        (["http://127.0.0.1:5000", "--kind", "mlfow"], "unknown runner kind 'mlfow'"),
    ],
)
def test_runner_add_refuses_bad_options_in_one_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    config = tmp_path / "config.toml"
    done = shipdeck("runner", "add", "lab", *args, env={"SHIPDECK_CONFIG": str(config)})
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr
    assert not config.exists()
