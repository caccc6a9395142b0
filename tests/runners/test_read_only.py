"""A configured `read_only = true` runner is opened wrapped in ReadOnlyRunner
(`runners/connect.py`): its actions are refused before anything is sent, in the wrapper's one
wording, and the wrapper hides nothing front ends read beside the contract (its `state`)."""

from __future__ import annotations

import inspect
import socket

import pytest

from shipdeck.config import RunnerEntry
from shipdeck.errors import Refused, Unavailable
from shipdeck.runners.connect import open_entry
from shipdeck.runners.event_follower import LinkStatus
from shipdeck.runners.protocol import Runner
from shipdeck.runners.read_only import REFUSED_ACTIONS, ReadOnlyRunner
from shipdeck.runners.remote import RemoteRunner


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_read_only_entry_refuses_actions_in_the_wrappers_words() -> None:
    # Nothing listens there: a refusal that sent the request first would say "unreachable".
    url = f"http://127.0.0.1:{closed_port()}"
    runner = open_entry(RunnerEntry(name="lab", url=url, read_only=True))
    try:
        with pytest.raises(Refused) as refused:
            await runner.pause_schedule("nightly")
        assert str(refused.value) == (
            "pause refused: read-only mode (runner lab is read_only in the config)"
        )
        with pytest.raises(Refused, match=r"^run refused: read-only mode"):
            await runner.start_run("train")
    finally:
        await runner.close()


async def test_the_wrapper_shows_the_connection_state_of_the_runner_it_holds() -> None:
    inner = RemoteRunner(f"http://127.0.0.1:{closed_port()}", name="far")
    wrapped = ReadOnlyRunner(inner)
    try:
        assert wrapped.state is inner.state
        with pytest.raises(Unavailable):
            await wrapped.pipelines()
        assert inner.state.status is LinkStatus.OFFLINE
        assert wrapped.state is inner.state
    finally:
        await wrapped.close()


def test_every_refused_action_is_a_method_of_the_contract() -> None:
    """A name misspelt in the table would let that action through to the inner runner."""
    for method in REFUSED_ACTIONS:
        assert inspect.iscoroutinefunction(getattr(Runner, method, None)), method


async def test_every_action_is_refused_in_its_own_word_before_anything_is_sent() -> None:
    runner = ReadOnlyRunner(RemoteRunner(f"http://127.0.0.1:{closed_port()}", name="far"))
    try:
        for method, word in REFUSED_ACTIONS.items():
            with pytest.raises(Refused) as refused:
                await getattr(runner, method)("any", "arguments", reason="x")
            assert str(refused.value) == f"{word} refused: read-only mode (--read-only)"
        assert runner.name == "far" and runner.read_only
    finally:
        await runner.close()
