"""`shipdeck serve`: run the workspace's runner as an HTTP service (or stop the daemon)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import ssl
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from shipdeck import startup
from shipdeck.cli.arguments import Subcommands, add_command
from shipdeck.cli.context import CliContext
from shipdeck.config import check_private_file, read_token_file
from shipdeck.errors import InvalidInput, Refused

if TYPE_CHECKING:
    from shipdeck.model import WorkspaceSpec
    from shipdeck.runners.local import LocalRunner
    from shipdeck.server.daemon_lock import DaemonLock
    from shipdeck.server.idle import IdleExit
    from shipdeck.server.launch import Tls
    from shipdeck.server.listen import Listen

IDLE_EXIT_ENV = "SHIPDECK_IDLE_EXIT"
"""Seconds the workspace daemon lingers with nothing to do (0: forever); see docs/server.md."""
IDLE_EXIT_DEFAULT = 900.0
LOCK_PATIENCE = 30.0
"""Seconds a daemon waits for one that is stopping to let go of the workspace."""


def register(sub: Subcommands) -> None:
    p = add_command(sub, "serve", serve_command)
    p.add_argument("--listen", metavar="unix:PATH|HOST:PORT", help="where to listen")
    p.add_argument("--token-file", metavar="F", help="bearer token clients must send (mode 0600)")
    p.add_argument("--tls-cert", metavar="F", help="TLS certificate (PEM)")
    p.add_argument("--tls-key", metavar="F", help="TLS private key (PEM)")
    p.add_argument(
        "--insecure", action="store_true", help="allow TCP without a token (loopback only)"
    )
    p.add_argument("--read-only", action="store_true", help="refuse every action")
    p.add_argument(
        "--stop",
        action="store_true",
        help="stop the workspace daemon and exit (refused while it has runs in progress)",
    )
    p.add_argument(
        "--force", action="store_true", help="with --stop: stop it anyway, cancelling its runs"
    )
    p.add_argument(
        "--openapi", action="store_true", help="print the API's OpenAPI schema (JSON) and exit"
    )
    p.add_argument(
        "--idle-exit",
        type=float,
        metavar="SECONDS",
        help=(
            "exit after this long with no client connected and nothing running (0: never; "
            f"default: never, or ${IDLE_EXIT_ENV} else {IDLE_EXIT_DEFAULT:g} for the daemon "
            "clients start)"
        ),
    )
    p.add_argument("--daemon", action="store_true", help=argparse.SUPPRESS)
    # Collection stays paused (shipdeck.startup) until the server is up: a faster daemon start.
    p.set_defaults(resumes_collection=True)


def _tls(args: argparse.Namespace) -> Tls | None:
    from shipdeck.server.launch import Tls

    if not args.tls_cert and not args.tls_key:
        return None
    if not (args.tls_cert and args.tls_key):
        raise InvalidInput("--tls-cert and --tls-key go together")
    tls = Tls(cert=Path(args.tls_cert), key=Path(args.tls_key))
    check_private_file(tls.key, "TLS key file")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(tls.cert, tls.key)
    except (OSError, ssl.SSLError) as error:
        raise InvalidInput(f"cannot use --tls-cert/--tls-key: {error}") from None
    return tls


def idle_exit_seconds(given: float | None, daemon: bool) -> float:
    """The idle timeout: `--idle-exit`, else (for the daemon) $SHIPDECK_IDLE_EXIT or 15 min."""
    if given is None and daemon:
        text = os.environ.get(IDLE_EXIT_ENV, "").strip()
        if not text:
            return IDLE_EXIT_DEFAULT
        try:
            given = float(text)
        except ValueError:
            raise InvalidInput(
                f"${IDLE_EXIT_ENV} must be a number of seconds, got {text!r}"
            ) from None
        source = f"${IDLE_EXIT_ENV}"
    else:
        source = "--idle-exit"
    seconds = given or 0.0
    if not 0 <= seconds < float("inf"):
        raise InvalidInput(f"{source} must be 0 (never) or a number of seconds, got {seconds:g}")
    return seconds


def _idle_exit(seconds: float, runner: LocalRunner) -> IdleExit | None:
    if not seconds:
        return None
    from shipdeck.server.idle import IdleExit

    # A runner with schedules to fire stays up: exiting would leave them unfired.
    return IdleExit(
        seconds, lambda: runner.engine.busy or runner.deployer.busy or runner.scheduling
    )


def _releaser(
    listen: Listen, bound: os.stat_result | None, workspace: WorkspaceSpec | None
) -> Callable[[], None]:
    """Removes what this server put in place: its socket (unless another server has replaced
    it since) and, for the workspace daemon, its pid file. Safe to call more than once."""
    from shipdeck.runners import daemon
    from shipdeck.server.listen import remove_socket

    def release() -> None:
        if listen.path is not None and bound is not None:
            with contextlib.suppress(OSError):
                if listen.path.stat().st_ino == bound.st_ino:
                    remove_socket(listen.path)
        if workspace is not None:
            pid_file = daemon.pid_path(workspace)
            with contextlib.suppress(OSError):
                if pid_file.read_text().strip() == str(os.getpid()):
                    pid_file.unlink()

    return release


async def _stop(ctx: CliContext, workspace: WorkspaceSpec, *, force: bool) -> int:
    """Stop the workspace daemon; refused while it executes runs (they would end cancelled),
    unless `force`."""
    from shipdeck.runners import daemon

    answer = await daemon.probe(workspace)
    if answer is None:
        ctx.print(f"no runner is running for {workspace.root}")
        return 0
    active = await daemon.runs_in_progress(workspace, answer[0])
    listed = ", ".join(f"{run.label} {run.pipeline}" for run in active)
    if active and not force:
        raise Refused(
            f"runs in progress: {listed}; wait for them, cancel them (shipdeck cancel RUN), "
            "or pass --force to stop the runner and cancel them"
        )
    pid = await daemon.stop(workspace)
    if pid is None:
        ctx.print(f"no runner is running for {workspace.root}")
        return 0
    cancelled = f"; cancelled {listed}" if active else ""
    ctx.print(f"stopped runner for {workspace.root} (pid {pid}){cancelled}")
    return 0


def _setup_logging() -> None:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # uvicorn's own access log would print query strings; AccessLog replaces it.
    logging.getLogger("uvicorn.access").disabled = True


async def serve_command(args: argparse.Namespace, ctx: CliContext) -> int:
    """serve the workspace's runner over HTTP (a Unix socket by default)

    Run the workspace's pipelines in this process and serve the runner API. Without --listen it
    serves the workspace daemon socket .shipdeck/runner.sock.
    """
    if args.openapi:
        from shipdeck.server.openapi import openapi_text

        ctx.out.write(openapi_text())
        ctx.out.flush()
        return 0
    if args.stop:
        # The daemon holds the configuration: stopping it works whatever state the file is in.
        return await _stop(ctx, ctx.workspace_place(), force=args.force)
    if args.force:
        raise InvalidInput("--force goes with --stop")
    from shipdeck.runners import daemon

    workspace = ctx.workspace()

    # The server side is imported only by the command that serves: every other command (and
    # the TUI) builds this parser, and must not pay for it.
    from shipdeck.server.listen import (
        Listen,
        bind,
        bound_url,
        check_policy,
        parse_listen,
    )

    listen = (
        parse_listen(args.listen) if args.listen else Listen(path=daemon.socket_path(workspace))
    )
    tls = _tls(args)
    if tls is not None and listen.is_unix:
        raise InvalidInput("TLS applies to TCP listeners; a Unix socket is protected by its mode")
    token = None
    if args.token_file:
        from shipdeck.server.auth import check_token

        token = read_token_file(Path(args.token_file))
        check_token(token, Path(args.token_file))
    check_policy(listen, token, args.insecure)
    idle_seconds = idle_exit_seconds(args.idle_exit, args.daemon)
    workspace_socket = listen.path == daemon.socket_path(workspace)

    from shipdeck.engine.automation.retention_schedule import RetentionSchedule
    from shipdeck.runners.local import open_local_runner
    from shipdeck.server.app import create_app
    from shipdeck.server.launch import start_server

    _setup_logging()
    lock = None
    if workspace_socket:
        lock = await _lock_workspace(workspace, quiet=args.daemon)
        if lock is None:
            return 0
    try:
        sock = bind(listen)
        bound = listen.path.stat() if listen.path is not None else None
        release = _releaser(listen, bound, workspace if workspace_socket else None)
        runner = await open_local_runner(workspace)
        retention = RetentionSchedule(
            workspace.state_dir, lambda: runner.engine.workspace.retention
        )
        try:
            if not args.read_only:  # a read-only runner starts nothing, schedules included
                runner.start_scheduling().start()
            app = create_app(runner, token=token, read_only=args.read_only)
            url = bound_url(listen, sock, tls is not None)
            idle = _idle_exit(idle_seconds, runner)
            if workspace_socket:  # before the first answer: a client that got one finds it
                daemon.pid_path(workspace).write_text(f"{os.getpid()}\n")
            server = await start_server(
                app,
                sock,
                url,
                tls=tls,
                signals=True,
                idle=idle,
                unlisten=release,
                socket_file=listen.path,
            )
            startup.resume()
            print(
                f"serving {workspace.root} on {url} (pid {os.getpid()})",
                file=sys.stderr,
                flush=True,
            )
            retention.start()
            await server.wait()
        finally:
            # A stop or an idle exit released the socket already: a client arriving since
            # then has started a new daemon, which waits for the lock.
            release()
            await retention.stop()
            await runner.close()
    finally:
        if lock is not None:
            lock.release()  # last: the next daemon may bind and open the runs now
    return 0


async def _lock_workspace(workspace: WorkspaceSpec, *, quiet: bool) -> DaemonLock | None:
    """The workspace daemon's lock (held until this process is done with the workspace), or
    None, for a daemon started `quiet`ly, when another one serves: its clients use that one.
    One that is stopping is waited for."""
    from shipdeck.runners import daemon
    from shipdeck.server.daemon_lock import DaemonLock, DaemonServing

    try:
        return await DaemonLock.acquire(
            daemon.lock_path(workspace), daemon.socket_path(workspace), patience=LOCK_PATIENCE
        )
    except DaemonServing as serving:
        if not quiet:
            raise
        pid = serving.pid if serving.pid is not None else "?"
        logging.getLogger("shipdeck.server").info(
            "a runner already serves %s (pid %s); exiting", workspace.root, pid
        )
        return None
