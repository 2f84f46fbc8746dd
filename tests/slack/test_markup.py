"""Slack's markup as pure functions: outside text made inert, people, channels and moments named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.slack.markup import channel, escape, in_zone, mention, quote, span, utc, when


def test_escape_makes_mentions_broadcasts_and_links_inert():
    assert escape("<!channel> <@U0BOB> <https://evil.example|click>") == (
        "&lt;!channel&gt; &lt;@U0BOB&gt; &lt;https://evil.example|click&gt;")


def test_escape_turns_the_ampersand_first_so_nothing_is_escaped_twice():
    assert escape("a & b") == "a &amp; b"
    assert escape("&lt;") == "&amp;lt;"
    assert escape("plain text") == "plain text"


def test_quote_is_an_inline_code_span_on_one_line():
    assert quote("jdoe") == "`jdoe`"
    assert quote("two\nlines") == "`two lines`"
    assert quote("a `tick`") == "`a 'tick'`"  # a backtick would end the span
    assert quote("<@U0BOB> & co") == "`&lt;@U0BOB&gt; &amp; co`"


def test_quote_shortens_to_its_limit_before_escaping():
    assert quote("x" * 80) == f"`{'x' * 80}`"
    assert quote("x" * 81) == f"`{'x' * 79}…`"
    assert len(quote("y" * 500)) == 80 + 2
    assert quote("abcdefghij", 5) == "`abcd…`"
    assert quote("<<<<<<<<", 5) == "`&lt;&lt;&lt;&lt;…`"  # the limit counts what was typed, not the escapes
    assert quote("exactly40" + "z" * 31, 40) == "`exactly40" + "z" * 31 + "`"


def test_mention_and_channel():
    assert mention("U0BOB") == "<@U0BOB>"
    assert channel("C0RESULTS") == "<#C0RESULTS>"


def test_when_lets_each_reader_see_their_own_time_and_falls_back_to_utc():
    moment = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    assert when(moment) == f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|2026-11-02 09:00 UTC>"
    paris = moment.astimezone(timezone(timedelta(hours=1)))
    assert when(paris) == when(moment)


def test_utc_of_any_aware_moment():
    assert utc(datetime(2026, 12, 1, 9, 0, tzinfo=UTC)) == "2026-12-01 09:00 UTC"
    assert utc(datetime(2026, 12, 1, 1, 30, tzinfo=timezone(timedelta(hours=2)))) == "2026-11-30 23:30 UTC"


@pytest.mark.parametrize("tz", ["UTC", "Etc/UTC", ""])
def test_in_zone_of_utc_says_it_once(tz):
    assert in_zone(datetime(2026, 12, 1, 9, 0, tzinfo=UTC), tz) == "2026-12-01 09:00 UTC"


@pytest.mark.parametrize("tz", ["Mars/Olympus_Mons", "../etc/passwd", "not a zone"])
def test_in_zone_of_an_unknown_zone_is_utc(tz):
    assert in_zone(datetime(2026, 12, 1, 9, 0, tzinfo=UTC), tz) == "2026-12-01 09:00 UTC"


def test_in_zone_gives_the_local_time_and_the_utc_time():
    winter = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert in_zone(winter, "Europe/Paris") == "2026-12-01 09:00 Europe/Paris (08:00 UTC)"
    summer = datetime(2026, 7, 1, 7, 0, tzinfo=UTC)
    assert in_zone(summer, "Europe/Paris") == "2026-07-01 09:00 Europe/Paris (07:00 UTC)"


def test_in_zone_across_the_clocks_going_forward_and_back():
    # Paris goes from 02:00 CET to 03:00 CEST at 01:00 UTC on 2026-03-29, and back at 01:00 UTC on 2026-10-25.
    assert in_zone(datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "Europe/Paris") == (
        "2026-03-29 01:30 Europe/Paris (00:30 UTC)")
    assert in_zone(datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "Europe/Paris") == (
        "2026-03-29 03:30 Europe/Paris (01:30 UTC)")
    assert in_zone(datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "Europe/Paris") == (
        "2026-10-25 02:30 Europe/Paris (00:30 UTC)")
    assert in_zone(datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "Europe/Paris") == (
        "2026-10-25 02:30 Europe/Paris (01:30 UTC)")  # the same wall time twice: the UTC time tells them apart


def test_in_zone_gives_the_utc_date_too_when_it_differs():
    assert in_zone(datetime(2026, 12, 1, 3, 0, tzinfo=UTC), "America/Los_Angeles") == (
        "2026-11-30 19:00 America/Los_Angeles (2026-12-01 03:00 UTC)")
    assert in_zone(datetime(2026, 12, 1, 20, 0, tzinfo=UTC), "Asia/Tokyo") == (
        "2026-12-02 05:00 Asia/Tokyo (2026-12-01 20:00 UTC)")


@pytest.mark.parametrize(("period", "words"), [
    (timedelta(days=7), "7 days"),
    (timedelta(days=1, hours=12), "1 day 12 hours"),
    (timedelta(hours=1, minutes=30), "1 hour 30 minutes"),
    (timedelta(weeks=2, seconds=1), "14 days 1 second"),
    (timedelta(minutes=1), "1 minute"),
    (timedelta(), "0 seconds"),
    (90, "1 minute 30 seconds"),
    (604800.0, "7 days"),
    (1.9, "1 second"),
    (0, "0 seconds"),
])
def test_span_in_words(period, words):
    assert span(period) == words
