from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.schedule import Schedule, check_run_at, check_stages, check_when, parse_period, resolve_when
from bot.errors import BadCommand
from bot.slack.markup import span
from tests.words import raises_saying

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PARIS = "Europe/Paris"


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-12-01 09:00", _utc(2026, 12, 1, 8, 0)),  # wall time in Paris, winter: UTC+1
    ("2026-12-01T09:00", _utc(2026, 12, 1, 8, 0)),
    ("2027-07-01 09:00", _utc(2027, 7, 1, 7, 0)),  # summer: UTC+2
    ("2026-12-01 09:00 UTC", _utc(2026, 12, 1, 9, 0)),
    ("2026-12-01T09:00Z", _utc(2026, 12, 1, 9, 0)),
    ("2026-12-01 09:00 utc", _utc(2026, 12, 1, 9, 0)),
    ("2026-12-01 09:00 +05:30", _utc(2026, 12, 1, 3, 30)),
    ("2026-12-01T09:00-05:00", _utc(2026, 12, 1, 14, 0)),
    ("  2026-12-01 9:00  ", _utc(2026, 12, 1, 8, 0)),
])
def test_absolute_times(text, expected):
    resolved = resolve_when(text, tz=PARIS, now=NOW)
    assert resolved == expected and resolved.tzinfo is UTC


def test_the_same_wall_time_in_other_zones():
    assert resolve_when("2026-12-01 09:00", tz="America/New_York", now=NOW) == _utc(2026, 12, 1, 14, 0)
    assert resolve_when("2026-12-01 09:00", tz="Asia/Kolkata", now=NOW) == _utc(2026, 12, 1, 3, 30)
    assert resolve_when("2026-12-01 09:00", tz="UTC", now=NOW) == _utc(2026, 12, 1, 9, 0)


@pytest.mark.parametrize("tz", ["", "Mars/Olympus_Mons", "../../etc/passwd", "Europe", "utc"])
def test_an_unknown_time_zone_means_utc(tz):
    assert resolve_when("2026-12-01 09:00", tz=tz, now=NOW) == _utc(2026, 12, 1, 9, 0)


@pytest.mark.parametrize(("tz", "text"), [(PARIS, "2027-03-28 02:30"), ("America/New_York", "2027-03-14 02:00")])
def test_a_wall_time_skipped_by_daylight_saving_is_refused(tz, text):
    with raises_saying(BadCommand, r"does not exist in .*daylight saving") as problem:
        resolve_when(text, tz=tz, now=NOW)
    assert problem.value.field == "run_at"
    assert resolve_when(text + " UTC", tz=tz, now=NOW)  # with an explicit zone it is an ordinary time


def test_a_wall_time_that_happens_twice_means_the_first():
    assert resolve_when("2027-10-31 02:30", tz=PARIS, now=NOW) == _utc(2027, 10, 31, 0, 30)


@pytest.mark.parametrize(("text", "delay"), [
    ("in 2h", timedelta(hours=2)), ("+2h", timedelta(hours=2)), ("IN 1d 12h", timedelta(days=1, hours=12)),
    ("+30m", timedelta(minutes=30)), ("in 2w", timedelta(weeks=2)), ("+365d", timedelta(days=365)),
])
def test_relative_times_count_from_now_whatever_the_zone(text, delay):
    assert resolve_when(text, tz=PARIS, now=NOW) == NOW + delay


@pytest.mark.parametrize(("text", "message"), [
    ("tomorrow", "I can't read the time `tomorrow`. Write `YYYY-MM-DD HH:MM`"),
    ("2026-12-01", "I can't read the time"),
    ("01/12/2026 09:00", "I can't read the time"),
    ("2026-12-01 09:00 CET", "I can't read the time"),
    ("2026-02-30 09:00", "is not a real date and time"),
    ("2026-12-01 24:00", "is not a real date and time"),
    ("2026-12-01 09:00 +15:00", "offset no time zone uses"),
    ("in soon", "is not a period"),
    ("+0h", "is not a period"),
    ("in 99999999999999999999w", "far too long"),
    ("2026-11-02 09:00 UTC", "is not in the future"),
    ("2026-11-02 10:00", "is not in the future"),  # 10:00 in Paris is 09:00 UTC: now
    ("2020-01-01 09:00 UTC", "is not in the future"),
    ("2027-11-02 09:01 UTC", "more than 365 days away"),
    ("in 366d", "more than 365 days away"),
    ("9999-12-31 23:59 -14:00", "9999-12-31 23:59 is out of range"),
    ("0001-01-01 00:00", "0001-01-01 00:00 is out of range"),
])
def test_unusable_times_are_explained(text, message):
    with raises_saying(BadCommand, message) as problem:
        resolve_when(text, tz=PARIS, now=NOW)
    assert problem.value.field == "run_at"


def test_a_year_ahead_is_the_limit():
    assert resolve_when("2027-11-02 09:00 UTC", tz=PARIS, now=NOW) == NOW + timedelta(days=365)


def test_check_when_reads_the_format_only():
    check_when("2020-01-01 09:00")  # in the past, but readable: that is decided once the time is known
    check_when("in 2h")
    with raises_saying(BadCommand, "can't read"):
        check_when("next friday")


