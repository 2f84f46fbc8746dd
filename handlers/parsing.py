"""Read what an admin typed after /offboard, or filled in the form, into a Command.

Text that cannot be understood raises BadCommand with a `problem` code (and `field` for the form's inputs);
bot/slack/messages says each problem in words, with the usage of the verb."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from bot.domain.commands import MAX_REASON, TYPED_VERBS, Command, UserRef, Verb, nearest
from bot.domain.lifecycle import Action
from bot.domain.schedule import GRACE_FIELD, RETAIN_FIELD, check_stages, check_when, parse_period
from bot.errors import BadCommand

_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_MAILTO = re.compile(r"^<mailto:([^|>]+)(?:\|[^>]*)?>$")
_LINK = re.compile(r"^<([^|>]+)\|([^>]*)>$")
_REQUEST_ID = re.compile(r"^[A-Z]{2}-[A-Z0-9]{6,12}$", re.IGNORECASE)
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})  # Slack's smart quotes
OPTIONS = ("--reason", "--at", "--grace", "--retain")


def parse_command(text: str) -> Command:
    """Return the command written in text; raise BadCommand when it is malformed."""
    words = _split(text)
    if not words:
        return Command(verb=Verb.MODAL)
    head, *rest = words
    try:
        verb = Verb(head.lower())
    except ValueError:
        raise BadCommand("unknown_verb", word=head, nearest=nearest(head, TYPED_VERBS)) from None
    if verb is Verb.MODAL:
        raise BadCommand("unknown_verb", word=head, nearest=None)
    positional, options = _options(rest, verb)
    return _build(verb, positional, options)


def _split(text: str) -> list[str]:
    return [_unescape(word) for word in text.translate(_QUOTES).split()]


def _unescape(word: str) -> str:
    """Undo Slack's escaping of typed &, < and > (mentions and links stay in their <...> form)."""
    if word.startswith("<") and word.endswith(">"):
        return word
    return word.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _options(words: list[str], verb: Verb) -> tuple[list[str], dict[str, str]]:
    positional: list[str] = []
    options: dict[str, str] = {}
    index = 0
    while index < len(words):
        word = words[index]
        if not word.startswith("--"):
            positional.append(word)
            index += 1
            continue
        name = word.lower()
        if name not in OPTIONS:
            raise BadCommand("unknown_option", word=word, verb=verb.value, nearest=nearest(word, OPTIONS))
        value_words = []
        index += 1
        while index < len(words) and not words[index].startswith("--"):
            value_words.append(words[index])
            index += 1
        value = _unquote(" ".join(value_words))
        if not value:
            raise BadCommand("option_needs_value", option=name, verb=verb.value)
        if name in options:
            raise BadCommand("option_twice", option=name)
        options[name] = value
    return positional, options


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1].strip()
    return value.strip()


def _build(verb: Verb, positional: list[str], options: dict[str, str]) -> Command:
    reason = options.get("--reason", "")
    if len(reason) > MAX_REASON:
        raise BadCommand("reason_too_long", length=len(reason), limit=MAX_REASON)
    if verb in (Verb.HELP, Verb.LIST):
        if positional or options:
            raise BadCommand("takes_nothing", verb=verb.value)
        return Command(verb=verb)
    if verb in (Verb.STATUS, Verb.CANCEL):
        if len(positional) != 1 or options:
            raise BadCommand("name_one_request", verb=verb.value)
        request_id = positional[0].upper()
        if not _REQUEST_ID.match(request_id):
            raise BadCommand("not_a_request_id", text=positional[0], verb=verb.value)
        return Command(verb=verb, request_id=request_id)
    timing = _timing(verb, options)
    if verb is Verb.RENAME:
        if len(positional) > 2:  # `rename hgarcia "h garcia!"`: a new username with a space in it
            raise BadCommand("new_username_has_spaces", new_username=_unquote(" ".join(positional[1:])),
                             verb=verb.value)
        if len(positional) != 2:
            raise BadCommand("rename_needs_two", verb=verb.value)
        target, new_username = positional
        if parse_user_ref(new_username).slack_user_id:
            raise BadCommand("new_username_is_a_mention", verb=verb.value)
        return Command(verb=verb, targets=(parse_user_ref(target),), new_username=_strip_link(new_username),
                       reason=reason, **timing)
    if not positional:
        raise BadCommand("name_a_user", verb=verb.value)
    targets = tuple(dict.fromkeys(parse_user_ref(word) for word in positional))
    return Command(verb=verb, targets=targets, reason=reason, **timing)


