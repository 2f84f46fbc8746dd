"""When a request runs, and how a staged delete waits between its stages. Standard library only.

A staged delete deactivates the users when the request runs, releases their licenses `grace` later
and deletes them `retain` later; both periods count from the deactivation. A time that cannot be used raises
BadCommand with a `problem` code and the facts; bot/slack/messages says it in words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from bot.domain.durations import DurationTooLong, parse_duration
from bot.errors import BadCommand

MAX_AHEAD = timedelta(days=365)  # for a run time, and for each stage period
RUN_AT_FIELD = "run_at"  # the form's block ids, so BadCommand.field names the faulty input
GRACE_FIELD = "grace"
RETAIN_FIELD = "retain"

# ISO 8601 as people and other tools write it: `2026-12-01 09:00`, `2026-12-04T18:20:17Z`, `…17.250+01:00`,
# `…+0100`, `… UTC`; seconds and their fraction optional.
_ABSOLUTE = re.compile(r"(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
                       r"\s*(?:(UTC|Z)|([+-])(\d{2})(?::?(\d{2}))?)?", re.IGNORECASE)
_RELATIVE = re.compile(r"(?:in\s+|\+)(.+)", re.IGNORECASE)
# A day this week and a wall time: `friday 17:00`, `fri 9:30`, `today 17:00`, `tomorrow 08:00` (never `next …`,
# which people read two ways): the next such day, today included, in the requester's time zone.
_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY = re.compile(r"(today|tomorrow|mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun|" + "|".join(_DAYS) + r")"
                  r"\s+(?:at\s+)?(\d{1,2}):(\d{2})", re.IGNORECASE)


@dataclass(frozen=True)
class _DayAndTime:
    """`friday 17:00` as written: which day (0 Monday … 6 Sunday, or "today", "tomorrow") and the wall time."""

    day: int | str
    hour: int
    minute: int

    def on(self, today: datetime) -> datetime:
        """The wall time it names, seen from `today` (a naive wall time in the requester's zone): today when it is
        still ahead, else the next such weekday; `today` and `tomorrow` as they say."""
        at = today.replace(hour=self.hour, minute=self.minute, second=0, microsecond=0)
        if self.day == "today":
            return at
        if self.day == "tomorrow":
            return at + timedelta(days=1)
        ahead = (int(self.day) - today.weekday()) % 7
        if ahead == 0 and at <= today:
            ahead = 7
        return at + timedelta(days=ahead)


@dataclass(frozen=True)
class Schedule:
    """When a request runs (None: once approved) and, for a staged delete, its two waiting periods."""

    run_at: datetime | None = None
    grace: timedelta | None = None
    retain: timedelta | None = None

    @property
    def staged(self) -> bool:
        return self.retain is not None

    def to_audit(self) -> dict:
        """The schedule as the audit log records it."""
        data: dict = {"run_at": self.run_at.isoformat() if self.run_at else None}
        if self.staged:
            data.update(grace=self.grace.total_seconds() if self.grace else None,
                        retain=self.retain.total_seconds() if self.retain else None)
        return data


def resolve_when(text: str, *, tz: str, now: datetime) -> datetime:
    """Return the moment text names, in UTC: a wall time in tz unless it says UTC or an offset, or a delay
    from now; raise BadCommand when it is unreadable, not in the future or more than a year away."""
    written = _read(text)
    if isinstance(written, timedelta):
        if written > MAX_AHEAD:
            raise _too_far(delay=written.total_seconds())
        return check_run_at(now + written, now=now)
    zone = _zone(tz)
    if isinstance(written, _DayAndTime):
        written = written.on(now.astimezone(zone).replace(tzinfo=None))
    if written.tzinfo is not None:
        return check_run_at(written, now=now)
    local = written.replace(tzinfo=zone)
    try:
        exists = local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == written
    except OverflowError:
        raise _out_of_range(written) from None
    if not exists:
        raise BadCommand("time_skipped", field=RUN_AT_FIELD, written=f"{written:%Y-%m-%d %H:%M}", zone=_name(zone))
    return check_run_at(local, now=now)  # a wall time that happens twice (clocks go back) means the first


def check_when(text: str) -> None:
    """Raise BadCommand unless text is written in one of the accepted formats (it may still be in the past)."""
    _read(text)


def check_run_at(moment: datetime, *, now: datetime) -> datetime:
    """Return moment in UTC; raise BadCommand unless it is in the future and at most a year after now."""
    if moment.tzinfo is None or now.tzinfo is None:
        raise ValueError("run times are compared as timezone-aware datetimes")
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        raise _out_of_range(moment) from None
    if moment <= now:
        raise BadCommand("time_not_ahead", field=RUN_AT_FIELD, moment=f"{moment:%Y-%m-%d %H:%M}")
    if moment - now > MAX_AHEAD:
        raise _too_far(moment=f"{moment:%Y-%m-%d %H:%M}")
    return moment


def parse_period(text: str, *, field: str) -> timedelta:
    """Return the stage period written in text (7d, 36h, 2w, 1d12h); raise BadCommand naming field otherwise."""
    return _duration(text, field=field)


def check_stages(grace: timedelta | None, retain: timedelta | None) -> None:
    """Raise BadCommand unless the stage periods make sense: grace needs retain, comes before it, both within a year."""
    if grace is not None and retain is None:
        raise BadCommand("grace_without_retain", field=RETAIN_FIELD)
    for period, field in ((grace, GRACE_FIELD), (retain, RETAIN_FIELD)):
        if period is not None and period > MAX_AHEAD:
            raise BadCommand("period_over_a_year", field=field, period=period.total_seconds(),
                             days=MAX_AHEAD.days)
    if grace is not None and retain is not None and grace >= retain:
        raise BadCommand("grace_not_shorter", field=GRACE_FIELD, grace=grace.total_seconds(),
                         retain=retain.total_seconds())


# -- reading ------------------------------------------------------------------------------------------

def _read(text: str) -> datetime | timedelta | _DayAndTime:
    """What text says: a delay, an aware moment (it names UTC or an offset), a naive wall time, or a day of the
    week and a wall time (resolved once the requester's zone and the time are known)."""
    relative = _RELATIVE.fullmatch(text.strip())
    if relative:
        return _duration(relative.group(1), field=RUN_AT_FIELD)
    weekday = _DAY.fullmatch(text.strip())
    if weekday:
        return _day_and_time(weekday, text)
    match = _ABSOLUTE.fullmatch(text.strip())
    if not match:
        raise BadCommand("time_unreadable", field=RUN_AT_FIELD, text=text)
    year, month, day, hour, minute, second, fraction, utc, sign, offset_hours, offset_minutes = match.groups()
    try:
        written = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0),
                           int((fraction or "0")[:6].ljust(6, "0")))
    except ValueError:
        raise BadCommand("time_not_real", field=RUN_AT_FIELD, text=text) from None
    if utc:
        return written.replace(tzinfo=UTC)
    if sign:
        offset = timedelta(hours=int(offset_hours), minutes=int(offset_minutes or 0))
        if offset > timedelta(hours=14) or int(offset_minutes or 0) >= 60:
            raise BadCommand("offset_unused", field=RUN_AT_FIELD, text=text)
        return written.replace(tzinfo=timezone(-offset if sign == "-" else offset))
    return written


