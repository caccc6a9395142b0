"""The typed event union: one model per kind, the wire format kept, unknown kinds skipped."""

from __future__ import annotations

import json

from shipdeck.model import EventKind, LogEvent, LogStream, RunEvent, RunStatus
from shipdeck.model.events import EVENT_LIST, EVENT_TYPES
from shipdeck.runners.event_follower import known_events, known_page

LOG = {
    "seq": 6,
    "ts": "2026-01-05T09:00:01Z",
    "kind": "log",
    "run_id": "1",
    "task": "t",
    "data": {"n": 0, "stream": "err", "text": "hi", "ts": "2026-01-05T09:00:01.000000Z"},
}
RUN = {
    "seq": 7,
    "ts": "2026-01-05T09:00:02Z",
    "kind": "run",
    "run_id": "1",
    "task": None,
    "data": {
        "id": "1",
        "pipeline": "ci",
        "status": "succeeded",
        "params": {"x": 1},
        "trigger": "manual",
        "user": "me",
        "created_at": "2026-01-05T09:00:00Z",
        "tasks_total": 1,
        "tasks_done": 1,
    },
}
UNKNOWN = {"seq": 8, "ts": "2026-01-05T09:00:03Z", "kind": "alert-opened", "data": {}}


def test_every_kind_has_its_model() -> None:
    assert set(EVENT_TYPES) == set(EventKind)


def test_events_parse_to_their_kinds_model_and_dump_as_they_came() -> None:
    log, run = EVENT_LIST.validate_python([LOG, RUN])
    assert isinstance(log, LogEvent) and log.data.stream == LogStream.ERR
    assert log.line().text == "hi" and log.line().ts == log.ts
    assert isinstance(run, RunEvent) and run.data.status == RunStatus.SUCCEEDED
    dumped = json.loads(EVENT_LIST.dump_json([log, run]))
    assert dumped[0] == LOG
    # The run's fields as sent (its optional ones, unset here, are added as null).
    same = {k: dumped[1]["data"][k] for k in RUN["data"] if k != "created_at"}
    assert same == {k: v for k, v in RUN["data"].items() if k != "created_at"}
    assert {k: v for k, v in dumped[1].items() if k != "data"} == {
        k: v for k, v in RUN.items() if k != "data"
    }


def test_kinds_this_client_does_not_know_are_skipped_in_streams_and_long_polls() -> None:
    batch = json.dumps([UNKNOWN, LOG])
    assert [e.seq for e in known_events(batch)] == [6]
    page = known_page({"events": [LOG, UNKNOWN], "last_seq": 8})
    assert [e.seq for e in page.events] == [6] and page.last_seq == 8


FOREIGN = "a1b2-c3"
"""A run id no embedded engine gives: another runner's own (a flow-run UUID's kind)."""


def _foreign_events() -> list[dict[str, object]]:
    at = "2026-01-05T09:00:04Z"
    run = {**RUN["data"], "id": FOREIGN, "parent_id": "z9-y8", "label": "nightly-42"}
    entry = {
        "id": 3,
        "service": "api",
        "env": "prod",
        "action": "deploy",
        "from_revision": None,
        "to_revision": "v7",
        "user": "me",
        "at": at,
        "outcome": "running",
        "run_id": FOREIGN,
    }
    version = {
        "model": "churn",
        "version": "7b",
        "run_id": FOREIGN,
        "task": "train",
        "sha256": "0" * 64,
        "created_at": at,
    }
    move = {
        "id": 4,
        "model": "churn",
        "alias": "champion",
        "from_version": "7b",
        "to_version": None,
        "user": "me",
        "at": at,
    }
    task = {"run_id": FOREIGN, "name": "train", "reused_from": "z9-y8"}
    metric = {"run_id": FOREIGN, "task": "train", "key": "auc", "value": 0.9, "ts": at}
    kinds = [
        ("run", run),
        ("task", task),
        ("metric", metric),
        ("deploy_started", entry),
        ("version_registered", version),
        ("alias_moved", move),
    ]
    return [
        {"seq": 10 + n, "ts": at, "kind": kind, "run_id": FOREIGN, "task": None, "data": data}
        for n, (kind, data) in enumerate(kinds)
    ]


def test_a_foreign_run_id_flows_through_the_models_and_events_unchanged() -> None:
    sent = _foreign_events()
    page = known_page({"events": sent, "last_seq": 15})  # as the remote runner parses them
    assert [e.run_id for e in page.events] == [FOREIGN] * len(sent)
    run, task, metric, deploy, version, move = (e.data for e in page.events)
    assert (run.id, run.parent_id, run.label) == (FOREIGN, "z9-y8", "nightly-42")
    assert (task.run_id, task.reused_from) == (FOREIGN, "z9-y8")
    assert metric.run_id == FOREIGN and deploy.run_id == FOREIGN
    assert (version.version, version.run_id, version.label) == ("7b", FOREIGN, "v7b")
    assert (move.from_version, move.to_version) == ("7b", None)
    # Out again as they came: ids are text, never turned into numbers.
    dumped = json.loads(EVENT_LIST.dump_json(page.events))
    assert [e["run_id"] for e in dumped] == [FOREIGN] * len(sent)
    assert dumped[0]["data"]["id"] == FOREIGN and dumped[4]["data"]["version"] == "7b"
    assert EVENT_LIST.validate_json(EVENT_LIST.dump_json(page.events)) == page.events


def test_a_run_without_a_label_gets_one_from_its_id() -> None:
    engine, foreign = (
        RunEvent.model_validate({**RUN, "data": {**RUN["data"], "id": run_id}}).data
        for run_id in ("12", FOREIGN)
    )
    assert (engine.label, foreign.label) == ("#12", FOREIGN)


def test_ids_sent_as_numbers_are_read_as_their_digits() -> None:
    """Causes stored, and servers answering, from before ids were text wrote `12`."""
    old = {**RUN, "run_id": 12, "data": {**RUN["data"], "id": 12, "parent_id": 11}}
    [event] = known_events(json.dumps([old]))
    assert isinstance(event, RunEvent)
    assert (event.run_id, event.data.id, event.data.parent_id) == ("12", "12", "11")
    assert event.data.label == "#12"
