"""`shipdeck serve` and `shipdeck runner ...` as real processes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from shipdeck.cli.main import main
from shipdeck.model import WorkspaceSpec
from shipdeck.runners.remote import RemoteRunner

TOKEN = "cli-test-token-0123456789"


async def shipdeck(
    root: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "shipdeck", "-C", str(root), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


class Served:
    def __init__(self, process: asyncio.subprocess.Process, url: str, output: list[str]) -> None:
        self.process = process
        self.url = url
        self.output = output


@contextlib.asynccontextmanager
async def serve(root: Path, *args: str) -> AsyncIterator[Served]:
    """`shipdeck serve ARGS` until it says where it listens; stopped with SIGTERM after."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "shipdeck", "-C", str(root), "serve", *args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    output: list[str] = []
    url = ""
    while not url:
        line = (await asyncio.wait_for(process.stderr.readline(), 30)).decode()
        assert line, f"serve exited: {''.join(output)}"
        output.append(line)
        if line.startswith("serving "):
            url = line.split(" on ", 1)[1].split(" (pid")[0]

    async def drain() -> None:
        assert process.stderr is not None
        while line := await process.stderr.readline():
            output.append(line.decode())

    drainer = asyncio.create_task(drain())
    try:
        yield Served(process, url, output)
    finally:
        if process.returncode is None:
            process.terminate()
        assert await asyncio.wait_for(process.wait(), 20) == 0
        await drainer


def private_token(tmp_path: Path, mode: int = 0o600) -> Path:
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    path.chmod(mode)
    return path


async def test_tcp_serve_with_token_and_runner_ls_add_rm(
    workspace: WorkspaceSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = private_token(tmp_path)
    config = tmp_path / "config.toml"
    monkeypatch.setenv("SHIPDECK_CONFIG", str(config))
    root = workspace.root
    async with serve(root, "--listen", "127.0.0.1:0", "--token-file", str(token)) as served:
        added = await shipdeck(
            root, "runner", "add", "build", served.url, "--token-file", str(token)
        )
        assert added.returncode == 0, added.stderr
        assert added.stdout.strip() == f"added runner build ({served.url}) to {config}"
        await shipdeck(root, "runner", "add", "gone", "http://127.0.0.1:9", "--read-only")

        listed = await shipdeck(root, "runner", "ls", "--json")
        assert listed.returncode == 0, listed.stderr
        rows = {row["name"]: row for row in json.loads(listed.stdout)["runners"]}
        assert rows["build"]["reachable"] and rows["build"]["version"] == "0.1.0"
        assert rows["build"]["latency_ms"] > 0
        assert not rows["gone"]["reachable"] and rows["gone"]["read_only"]
        assert "unreachable" in rows["gone"]["error"]

        table = (await shipdeck(root, "runner", "ls")).stdout.splitlines()
        assert table[0].split() == ["NAME", "URL", "VERSION", "LATENCY", "MODE", "STATUS"]
        assert table[1].split()[:3] == ["build", served.url, "0.1.0"]
        assert table[1].split()[-1] == "up"

        # A client by name runs pipelines there, with the token from the file.
        client = RemoteRunner(served.url, token=TOKEN)
        try:
            run = await client.start_run("build")
            assert (await client.wait_run(run.id)).status.value == "succeeded"
        finally:
            await client.close()

        async with httpx.AsyncClient(base_url=served.url) as raw:
            assert (await raw.get("/v1/runs", params={"token": TOKEN})).status_code == 401
            assert (
                await raw.get("/v1/runs", headers={"Authorization": "Bearer x"})
            ).status_code == 401

        removed = await shipdeck(root, "runner", "rm", "gone")
        assert removed.stdout.strip() == f"removed runner gone from {config}"
        missing = await shipdeck(root, "runner", "rm", "gone")
        assert missing.returncode == 2
        assert missing.stderr.startswith("shipdeck: error: no runner named 'gone'")
    log = "".join(served.output)
    assert "GET /v1/runs 401" in log and "POST /v1/runs 201" in log
    assert TOKEN not in log


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--listen", "127.0.0.1:0"], 1, "listening on 127.0.0.1:0 needs --token-file"),
        (["--listen", "0.0.0.0:0", "--insecure"], 1, "--insecure is only allowed on a loopback"),
        (["--listen", "nowhere"], 2, "--listen expects unix:PATH or HOST:PORT, got 'nowhere'"),
        (["--listen", "127.0.0.1:0", "--token-file", "/nonexistent"], 2, "does not exist"),
        (["--listen", "127.0.0.1:0", "--tls-cert", "c.pem"], 2, "go together"),
    ],
)
def test_serve_refuses_unsafe_or_bad_setups_in_one_line(
    workspace: WorkspaceSpec,
    args: list[str],
    code: int,
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["-C", str(workspace.root), "serve", *args]) == code
    stderr = capsys.readouterr().err
    assert stderr.startswith("shipdeck: error: ")
    assert message in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert not (workspace.state_dir / "runner.sock").exists()


