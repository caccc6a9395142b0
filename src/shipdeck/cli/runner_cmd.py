"""`shipdeck runner status|ls|add|rm`: the workspace daemon and the configured runners."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from shipdeck.cli.arguments import Subcommands, add_command, add_json_option
from shipdeck.cli.context import CliContext
from shipdeck.cli.output import dump_json, table
from shipdeck.config import (
    RUNNER_KINDS,
    MlflowEntry,
    PrefectEntry,
    RunnerEntry,
    add_runner,
    entry_from_table,
    load_runners,
    remove_runner,
    runner_token,
)
from shipdeck.errors import InvalidInput, ShipdeckError, WorkspaceError

if TYPE_CHECKING:
    from shipdeck.runners.remote import RunnerInfo

PING_TIMEOUT = 3.0


def register(sub: Subcommands) -> None:
    p = sub.add_parser("runner", help="the workspace runner and configured remote runners")
    actions = p.add_subparsers(dest="runner_command", metavar="ACTION", required=True)

    add_json_option(add_command(actions, "status", status_command))
    add_json_option(add_command(actions, "ls", ls_command))

    s = add_command(actions, "add", add_runner_command)
    s.add_argument("name")
    s.add_argument("url", help="http(s)://HOST:PORT or unix:PATH")
    s.add_argument(
        "--kind",
        default="shipdeck",
        metavar="KIND",
        help=f"what the runner is (default shipdeck; kinds: {', '.join(sorted(RUNNER_KINDS))})",
    )
    token = s.add_mutually_exclusive_group()
    token.add_argument("--token-env", metavar="VAR", help="environment variable with the token")
    token.add_argument("--token-file", metavar="F", help="file (mode 0600) with the token")
    s.add_argument(
        "--username",
        metavar="USER",
        help="kind mlflow: HTTP basic auth as USER, the token being the password",
    )
    s.add_argument("--read-only", action="store_true", help="never offer actions on it")

    s = add_command(actions, "rm", rm_command)
    s.add_argument("name")


def _uptime(info: RunnerInfo) -> float:
    return max(0.0, time.time() - info.started_at.timestamp())


def _file_problems(ctx: CliContext) -> list[str]:
    """Why the workspace file does not load ([] when it does)."""
    try:
        ctx.workspace()
    except WorkspaceError as error:
        return error.problems
    return []


async def status_command(args: argparse.Namespace, ctx: CliContext) -> int:
    """is the workspace runner (daemon) running?"""
    from shipdeck.runners import daemon

    # Whatever state the file is in: the daemon holds the configuration it loaded.
    state = await daemon.status(ctx.workspace_place())
    problems = _file_problems(ctx)
    if args.json:
        data: dict[str, Any] = {
            "workspace": str(state.workspace),
            "socket": str(state.socket),
            "running": state.running,
            "info": state.info.model_dump(mode="json") if state.info else None,
            "latency_ms": round(state.latency * 1000, 2) if state.latency is not None else None,
            "file_problems": problems,
        }
        dump_json(data, ctx.out)
    elif state.info is not None and state.latency is not None:
        info = state.info
        ctx.print(
            f"runner for {state.workspace}: running (pid {info.pid}, shipdeck {info.version}, "
            f"up {_uptime(info):.0f}s, {state.latency * 1000:.1f} ms, {state.socket})"
        )
    else:
        note = f" (stale pid file: {state.pid_file})" if state.pid_file else ""
        ctx.print(f"runner for {state.workspace}: not running{note}")
    if problems and not args.json:
        kept = (
            "the runner keeps the configuration it loaded before and starts no run or deploy"
            if state.running
            else "the runner cannot start"
        )
        print(
            f"shipdeck: warning: the workspace file does not load ({kept} until it is fixed):",
            *problems,
            sep="\n",
            file=sys.stderr,
        )
    return 0 if state.running else 1


class _Api(Protocol):
    async def close(self) -> None: ...


_Client = TypeVar("_Client", bound=_Api)


async def _reach(
    row: dict[str, Any],
    make: Callable[[], _Client],
    ask: Callable[[_Client], Awaitable[dict[str, Any]]],
) -> dict[str, Any]:
    """The row of a runner: reachable, with what `ask` found out (its version, the latency),
    or not, with why."""
    try:
        client = make()
    except ShipdeckError as error:
        return {**row, "reachable": False, "error": str(error)}
    try:
        async with asyncio.timeout(PING_TIMEOUT + 1):
            found = await ask(client)
    except ShipdeckError as error:
        return {**row, "reachable": False, "error": str(error)}
    except TimeoutError:
        return {**row, "reachable": False, "error": "timed out"}
    finally:
        await client.close()
    return {**row, "reachable": True, **found}


def _timed_version(
    kind: str, ask_version: Callable[[_Client], Awaitable[str]]
) -> Callable[[_Client], Awaitable[dict[str, Any]]]:
    """What to ask a runner of another engine's kind: its version, timed."""

    async def ask(api: _Client) -> dict[str, Any]:
        started = time.perf_counter()
        version = await ask_version(api)
        latency = time.perf_counter() - started
        return {"version": f"{kind} {version}".strip(), "latency_ms": round(latency * 1000, 2)}

    return ask


