"""Fire times of cron schedules (in their time zone, across DST changes) and intervals."""

from __future__ import annotations

from datetime import UTC, datetime

from shipdeck.engine.automation.schedule_rules import MAX_COUNTED, TimeRule
from shipdeck.model import PipelineTriggers


def at(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def shown(moments: list[float]) -> list[str]:
    return [datetime.fromtimestamp(m, UTC).strftime("%m-%d %H:%MZ") for m in moments]


def cron(expression: str, zone: str = "UTC") -> TimeRule:
    return TimeRule(PipelineTriggers(schedule=expression, timezone=zone))


def test_a_fixed_time_in_the_skipped_hour_runs_once_the_clocks_jumped() -> None:
    # Berlin, 2025-03-30: 02:00 CET becomes 03:00 CEST; 02:30 does not exist that day.
    rule = cron("30 2 * * *", "Europe/Berlin")
    slots = rule.slots(at("2025-03-29T00:00:00+00:00"), at("2025-04-01T00:00:00+00:00"), 10)
    assert shown(slots.kept) == ["03-29 01:30Z", "03-30 01:00Z", "03-31 00:30Z"]
    assert slots.total == 3


def test_a_fixed_time_in_the_repeated_hour_runs_once() -> None:
    # Berlin, 2025-10-26: 03:00 CEST becomes 02:00 CET; 02:30 happens twice, it runs once.
    rule = cron("30 2 * * *", "Europe/Berlin")
    slots = rule.slots(at("2025-10-25T00:00:00+00:00"), at("2025-10-28T00:00:00+00:00"), 10)
    assert shown(slots.kept) == ["10-25 00:30Z", "10-26 00:30Z", "10-27 01:30Z"]


def test_a_wildcard_schedule_follows_real_time_through_the_repeated_hour() -> None:
    rule = cron("*/30 * * * *", "Europe/Berlin")
    slots = rule.slots(at("2025-10-25T23:59:00+00:00"), at("2025-10-26T02:00:00+00:00"), 10)
    # 02:00 and 02:30 CEST, then 02:00 and 02:30 CET again, then 03:00 CET: every 30 minutes.
    assert shown(slots.kept) == [
        "10-26 00:00Z",
        "10-26 00:30Z",
        "10-26 01:00Z",
        "10-26 01:30Z",
        "10-26 02:00Z",
    ]


def test_weekdays_in_the_zone_not_in_utc() -> None:
    rule = cron("0 3 * * 1-5", "Europe/Berlin")
    friday_evening = at("2025-03-28T18:00:00+00:00")
    # The next is Monday 03:00 in Berlin (CEST since Sunday): 01:00 UTC.
    assert shown([rule.next_after(friday_evening)]) == ["03-31 01:00Z"]
    assert rule.latest_until(friday_evening) == at("2025-03-28T02:00:00+00:00")


def test_utc_is_the_default_zone() -> None:
    assert shown([cron("0 3 * * *").next_after(at("2025-06-01T12:00:00+00:00"))]) == [
        "06-02 03:00Z"
    ]


def test_intervals_count_from_the_epoch() -> None:
    rule = TimeRule(PipelineTriggers(every=6 * 3600))
    assert shown([rule.next_after(at("2025-06-01T07:59:00+00:00"))]) == ["06-01 12:00Z"]
    slots = rule.slots(at("2025-06-01T00:00:00+00:00"), at("2025-06-02T00:00:00+00:00"), 2)
    assert slots.total == 4 and shown(slots.kept) == ["06-01 18:00Z", "06-02 00:00Z"]


def test_a_long_downtime_of_a_frequent_schedule_is_counted_to_a_bound() -> None:
    rule = cron("* * * * *")
    slots = rule.slots(at("2025-01-01T00:00:00+00:00"), at("2025-02-01T00:00:00+00:00"), 1)
    assert not slots.counted_all and slots.total == MAX_COUNTED
    assert shown(slots.kept) == ["02-01 00:00Z"]


def test_explained_in_words() -> None:
    assert cron("0 3 * * 1-5", "Europe/Berlin").explain() == (
        "At 03:00 on Monday through Friday (Europe/Berlin)"
    )
