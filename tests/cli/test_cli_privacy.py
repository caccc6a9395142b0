"""Against a real daemon: tasks never see the client's tokens, `.shipdeck/` is private to the
user whatever the umask, and artifacts never come from outside the workspace."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

WORKSPACE = """
[pipelines.show]
[pipelines.show.tasks.env]
run = "env | sort; echo '--- runner'; tr '\\\\0' '\\\\n' < /proc/$PPID/environ | sort"

[pipelines.build]
[pipelines.build.tasks.package]
run = "mkdir -p dist out; echo app > dist/app.txt; echo '{}' > out/model.json"
registers = { model = "churn", artifact = "out/model.json" }

[pipelines.leak]
[pipelines.leak.tasks.link]
run = "mkdir -p out; ln -sfn \\"$SECRET_FILE\\" out/model.json"
registers = { model = "churn", artifact = "out/model.json" }

[pipelines.leak_service]
[pipelines.leak_service.tasks.link]
run = "mkdir -p dist; ln -sfn \\"$SECRET_FILE\\" dist/app.txt"

[services.api]
pipeline = "build"
artifact = "dist/app.txt"
environments = ["dev"]
deploy = "true"

[services.web]
pipeline = "leak_service"
artifact = "dist/app.txt"
environments = ["dev"]
deploy = "true"
"""

TOKEN = "client-token-f00d"
NAMED_TOKEN = "named-runner-token-beef"


class Client:
    """`shipdeck -C root ...` under a given umask, with tokens in its environment; the daemon
    it starts inherits both."""

    def __init__(self, root: Path, config: Path, secret: Path) -> None:
        self.root = root
        self.env = {
            key: value for key, value in os.environ.items() if not key.startswith("SHIPDECK_")
        }
        self.env.update(
            SHIPDECK_TOKEN=TOKEN,
            SHIPDECK_CONFIG=str(config),
            BUILD1_TOKEN=NAMED_TOKEN,
            SECRET_FILE=str(secret),
            NO_COLOR="1",
        )

    def __call__(self, *args: str, umask: int = 0o022) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "shipdeck", "-C", str(self.root), *args]
        return subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=60,
            env=self.env,
            preexec_fn=lambda: os.umask(umask),
        )


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "shipdeck.toml").write_text(textwrap.dedent(WORKSPACE))
    config = tmp_path / "config.toml"
    config.write_text(
        '[[runners]]\nname = "build-1"\nurl = "http://127.0.0.1:9"\ntoken_env = "BUILD1_TOKEN"\n'
    )
    secret = tmp_path / "id_rsa"
    secret.write_text("-----BEGIN PRIVATE KEY----- outside the workspace\n")
    shipdeck = Client(root, config, secret)
    yield shipdeck
    shipdeck("serve", "--stop", "--force")


def test_tasks_and_the_daemon_never_hold_the_clients_tokens(client: Client) -> None:
    started = client("run", "show")
    assert started.returncode == 0, started.stderr
    assert "started runner for" in started.stderr  # a real daemon ran it, not this process
    log = client("logs", "last", "env")
    assert log.returncode == 0, log.stderr
    task_env, runner_env = log.stdout.split("--- runner")
    assert "PATH=" in task_env and "SECRET_FILE=" in task_env  # the rest is inherited
    assert "SHIPDECK_RUN_ID=" in task_env
    assert "SHIPDECK_CONFIG=" in runner_env  # the daemon keeps its own settings
    for secret in (TOKEN, NAMED_TOKEN):
        assert secret not in task_env
        assert secret not in runner_env  # /proc/<daemon>/environ: a task could read it


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077])
def test_state_is_private_to_the_user_whatever_the_umask(client: Client, umask: int) -> None:
    result = client("run", "build", umask=umask)
    assert result.returncode == 0, result.stderr
    state = client.root / ".shipdeck"
    assert _mode(state) == 0o700
    for name in ("logs", "artifacts", "owners"):
        assert _mode(state / name) == 0o700, name
    for run_dir in (state / "logs").iterdir():
        assert _mode(run_dir) == 0o700
    for name in ("shipdeck.db", "shipdeck.db-wal", "shipdeck.db-shm", "runner.log"):
        assert _mode(state / name) == 0o600, name
    artifacts = list((state / "artifacts").iterdir())
    assert len(artifacts) == 2  # the model and the service's build
    assert {_mode(path) for path in artifacts} == {0o400}


def test_a_symlink_out_of_the_workspace_is_never_stored(client: Client) -> None:
    leak = client("run", "leak")
    assert leak.returncode == 1
    shown = client("show", "last")
    assert "out/model.json resolves to" in shown.stdout
    assert "outside the workspace" in shown.stdout
    service = client("run", "leak_service")
    assert service.returncode == 1
    reason = client("show", "last").stdout
    assert "service web: artifact dist/app.txt resolves to" in reason
    assert "outside the workspace" in reason
    stored = client.root / ".shipdeck" / "artifacts"
    contents = [path.read_text() for path in stored.iterdir()]
    assert not any("PRIVATE KEY" in text for text in contents)
    assert "no models registered yet" in client("models").stdout