def _timing(verb: Verb, options: dict[str, str]) -> dict:
    """The Command fields set by --at, --grace and --retain, checked as far as can be without a clock."""
    at_text = options.get("--at")
    if at_text is not None:
        check_when(at_text)
    staging = [name for name in ("--grace", "--retain") if name in options]
    if staging and verb is not Verb.DELETE:
        raise BadCommand("staging_only_delete", option=staging[0], verb=verb.value)
    grace = parse_period(options["--grace"], field=GRACE_FIELD) if "--grace" in options else None
    retain = parse_period(options["--retain"], field=RETAIN_FIELD) if "--retain" in options else None
    check_stages(grace, retain)
    return {"at_text": at_text, "grace": grace, "retain": retain}


def command_from_form(*, action: str, users: str, new_username: str, reason: str, at: datetime | None = None,
                      grace: str = "", retain: str = "") -> Command:
    """Return the command described by the /offboard form; BadCommand.field names the faulty input.

    `at` comes from the date-time picker (aware); '' means an input was left empty. Whether `at` is
    in the future is checked by Command.schedule, which knows the time."""
    try:
        verb = Verb(action)
        Action(action)
    except ValueError:
        raise BadCommand("form_choose_action", field="action") from None
    words = users.replace(",", " ").split()
    if not words:
        raise BadCommand("form_name_a_user", field="users")
    if len(reason) > MAX_REASON:
        raise BadCommand("form_reason_too_long", field="reason", limit=MAX_REASON)
    timing = _form_timing(verb, at=at, grace=grace, retain=retain)
    if verb is Verb.RENAME:
        if len(words) != 1:
            raise BadCommand("form_rename_one", field="users")
        if not new_username.strip():
            raise BadCommand("form_give_new_username", field="new_username")
        return Command(verb=verb, targets=(parse_user_ref(words[0]),), new_username=new_username.strip(),
                       reason=reason.strip(), **timing)
    if new_username.strip():
        raise BadCommand("form_new_username_rename_only", field="new_username")
    targets = tuple(dict.fromkeys(parse_user_ref(word) for word in words))
    return Command(verb=verb, targets=targets, reason=reason.strip(), **timing)


def _form_timing(verb: Verb, *, at: datetime | None, grace: str, retain: str) -> dict:
    if at is not None and at.tzinfo is None:
        raise ValueError("the form's run time must be timezone-aware")
    for text, field in ((grace, GRACE_FIELD), (retain, RETAIN_FIELD)):
        if text.strip() and verb is not Verb.DELETE:
            raise BadCommand("form_staging_only_delete", field=field)
    grace_period = parse_period(grace, field=GRACE_FIELD) if grace.strip() else None
    retain_period = parse_period(retain, field=RETAIN_FIELD) if retain.strip() else None
    check_stages(grace_period, retain_period)
    return {"at": at.astimezone(UTC) if at else None, "grace": grace_period, "retain": retain_period}


def parse_user_ref(word: str) -> UserRef:
    """Return the user reference written as a mention, a mailto link, an email or a username."""
    mention = _MENTION.match(word)
    if mention:
        return UserRef(text=word, slack_user_id=mention.group(1))
    return UserRef(text=_strip_link(word).lower())


def _strip_link(word: str) -> str:
    mailto = _MAILTO.match(word)
    if mailto:
        return mailto.group(1)
    link = _LINK.match(word)
    if link:
        return link.group(2) or link.group(1)
    return word