def _day_and_time(match: re.Match[str], text: str) -> _DayAndTime:
    day, hour, minute = match.group(1).lower(), int(match.group(2)), int(match.group(3))
    if hour > 23 or minute > 59:
        raise BadCommand("time_not_real", field=RUN_AT_FIELD, text=text)
    if day in ("today", "tomorrow"):
        return _DayAndTime(day, hour, minute)
    return _DayAndTime(next(index for index, name in enumerate(_DAYS) if name.startswith(day[:3])), hour, minute)


def _duration(text: str, *, field: str) -> timedelta:
    try:
        return parse_duration(text)
    except DurationTooLong:
        raise BadCommand("period_far_too_long", field=field, text=text) from None
    except ValueError:
        raise BadCommand("period_unreadable", field=field, text=text) from None


def _out_of_range(moment: datetime) -> BadCommand:
    return BadCommand("time_out_of_range", field=RUN_AT_FIELD,
                      moment=moment.replace(tzinfo=None).isoformat(" ", "minutes"))


def _too_far(**what: object) -> BadCommand:
    """A time more than MAX_AHEAD away: `moment` (UTC, as text) or `delay` (seconds from now)."""
    return BadCommand("time_too_far", field=RUN_AT_FIELD, days=MAX_AHEAD.days, **what)


# -- writing ------------------------------------------------------------------------------------------

def _zone(tz: str) -> tzinfo:
    """The IANA zone named tz, or UTC when tz is empty or not known here."""
    try:
        return ZoneInfo(tz) if tz else UTC
    except (LookupError, ValueError, OSError):
        return UTC


def _name(zone: tzinfo) -> str:
    return "UTC" if zone is UTC else str(zone)
