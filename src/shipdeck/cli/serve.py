"""`shipdeck serve`: run the workspace's runner as an HTTP service (or stop the daemon)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import ssl
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from shipdeck.cli.context import CliContext
from shipdeck.config import read_token_file
from shipdeck.errors import InvalidInput

if TYPE_CHECKING:
    from shipdeck.server.launch import Tls


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the workspace's runner over HTTP (a Unix socket by default)",
        description=(
            "Run the workspace's pipelines in this process and serve the runner API. "
            "Without --listen it serves the workspace daemon socket .shipdeck/runner.sock."
        ),
    )
    p.add_argument("--listen", metavar="unix:PATH|HOST:PORT", help="where to listen")
    p.add_argument("--token-file", metavar="F", help="bearer token clients must send (mode 0600)")
    p.add_argument("--tls-cert", metavar="F", help="TLS certificate (PEM)")
    p.add_argument("--tls-key", metavar="F", help="TLS private key (PEM)")
    p.add_argument(
        "--insecure", action="store_true", help="allow TCP without a token (loopback only)"
    )
    p.add_argument("--read-only", action="store_true", help="refuse every action")
    p.add_argument("--stop", action="store_true", help="stop the workspace daemon and exit")
    p.add_argument(
        "--openapi", action="store_true", help="print the API's OpenAPI schema (JSON) and exit"
    )
    p.add_argument("--daemon", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(handler=serve_command)


def _tls(args: argparse.Namespace) -> Tls | None:
    from shipdeck.server.launch import Tls

    if not args.tls_cert and not args.tls_key:
        return None
    if not (args.tls_cert and args.tls_key):
        raise InvalidInput("--tls-cert and --tls-key go together")
    tls = Tls(cert=Path(args.tls_cert), key=Path(args.tls_key))
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(tls.cert, tls.key)
    except (OSError, ssl.SSLError) as error:
        raise InvalidInput(f"cannot use --tls-cert/--tls-key: {error}") from None
    return tls


def _setup_logging() -> None:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # uvicorn's own access log would print query strings; AccessLog replaces it.
    logging.getLogger("uvicorn.access").disabled = True


async def serve_command(args: argparse.Namespace, ctx: CliContext) -> int:
    if args.openapi:
        from shipdeck.server.openapi import openapi_text

        ctx.out.write(openapi_text())
        ctx.out.flush()
        return 0
    from shipdeck.runners import daemon

    workspace = ctx.workspace()
    if args.stop:
        pid = await daemon.stop(workspace)
        if pid is None:
            ctx.print(f"no runner is running for {workspace.root}")
        else:
            ctx.print(f"stopped runner for {workspace.root} (pid {pid})")
        return 0

    # The server side is imported only by the command that serves: every other command (and
    # the TUI) builds this parser, and must not pay for it.
    from shipdeck.server.listen import (
        Listen,
        bind,
        bound_url,
        check_policy,
        parse_listen,
        remove_socket,
    )

    listen = (
        parse_listen(args.listen) if args.listen else Listen(path=daemon.socket_path(workspace))
    )
    tls = _tls(args)
    if tls is not None and listen.is_unix:
        raise InvalidInput("TLS applies to TCP listeners; a Unix socket is protected by its mode")
    token = read_token_file(Path(args.token_file)) if args.token_file else None
    check_policy(listen, token, args.insecure)
    workspace_socket = listen.path == daemon.socket_path(workspace)

    from shipdeck.runners.local import open_local_runner
    from shipdeck.server.app import create_app
    from shipdeck.server.launch import start_server

    _setup_logging()
    sock = bind(listen)
    bound = listen.path.stat() if listen.path is not None else None
    runner = await open_local_runner(workspace)
    try:
        app = create_app(runner, token=token, read_only=args.read_only)
        url = bound_url(listen, sock, tls is not None)
        server = await start_server(app, sock, url, tls=tls, signals=True)
        if workspace_socket:
            daemon.pid_path(workspace).write_text(f"{os.getpid()}\n")
        print(f"serving {workspace.root} on {url} (pid {os.getpid()})", file=sys.stderr, flush=True)
        await server.wait()
    finally:
        await runner.close()
        if listen.path is not None and bound is not None:
            with contextlib.suppress(OSError):
                if listen.path.stat().st_ino == bound.st_ino:
                    remove_socket(listen.path)
        if workspace_socket:
            with contextlib.suppress(OSError):
                if daemon.pid_path(workspace).read_text().strip() == str(os.getpid()):
                    daemon.pid_path(workspace).unlink()
    return 0
