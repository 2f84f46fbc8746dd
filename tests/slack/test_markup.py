"""Slack's markup as pure functions: outside text made inert, people, channels and moments named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.slack.markup import channel, escape, mention, one_line, plain, quote, utc, when


def test_escape_makes_mentions_broadcasts_and_links_inert():
    assert escape("<!channel> <@U0BOB> <https://evil.example|click>") == (
        "&lt;!channel&gt; &lt;@U0BOB&gt; &lt;https://evil.example|click&gt;")


def test_escape_turns_the_ampersand_first_so_nothing_is_escaped_twice():
    assert escape("a & b") == "a &amp; b"
    assert escape("&lt;") == "&amp;lt;"
    assert escape("plain text") == "plain text"


@pytest.mark.parametrize("brk", ["\n", "\r\n", "\r", "\v", "\f", "\x1c", "\x85", "\u2028", "\u2029", "\x00", "\t",
                                 "\u200b", "\u202e", "\u2066", "\ufeff"])
def test_one_line_turns_every_line_break_control_and_format_character_into_one_space(brk):
    assert one_line(f"Maria{brk}2. Nothing") == "Maria 2. Nothing"
    assert one_line(f"{brk} a {brk}{brk} b {brk}") == "a b"


def test_plain_keeps_console_text_on_one_line():
    text = plain("Maria\n2. Nothing else happens\u2028> quoted\u2029done")
    assert text == "Maria 2. Nothing else happens &gt; quoted done"
    assert len(text.splitlines()) == 1


def test_plain_leaves_no_formatting_character_to_pair():
    text = plain("*bold* _italic_ ~struck~ `code` ```block```")
    assert not set("*~`") & set(text)
    assert "_" not in text
    assert text == ("\u2217bold\u2217 \u02cditalic\u02cd \u223cstruck\u223c \u02cbcode\u02cb "
                    "\u02cb\u02cb\u02cbblock\u02cb\u02cb\u02cb")


def test_plain_keeps_an_underscore_inside_a_word_so_usernames_and_emails_stay_exact():
    assert plain("j_doe") == "j_doe"
    assert plain("jane_doe@example.com") == "jane_doe@example.com"
    assert plain("_jdoe_ a_ _b __init__") == "\u02cdjdoe\u02cd a\u02cd \u02cdb \u02cd\u02cdinit\u02cd\u02cd"
    assert plain("a\u00e9_b") == "a\u00e9\u02cdb"  # only ASCII letters and digits make a word here


def test_plain_makes_mentions_links_and_entities_inert():
    assert plain("<!channel> <@U0BOB> <https://evil.example|click>") == (
        "&lt;!channel&gt; &lt;@U0BOB&gt; &lt;https://evil.example|click&gt;")
    assert plain("&lt;@U0BOB&gt; &amp;") == "&amp;lt;@U0BOB&amp;gt; &amp;amp;"


def test_plain_text_never_opens_a_quote_wherever_it_is_put():
    assert plain("> quoted") == "\u203a quoted"
    assert plain("\n  >> quoted") == "\u203a&gt; quoted"
    assert plain("a > b") == "a &gt; b"


def test_plain_leaves_ordinary_text_as_it_is():
    for text in ("Maria Garcia", "X Series X4", "+14155550101", "Poly VVX 450", "Support Tier 1 (EMEA)", "O'Brien",
                 "Zoë Ünal", "jdoe.old", ""):
        assert plain(text) == text


def test_quote_is_an_inline_code_span_on_one_line():
    assert quote("jdoe") == "`jdoe`"
    assert quote("two\nlines") == "`two lines`"
    assert quote("two\u2028lines\u202e") == "`two lines`"
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
