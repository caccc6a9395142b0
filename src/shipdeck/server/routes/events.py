"""The event feed: a long-poll page for simple clients and the SSE stream for live ones."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from shipdeck.errors import InvalidInput
from shipdeck.model import EventPage
from shipdeck.server.routes.deps import RunnerDep
from shipdeck.server.sse import event_frames, unless_stopped

router = APIRouter(prefix="/v1", tags=["events"])

MAX_SEQ = 2**62
Seq = Annotated[int, Query(ge=0, le=MAX_SEQ)]


class LastSeq(BaseModel):
    last_seq: int


@router.get("/events")
async def wait_events(
    request: Request,
    runner: RunnerDep,
    after: Seq = 0,
    wait: Annotated[float, Query(ge=0, le=60)] = 15.0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 5000,
) -> EventPage:
    """Events with seq > after; waits up to `wait` seconds for the first one."""
    # A runner that stops answers at once (with nothing), so it need not wait for this.
    if not wait:
        return await runner.wait_events(after, wait=0, limit=limit)
    waiting = runner.wait_events(after, wait=wait, limit=limit)
    finished, page = await unless_stopped(waiting, request.app.state.stopping)
    return page if finished and page is not None else EventPage(events=[], last_seq=after)


@router.get("/events/last")
async def last_seq(runner: RunnerDep) -> LastSeq:
    return LastSeq(last_seq=await runner.last_seq())


def _resume_point(last_event_id: str | None, after: int | None) -> int | None:
    if last_event_id is None or not last_event_id.strip():
        return after
    try:
        value = int(last_event_id)
    except ValueError:
        message = f"Last-Event-ID must be an event number, got {last_event_id!r}"
        raise InvalidInput(message) from None
    if not 0 <= value <= MAX_SEQ:
        raise InvalidInput(f"Last-Event-ID out of range: {value}")
    return value


@router.get(
    "/events/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "SSE event batches"}},
)
async def stream(
    request: Request,
    runner: RunnerDep,
    after: Annotated[int | None, Query(ge=0, le=MAX_SEQ)] = None,
    last_event_id: Annotated[str | None, Header(max_length=32)] = None,
) -> StreamingResponse:
    """Live events as SSE; resumes after `Last-Event-ID` (or `?after=N`), else from now."""
    start = _resume_point(last_event_id, after)
    if start is None:
        start = await runner.last_seq()
    frames = event_frames(runner, start, request.app.state.stream, request.app.state.stopping)
    return StreamingResponse(
        frames,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