async def _ping_mlflow(entry: RunnerEntry, row: dict[str, Any]) -> dict[str, Any]:
    from shipdeck.runners.mlflow.open import open_api

    return await _reach(
        row,
        lambda: open_api(entry, timeout=PING_TIMEOUT),
        _timed_version("mlflow", lambda api: api.server_version()),
    )


async def _ping_prefect(entry: RunnerEntry, row: dict[str, Any]) -> dict[str, Any]:
    from shipdeck.runners.prefect.api import PrefectApi

    basic = isinstance(entry, PrefectEntry) and entry.auth == "basic"
    return await _reach(
        row,
        lambda: PrefectApi(entry.url, name=entry.name, api_key=runner_token(entry), basic=basic),
        _timed_version("prefect", lambda api: api.version()),
    )


async def _ping(entry: RunnerEntry) -> dict[str, Any]:
    from shipdeck.runners.remote import RemoteRunner

    row: dict[str, Any] = {"name": entry.name, "url": entry.url, "read_only": entry.read_only}
    if isinstance(entry, MlflowEntry):
        return await _ping_mlflow(entry, row)
    if isinstance(entry, PrefectEntry):
        return await _ping_prefect(entry, row)

    async def ask(client: RemoteRunner) -> dict[str, Any]:
        info, latency = await client.ping()
        return {
            "version": info.version,
            "latency_ms": round(latency * 1000, 2),
            "read_only": entry.read_only or info.read_only,
        }

    return await _reach(
        row,
        lambda: RemoteRunner(
            entry.url, token=runner_token(entry), name=entry.name, timeout=PING_TIMEOUT
        ),
        ask,
    )


async def ls_command(args: argparse.Namespace, ctx: CliContext) -> int:
    """configured runners with reachability, version, latency"""
    entries = load_runners()
    rows = await asyncio.gather(*(_ping(entry) for entry in entries))
    if args.json:
        dump_json({"runners": list(rows)}, ctx.out)
        return 0
    if not rows:
        ctx.print("no runners configured; add one with: shipdeck runner add NAME URL")
        return 0
    cells = []
    for row in rows:
        if row["reachable"]:
            status, version, latency = "up", row["version"], f"{row['latency_ms']:.1f} ms"
        else:
            status, version, latency = f"down: {row['error']}", "-", "-"
        mode = "read-only" if row["read_only"] else "read-write"
        cells.append([row["name"], row["url"], version, latency, mode, status])
    ctx.print(table(["NAME", "URL", "VERSION", "LATENCY", "MODE", "STATUS"], cells))
    return 0


async def add_runner_command(args: argparse.Namespace, ctx: CliContext) -> int:
    """add a runner to the user config"""
    table = {
        "kind": args.kind,
        "name": args.name,
        "url": args.url,
        "token_env": args.token_env,
        "token_file": args.token_file,
        "username": args.username,
        "read_only": args.read_only,
    }
    try:
        entry = entry_from_table({key: value for key, value in table.items() if value is not None})
    except ValueError as error:
        raise InvalidInput(f"runner {args.name!r}: {error}") from None
    path = add_runner(entry)
    kind = "" if entry.kind == "shipdeck" else f", kind {entry.kind}"
    ctx.print(f"added runner {entry.name} ({entry.url}{kind}) to {path}")
    return 0


async def rm_command(args: argparse.Namespace, ctx: CliContext) -> int:
    """remove a runner from the user config"""
    path = remove_runner(args.name)
    ctx.print(f"removed runner {args.name} from {path}")
    return 0
