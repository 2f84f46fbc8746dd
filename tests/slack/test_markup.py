"""Slack's markup as pure functions: outside text made inert, people, channels and moments named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from bot.slack.markup import channel, escape, mention, quote, utc, when


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
