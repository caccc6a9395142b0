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
    "run_id": 1,
    "task": "t",
    "data": {"n": 0, "stream": "err", "text": "hi", "ts": "2026-01-05T09:00:01.000000Z"},
}
RUN = {
    "seq": 7,
    "ts": "2026-01-05T09:00:02Z",
    "kind": "run",
    "run_id": 1,
    "task": None,
    "data": {
        "id": 1,
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
