"""When a request runs, and how a staged delete waits between its stages. Standard library only.

A staged delete deactivates the users when the request runs, releases their licenses `grace` later
and deletes them `retain` later; both periods count from the deactivation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from bot.domain.durations import parse_duration
from bot.domain.text import quote
from bot.errors import BadCommand

MAX_AHEAD = timedelta(days=365)  # for a run time, and for each stage period
RUN_AT_FIELD = "run_at"  # the form's block ids, so BadCommand.field names the faulty input
GRACE_FIELD = "grace"
RETAIN_FIELD = "retain"
WHEN_FORMATS = ("`YYYY-MM-DD HH:MM` in your Slack time zone (add `UTC` or an offset such as `+02:00` "
                "to mean another), or a delay such as `in 2h` or `+3d`")

_ABSOLUTE = re.compile(r"(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})\s*(?:(UTC|Z)|([+-])(\d{2}):(\d{2}))?",
                       re.IGNORECASE)
_RELATIVE = re.compile(r"(?:in\s+|\+)(.+)", re.IGNORECASE)


@dataclass(frozen=True)
class Schedule:
    """When a request runs (None: once approved) and, for a staged delete, its two waiting periods."""

    run_at: datetime | None = None
    grace: timedelta | None = None
    retain: timedelta | None = None

    @property
    def staged(self) -> bool:
        return self.retain is not None

    def describe(self, tz: str) -> str:
        """Say when this runs, in tz (the requester's time zone) and in UTC, and what each stage does."""
        when = "runs once approved" if self.run_at is None else f"runs {_moment(self.run_at, tz)}"
        if not self.staged:
            return when
        stages = ["deactivates the users"]
        if self.grace is not None:
            stages.append(f"releases their licenses {span_text(self.grace)} later")
        stages.append(f"deletes them {span_text(self.retain or timedelta())} after deactivating")
        return f"{when}; staged: {', '.join(stages)}"


def resolve_when(text: str, *, tz: str, now: datetime) -> datetime:
    """Return the moment text names, in UTC: a wall time in tz unless it says UTC or an offset, or a delay
    from now; raise BadCommand when it is unreadable, not in the future or more than a year away."""
    written = _read(text)
    if isinstance(written, timedelta):
        if written > MAX_AHEAD:
            raise _too_far(f"{span_text(written)} from now")
        return check_run_at(now + written, now=now)
    if written.tzinfo is not None:
        return check_run_at(written, now=now)
    zone = _zone(tz)
    local = written.replace(tzinfo=zone)
    try:
        exists = local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == written
    except OverflowError:
        raise _out_of_range(written) from None
    if not exists:
        raise BadCommand(f"{written:%Y-%m-%d %H:%M} does not exist in {_name(zone)}: the clocks skip that hour "
                         "(daylight saving time). Pick another time.", field=RUN_AT_FIELD)
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
        raise BadCommand(f"{moment:%Y-%m-%d %H:%M} UTC is not in the future. Pick a later time, or leave it out "
                         "to run once approved.", field=RUN_AT_FIELD)
    if moment - now > MAX_AHEAD:
        raise _too_far(f"{moment:%Y-%m-%d %H:%M} UTC")
    return moment


def parse_period(text: str, *, field: str) -> timedelta:
    """Return the stage period written in text (7d, 36h, 2w, 1d12h); raise BadCommand naming field otherwise."""
    return _duration(text, field=field)


def check_stages(grace: timedelta | None, retain: timedelta | None) -> None:
    """Raise BadCommand unless the stage periods make sense: grace needs retain, comes before it, both within a year."""
    if grace is not None and retain is None:
        raise BadCommand("Releasing licenses after a grace period needs a retention period too: say when the "
                         "users are deleted, e.g. 30d.", field=RETAIN_FIELD)
    for period, field, name in ((grace, GRACE_FIELD, "grace"), (retain, RETAIN_FIELD, "retention")):
        if period is not None and period > MAX_AHEAD:
            raise BadCommand(f"The {name} period is {span_text(period)}; keep it within {MAX_AHEAD.days} days.",
                             field=field)
    if grace is not None and retain is not None and grace >= retain:
        raise BadCommand(f"The grace period ({span_text(grace)}) must be shorter than the retention period "
                         f"({span_text(retain)}): licenses are released before the users are deleted.",
                         field=GRACE_FIELD)


# -- reading ------------------------------------------------------------------------------------------

def _read(text: str) -> datetime | timedelta:
    """What text says: a delay, an aware moment (it names UTC or an offset) or a naive wall time."""
    relative = _RELATIVE.fullmatch(text.strip())
    if relative:
        return _duration(relative.group(1), field=RUN_AT_FIELD)
    match = _ABSOLUTE.fullmatch(text.strip())
    if not match:
        raise BadCommand(f"I can't read the time {quote(text, 40)}. Write {WHEN_FORMATS}.", field=RUN_AT_FIELD)
    year, month, day, hour, minute, utc, sign, offset_hours, offset_minutes = match.groups()
    try:
        written = datetime(int(year), int(month), int(day), int(hour), int(minute))
    except ValueError:
        raise BadCommand(f"{quote(text, 40)} is not a real date and time. Write {WHEN_FORMATS}.",
                         field=RUN_AT_FIELD) from None
    if utc:
        return written.replace(tzinfo=UTC)
    if sign:
        offset = timedelta(hours=int(offset_hours), minutes=int(offset_minutes))
        if offset > timedelta(hours=14) or int(offset_minutes) >= 60:
            raise BadCommand(f"{quote(text, 40)} has an offset no time zone uses; they run from -14:00 to +14:00.",
                             field=RUN_AT_FIELD)
        return written.replace(tzinfo=timezone(-offset if sign == "-" else offset))
    return written


def _duration(text: str, *, field: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as problem:
        if "far too long" in str(problem):
            raise BadCommand(f"{quote(text, 40)} is far too long a period.", field=field) from None
        raise BadCommand(f"{quote(text, 40)} is not a period like 30m, 36h, 7d or 2w.", field=field) from None


def _out_of_range(moment: datetime) -> BadCommand:
    return BadCommand(f"{moment.replace(tzinfo=None).isoformat(' ', 'minutes')} is out of range; "
                      "pick a time within the next year.", field=RUN_AT_FIELD)


def _too_far(what: str) -> BadCommand:
    return BadCommand(f"{what} is more than {MAX_AHEAD.days} days away; pick a time within a year.",
                      field=RUN_AT_FIELD)


# -- writing ------------------------------------------------------------------------------------------

def _zone(tz: str) -> tzinfo:
    """The IANA zone named tz, or UTC when tz is empty or not known here."""
    try:
        return ZoneInfo(tz) if tz else UTC
    except (LookupError, ValueError, OSError):
        return UTC


def _name(zone: tzinfo) -> str:
    return "UTC" if zone is UTC else str(zone)


def _moment(moment: datetime, tz: str) -> str:
    """e.g. "2026-12-01 09:00 Europe/Paris (08:00 UTC)"; the UTC date too when it differs."""
    zone = _zone(tz)
    utc = moment.astimezone(UTC)
    if _name(zone) in ("UTC", "Etc/UTC"):
        return f"{utc:%Y-%m-%d %H:%M} UTC"
    local = moment.astimezone(zone)
    in_utc = f"{utc:%H:%M}" if utc.date() == local.date() else f"{utc:%Y-%m-%d %H:%M}"
    return f"{local:%Y-%m-%d %H:%M} {_name(zone)} ({in_utc} UTC)"


def span_text(period: timedelta) -> str:
    """e.g. "7 days", "1 day 12 hours", "1 hour 30 minutes"."""
    seconds = int(period.total_seconds())
    parts = []
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount} {unit}{'' if amount == 1 else 's'}")
    return " ".join(parts) or "0 seconds"