def test_check_run_at_compares_aware_times():
    tokyo = datetime(2026, 12, 1, 19, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert check_run_at(tokyo, now=NOW) == _utc(2026, 12, 1, 10, 0) and check_run_at(tokyo, now=NOW).tzinfo is UTC
    with raises_saying(BadCommand, "not in the future"):
        check_run_at(NOW - timedelta(seconds=1), now=NOW)
    with pytest.raises(ValueError):
        check_run_at(datetime(2026, 12, 1, 10, 0), now=NOW)


@pytest.mark.parametrize(("grace", "retain", "field", "message"), [
    (timedelta(days=7), None, "retain", "needs a retention period"),
    (timedelta(days=30), timedelta(days=30), "grace", r"grace period \(30 days\) must be shorter"),
    (timedelta(days=31), timedelta(days=30), "grace", "must be shorter"),
    (None, timedelta(days=366), "retain", "retention period is 366 days; keep it within 365"),
    (timedelta(days=400), timedelta(days=500), "grace", "grace period is 400 days"),
])
def test_bad_stages_are_explained(grace, retain, field, message):
    with raises_saying(BadCommand, message) as problem:
        check_stages(grace, retain)
    assert problem.value.field == field


@pytest.mark.parametrize(("grace", "retain"), [
    (None, None), (None, timedelta(days=30)), (timedelta(days=7), timedelta(days=30)),
    (timedelta(days=364), timedelta(days=365)),
])
def test_good_stages_pass(grace, retain):
    check_stages(grace, retain)


def test_periods():
    assert parse_period("7d", field="grace") == timedelta(days=7)
    assert parse_period(" 1w 2d ", field="grace") == timedelta(days=9)
    with raises_saying(BadCommand, "not a period") as problem:
        parse_period("a week", field="retain")
    assert problem.value.field == "retain"


def test_a_staged_schedule_is_audited_as_facts():
    staged = Schedule(grace=timedelta(days=7), retain=timedelta(days=30, hours=12))
    assert staged.staged
    assert staged.to_audit() == {"run_at": None, "grace": 7 * 86400.0, "retain": (30 * 24 + 12) * 3600.0}
    assert Schedule(run_at=_utc(2026, 12, 1, 9, 0)).to_audit() == {"run_at": "2026-12-01T09:00:00+00:00"}
    assert span(timedelta(days=30, hours=12)) == "30 days 12 hours" and span(timedelta(days=1)) == "1 day"


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-12-04T18:20:17Z", _utc(2026, 12, 4, 18, 20, 17)),
    ("2026-12-04T18:20:17+01:00", _utc(2026, 12, 4, 17, 20, 17)),
    ("2026-12-04T18:20:17.5+0100", datetime(2026, 12, 4, 17, 20, 17, 500000, tzinfo=UTC)),
    ("2026-12-04T18:20:17,123456789Z", datetime(2026, 12, 4, 18, 20, 17, 123456, tzinfo=UTC)),
    ("2026-12-04T18:20:17-05", _utc(2026, 12, 4, 23, 20, 17)),
    ("2026-12-04 18:20:17", _utc(2026, 12, 4, 17, 20, 17)),  # a wall time in Paris, with its seconds
])
def test_iso_8601_as_other_tools_write_it(text, expected):
    assert resolve_when(text, tz=PARIS, now=NOW) == expected


@pytest.mark.parametrize(("text", "expected"), [  # NOW is Monday 10:00 in Paris
    ("friday 17:00", _utc(2026, 11, 6, 16, 0)),
    ("Fri at 17:00", _utc(2026, 11, 6, 16, 0)),
    ("monday 10:01", _utc(2026, 11, 2, 9, 1)),  # still ahead today
    ("monday 10:00", _utc(2026, 11, 9, 9, 0)),  # now: next week's
    ("Sunday 9:00", _utc(2026, 11, 8, 8, 0)),
    ("tomorrow 00:30", _utc(2026, 11, 2, 23, 30)),
    ("today 23:59", _utc(2026, 11, 2, 22, 59)),
])
def test_a_day_of_the_week_and_a_wall_time(text, expected):
    assert resolve_when(text, tz=PARIS, now=NOW) == expected


def test_a_day_and_time_follows_the_rules_on_daylight_saving():
    before_the_change = _utc(2027, 3, 27, 12, 0)  # Saturday; on Sunday 2027-03-28, 02:00-03:00 does not exist in Paris
    with raises_saying(BadCommand, r"does not exist in .*daylight saving"):
        resolve_when("sunday 02:30", tz=PARIS, now=before_the_change)
    assert resolve_when("sunday 03:30", tz=PARIS, now=before_the_change) == _utc(2027, 3, 28, 1, 30)  # summer time
    autumn = _utc(2027, 10, 30, 12, 0)  # Saturday; 02:30 on Sunday happens twice: the first
    assert resolve_when("sunday 02:30", tz=PARIS, now=autumn) == _utc(2027, 10, 31, 0, 30)


@pytest.mark.parametrize(("text", "message"), [
    ("next friday 17:00", "can't read"), ("friday", "can't read"), ("friday 25:00", "is not a real date"),
    ("today 09:00", "is not in the future"), ("2026-12-04T18:20:61Z", "is not a real date"),
])
def test_days_and_seconds_that_cannot_be_used_are_explained(text, message):
    with raises_saying(BadCommand, message):
        resolve_when(text, tz=PARIS, now=NOW)