def test_token_file_readable_by_others_refuses_to_start(
    workspace: WorkspaceSpec, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = private_token(tmp_path, 0o644)
    args = ["-C", str(workspace.root), "serve", "--listen", "127.0.0.1:0"]
    assert main([*args, "--token-file", str(token)]) == 1
    assert capsys.readouterr().err == (
        f"shipdeck: error: token file {token} is accessible by others (mode 0644); "
        f"run: chmod 600 {token}\n"
    )


@pytest.mark.parametrize("token", ["x", "a" * 15])
def test_a_token_too_short_to_keep_strangers_out_refuses_to_start(
    workspace: WorkspaceSpec, tmp_path: Path, capsys: pytest.CaptureFixture[str], token: str
) -> None:
    path = tmp_path / "token"
    path.write_text(token + "\n")
    path.chmod(0o600)
    args = ["-C", str(workspace.root), "serve", "--listen", "127.0.0.1:0"]
    assert main([*args, "--token-file", str(path)]) == 1
    assert capsys.readouterr().err == (
        f"shipdeck: error: token file {path} holds a {len(token)}-character token; a bearer "
        f"token needs at least 16 (make one: openssl rand -hex 32 > {path})\n"
    )


def test_a_tls_key_readable_by_others_refuses_to_start(
    workspace: WorkspaceSpec, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text("not checked: the key's mode is refused first\n")
    key.write_text("-----BEGIN PRIVATE KEY-----\n")
    key.chmod(0o644)
    token = private_token(tmp_path)
    args = ["-C", str(workspace.root), "serve", "--listen", "127.0.0.1:0"]
    tls = ["--token-file", str(token), "--tls-cert", str(cert), "--tls-key", str(key)]
    assert main([*args, *tls]) == 1
    assert capsys.readouterr().err == (
        f"shipdeck: error: TLS key file {key} is accessible by others (mode 0644); "
        f"run: chmod 600 {key}\n"
    )


async def test_insecure_loopback_serves_without_token(workspace: WorkspaceSpec) -> None:
    async with serve(workspace.root, "--listen", "127.0.0.1:0", "--insecure") as served:
        client = RemoteRunner(served.url)
        try:
            assert (await client.pipelines())[0].name == "build"
        finally:
            await client.close()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
async def test_tls_listener(workspace: WorkspaceSpec, tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    made = await asyncio.to_thread(
        subprocess.run,
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        capture_output=True,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    token = private_token(tmp_path)
    args = ["--listen", "127.0.0.1:0", "--token-file", str(token)]
    async with serve(workspace.root, *args, "--tls-cert", str(cert), "--tls-key", str(key)) as s:
        assert s.url.startswith("https://127.0.0.1:")
        context = ssl.create_default_context(cafile=str(cert))
        client = RemoteRunner(s.url, token=TOKEN, verify=context)
        try:
            assert (await client.info()).version == "0.1.0"
        finally:
            await client.close()
