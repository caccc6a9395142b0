"""The FastAPI app exposing any Runner over HTTP."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import FastAPI, Security
from fastapi.security import HTTPBearer

from shipdeck import __version__
from shipdeck.runners.protocol import Runner
from shipdeck.server.auth import AccessLog, BearerAuth
from shipdeck.server.errors import ERROR_RESPONSES, install_error_handlers
from shipdeck.server.limits import BodyLimit
from shipdeck.server.routes import (
    deployments,
    events,
    meta,
    models,
    monitors,
    pipelines,
    runs,
    schedules,
)
from shipdeck.server.sse import StreamSettings

API_PREFIX = "/v1"
OPENAPI_PATH = f"{API_PREFIX}/openapi.json"

# Declared for the schema only: BearerAuth (middleware) does the actual check on every route.
bearer = HTTPBearer(auto_error=False, description="The runner's token (TCP listeners only)")


def create_app(
    runner: Runner | None,
    *,
    token: str | None = None,
    read_only: bool = False,
    stream: StreamSettings | None = None,
    stopping: asyncio.Event | None = None,
) -> FastAPI:
    """An app serving `runner`. `stopping`, once set, ends open event streams (for shutdown)."""
    app = FastAPI(
        title="shipdeck runner",
        version=__version__,
        description="Pipelines, runs, logs and the live event stream of one shipdeck runner.",
        openapi_url=OPENAPI_PATH,
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        dependencies=[Security(bearer)],
        responses=ERROR_RESPONSES,
    )
    app.state.runner = runner
    app.state.read_only = read_only
    app.state.stream = stream or StreamSettings()
    app.state.stopping = stopping or asyncio.Event()
    app.state.started_at = datetime.now(UTC)
    for area in (meta, pipelines, runs, events, models, deployments, schedules, monitors):
        app.include_router(area.router)
    install_error_handlers(app)
    app.add_middleware(BodyLimit)  # inside the auth check: strangers' bodies are never read
    app.add_middleware(BearerAuth, token=token)
    app.add_middleware(AccessLog)
    return app
