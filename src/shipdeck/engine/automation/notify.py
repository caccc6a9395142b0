"""Notifications: alerts opened and closed, failed runs of chosen pipelines and failed deploys,
sent to the `[notify]` command (the JSON on its stdin) and webhook (a JSON POST).

The notifier follows the engine's event feed in its own task and sends each notification in
a task of its own: a command that hangs or a webhook that never answers is cut off at its
timeout, retried with backoff, logged, and blocks nothing else (not the runner, not the
scheduler, not the next notification). The command is an argv, never a shell line: nothing in
a notification can become a command.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from shipdeck.background import stop_task
from shipdeck.engine.events import EventFeed
from shipdeck.model import (
    AlertClosedEvent,
    AlertOpenedEvent,
    DeployFinishedEvent,
    Event,
    NotifySpec,
    Outcome,
    RunEvent,
    RunStatus,
)

MAX_IN_FLIGHT = 100
"""Notifications being sent at once; past this, new ones are dropped (and logged)."""
BACKOFF = 1.0
"""Seconds before the first webhook retry; doubled for each next one."""
_ERROR_TAIL = 300

_log = logging.getLogger("shipdeck.notify")


def notification(event: Event, spec: NotifySpec, root: Path) -> dict[str, Any] | None:
    """The notification an event calls for under `spec`, or None."""
    body: dict[str, Any]
    if isinstance(event, AlertOpenedEvent | AlertClosedEvent):
        alert = event.data
        opened = isinstance(event, AlertOpenedEvent)
        text = (
            f"alert #{alert.id} opened: {alert.monitor} {alert.threshold} (value {alert.value:g})"
            if opened
            else f"alert #{alert.id} closed: {alert.monitor} {alert.threshold}"
            + (f" (value {alert.closed_value:g})" if alert.closed_value is not None else "")
        )
        body = {"event": event.kind.value, "text": text, "alert": alert.model_dump(mode="json")}
    elif isinstance(event, RunEvent):
        run = event.data
        if run.status != RunStatus.FAILED or run.pipeline not in spec.on_failure:
            return None
        text = f"run {run.label} of {run.pipeline} failed"
        body = {"event": "run_failed", "text": text, "run": run.model_dump(mode="json")}
    elif isinstance(event, DeployFinishedEvent):
        entry = event.data
        if entry.outcome != Outcome.FAILED or not spec.on_deploy_failure:
            return None
        text = (
            f"{entry.action.value} of {entry.service} {entry.to_revision} to {entry.env}"
            f" failed: {entry.detail}"
        )
        body = {"event": "deploy_failed", "text": text, "deploy": entry.model_dump(mode="json")}
    else:
        return None
    body["workspace"] = str(root)
    body["at"] = event.ts.astimezone(UTC).isoformat()
    # Each notification goes out on its own (a slow receiver holds up no other), so they may
    # arrive out of order: the event's number in the runner's feed orders them.
    body["seq"] = event.seq
    return body


@dataclass(eq=False)
class Notifier:
    feed: EventFeed
    spec: Callable[[], NotifySpec | None]
    root: Path
    environment: Callable[[], dict[bytes, bytes]]
    _: KW_ONLY
    backoff: float = BACKOFF
    _follower: asyncio.Task[None] | None = field(default=None, init=False)
    _sending: set[asyncio.Task[None]] = field(default_factory=set, init=False)
    _seen_runs: OrderedDict[str, None] = field(default_factory=OrderedDict, init=False)
    """Runs notified about: a failed run's status is published more than once."""

    def start(self) -> None:
        if self._follower is None:
            after = self.feed.last_seq
            self._follower = asyncio.get_running_loop().create_task(self._follow(after))

    async def close(self, grace: float = 2.0) -> None:
        """Stop following; give notifications in flight `grace` seconds, then cut them off."""
        await stop_task(self._follower)
        self._follower = None
        if self._sending:
            _, late = await asyncio.wait(list(self._sending), timeout=grace)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)

    async def _follow(self, after: int) -> None:
        while True:
            page = await self.feed.wait(after, wait=30.0, limit=1000)
            after = page.last_seq
            spec = self.spec()
            if spec is None:
                continue
            for event in page.events:
                try:
                    body = notification(event, spec, self.root)
                except Exception:  # one odd event must not end the notifier
                    _log.exception("shipdeck: notify: could not describe event %d", event.seq)
                    continue
                if body is None or self._repeated(event):
                    continue
                self.send(body, spec)

    def _repeated(self, event: Event) -> bool:
        if not isinstance(event, RunEvent):
            return False
        if event.data.id in self._seen_runs:
            return True
        self._seen_runs[event.data.id] = None
        while len(self._seen_runs) > 10_000:
            self._seen_runs.popitem(last=False)
        return False

    def send(self, body: dict[str, Any], spec: NotifySpec) -> None:
        """Send `body` to the command and the webhook, each in its own task; never waits."""
        data = json.dumps(body).encode()
        targets = []
        if spec.command:
            targets.append(self._command(spec, data, body["text"]))
        if spec.webhook:
            targets.append(self._webhook(spec, data, body["text"]))
        for target in targets:
            if len(self._sending) >= MAX_IN_FLIGHT:
                target.close()
                _log.warning("shipdeck: notify: too many notifications in flight; dropped one")
                continue
            task = asyncio.get_running_loop().create_task(target)
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _command(self, spec: NotifySpec, data: bytes, text: str) -> None:
        name = spec.command[0]
        try:
            process = await asyncio.create_subprocess_exec(
                *spec.command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                cwd=self.root,
                env=self.environment(),
                start_new_session=True,  # its own process group: a timeout kills it all
            )
        except OSError as error:
            _log.warning("shipdeck: notify: cannot run %s: %s (%s)", name, error.strerror, text)
            return
        try:
            async with asyncio.timeout(spec.timeout):
                _, stderr = await process.communicate(data)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
            _log.warning(
                "shipdeck: notify: %s took longer than %gs and was killed (%s)",
                name,
                spec.timeout,
                text,
            )
            return
        except asyncio.CancelledError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
            raise
        if process.returncode != 0:
            said = _printable(stderr.decode(errors="replace").strip()[-_ERROR_TAIL:])
            _log.warning(
                "shipdeck: notify: %s exited %s (%s)%s",
                name,
                process.returncode,
                text,
                f": {said}" if said else "",
            )

    async def _webhook(self, spec: NotifySpec, data: bytes, text: str) -> None:
        import httpx  # only a runner that notifies a webhook pays for it

        assert spec.webhook is not None
        # The URL's path and query often hold a token: only its host is ever logged.
        host = urlsplit(spec.webhook).netloc.rpartition("@")[2]
        attempts = spec.retries + 1
        headers = {"content-type": "application/json", "user-agent": "shipdeck-notify"}
        async with httpx.AsyncClient(timeout=spec.timeout, follow_redirects=False) as client:
            for attempt in range(1, attempts + 1):
                try:
                    async with asyncio.timeout(spec.timeout):
                        reply = await client.post(spec.webhook, content=data, headers=headers)
                    if reply.is_success:
                        return
                    problem = f"HTTP {reply.status_code}"
                except (httpx.HTTPError, TimeoutError) as error:
                    problem = (
                        f"no answer within {spec.timeout:g}s"
                        if isinstance(error, TimeoutError | httpx.TimeoutException)
                        else type(error).__name__
                    )
                _log.warning(
                    "shipdeck: notify: webhook %s failed (attempt %d of %d): %s (%s)",
                    host,
                    attempt,
                    attempts,
                    problem,
                    text,
                )
                if attempt < attempts:
                    await asyncio.sleep(self.backoff * 2 ** (attempt - 1))


def _printable(text: str) -> str:
    return "".join(char if char.isprintable() else "?" for char in text)
