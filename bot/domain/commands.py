"""Parse the text typed after /offboard into a command, or explain why it cannot be parsed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from bot.domain.lifecycle import Action
from bot.domain.schedule import (
    GRACE_FIELD,
    RETAIN_FIELD,
    Schedule,
    check_run_at,
    check_stages,
    check_when,
    parse_period,
    resolve_when,
)
from bot.domain.text import quote
from bot.errors import BadCommand

MAX_REASON = 3000
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_MAILTO = re.compile(r"^<mailto:([^|>]+)(?:\|[^>]*)?>$")
_LINK = re.compile(r"^<([^|>]+)\|([^>]*)>$")
_REQUEST_ID = re.compile(r"^[A-Z]{2}-[A-Z0-9]{6,12}$", re.IGNORECASE)
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})  # Slack's smart quotes


class Verb(StrEnum):
    DELETE = "delete"
    DEACTIVATE = "deactivate"
    REACTIVATE = "reactivate"
    RENAME = "rename"
    STATUS = "status"
    LIST = "list"
    CANCEL = "cancel"
    HELP = "help"
    MODAL = "modal"


@dataclass(frozen=True)
class UserRef:
    """A user as typed: a Slack mention (resolved through the member's email) or a username/email; or, for a
    retry, the very console profile an earlier request named (`console_id`; `text` is its username then)."""

    text: str
    slack_user_id: str | None = None
    console_id: str | None = None

    def __str__(self) -> str:
        return f"<@{self.slack_user_id}>" if self.slack_user_id else self.text


@dataclass(frozen=True)
class Command:
    """What was asked. A typed `--at` stays text (`at_text`) until the requester's time zone is known;
    the form's date-time picker gives an absolute `at`. `grace`/`retain` make a delete staged."""

    verb: Verb
    targets: tuple[UserRef, ...] = ()
    new_username: str | None = None
    reason: str = ""
    request_id: str | None = None
    at_text: str | None = None
    at: datetime | None = None
    grace: timedelta | None = None
    retain: timedelta | None = None

    @property
    def action(self) -> Action:
        return Action(self.verb.value)

    def schedule(self, *, tz: str, now: datetime) -> Schedule:
        """Return when and in what stages this runs, `--at` read in tz (IANA name; unknown means UTC);
        raise BadCommand when the run time is unreadable, not in the future or more than a year away."""
        run_at = None
        if self.at_text is not None:
            run_at = resolve_when(self.at_text, tz=tz, now=now)
        elif self.at is not None:
            run_at = check_run_at(self.at, now=now)
        return Schedule(run_at=run_at, grace=self.grace, retain=self.retain)


USAGE = {
    Verb.DELETE: "delete <user> [<user> ...] [--reason TEXT] [--at WHEN] [--grace 7d] [--retain 30d]",
    Verb.DEACTIVATE: "deactivate <user> [<user> ...] [--reason TEXT] [--at WHEN]",
    Verb.REACTIVATE: "reactivate <user> [<user> ...] [--reason TEXT] [--at WHEN]",
    Verb.RENAME: "rename <user> <new-username> [--reason TEXT] [--at WHEN]",
    Verb.STATUS: "status <request-id>",
    Verb.LIST: "list",
    Verb.CANCEL: "cancel <request-id>",
    Verb.HELP: "help",
}
_OPTIONS = {"--reason", "--at", "--grace", "--retain"}


def parse_command(text: str) -> Command:
    """Return the command written in text; raise BadCommand with the usage when it is malformed."""
    words = _split(text)
    if not words:
        return Command(verb=Verb.MODAL)
    head, *rest = words
    try:
        verb = Verb(head.lower())
    except ValueError:
        raise BadCommand(f"I don't know {quote(head, 40)}. Try `/offboard help`.") from None
    if verb is Verb.MODAL:
        raise BadCommand(f"I don't know {quote(head, 40)}. Try `/offboard help`.")
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
        if word.startswith("--"):
            name = word.lower()
            if name not in _OPTIONS:
                raise BadCommand(f"unknown option {quote(word, 40)}. Usage: `/offboard {USAGE[verb]}`")
            value_words = []
            index += 1
            while index < len(words) and not words[index].startswith("--"):
                value_words.append(words[index])
                index += 1
            value = _unquote(" ".join(value_words))
            if not value:
                raise BadCommand(f"`{name}` needs a value. Usage: `/offboard {USAGE[verb]}`")
            if name in options:
                raise BadCommand(f"`{name}` was given twice")
            options[name] = value
            continue
        positional.append(word)
        index += 1
    return positional, options


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1].strip()
    return value.strip()


def _build(verb: Verb, positional: list[str], options: dict[str, str]) -> Command:
    usage = f"Usage: `/offboard {USAGE[verb]}`"
    reason = options.get("--reason", "")
    if len(reason) > MAX_REASON:
        raise BadCommand(f"the reason is {len(reason)} characters long; keep it under {MAX_REASON}")
    if verb in (Verb.HELP, Verb.LIST):
        if positional or options:
            raise BadCommand(f"`{verb.value}` takes nothing after it. {usage}")
        return Command(verb=verb)
    if verb in (Verb.STATUS, Verb.CANCEL):
        if len(positional) != 1 or options:
            raise BadCommand(f"name one request. {usage}")
        request_id = positional[0].upper()
        if not _REQUEST_ID.match(request_id):
            raise BadCommand(f"{quote(positional[0], 40)} is not a request id (they look like OB-7K2M4Q9A). {usage}")
        return Command(verb=verb, request_id=request_id)
    timing = _timing(verb, options, usage)
    if verb is Verb.RENAME:
        if len(positional) != 2:
            raise BadCommand(f"name the user and the new username. {usage}")
        target, new_username = positional
        if parse_user_ref(new_username).slack_user_id:
            raise BadCommand(f"the new username must be text, not a mention. {usage}")
        return Command(verb=verb, targets=(parse_user_ref(target),), new_username=_strip_link(new_username),
                       reason=reason, **timing)
    if not positional:
        raise BadCommand(f"name at least one user. {usage}")
    targets = tuple(dict.fromkeys(parse_user_ref(word) for word in positional))
    return Command(verb=verb, targets=targets, reason=reason, **timing)


def _timing(verb: Verb, options: dict[str, str], usage: str) -> dict:
    """The Command fields set by --at, --grace and --retain, checked as far as can be without a clock."""
    at_text = options.get("--at")
    if at_text is not None:
        check_when(at_text)
    staging = [name for name in ("--grace", "--retain") if name in options]
    if staging and verb is not Verb.DELETE:
        raise BadCommand(f"`{staging[0]}` only goes with delete (a staged delete). {usage}")
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
        raise BadCommand("Choose an action.", field="action") from None
    words = users.replace(",", " ").split()
    if not words:
        raise BadCommand("Name at least one user.", field="users")
    if len(reason) > MAX_REASON:
        raise BadCommand(f"Keep the reason under {MAX_REASON} characters.", field="reason")
    timing = _form_timing(verb, at=at, grace=grace, retain=retain)
    if verb is Verb.RENAME:
        if len(words) != 1:
            raise BadCommand("Rename one user at a time.", field="users")
        if not new_username.strip():
            raise BadCommand("Give the new username.", field="new_username")
        return Command(verb=verb, targets=(parse_user_ref(words[0]),), new_username=new_username.strip(),
                       reason=reason.strip(), **timing)
    if new_username.strip():
        raise BadCommand("A new username only goes with Rename.", field="new_username")
    targets = tuple(dict.fromkeys(parse_user_ref(word) for word in words))
    return Command(verb=verb, targets=targets, reason=reason.strip(), **timing)


def _form_timing(verb: Verb, *, at: datetime | None, grace: str, retain: str) -> dict:
    if at is not None and at.tzinfo is None:
        raise ValueError("the form's run time must be timezone-aware")
    for text, field in ((grace, GRACE_FIELD), (retain, RETAIN_FIELD)):
        if text.strip() and verb is not Verb.DELETE:
            raise BadCommand("Staged periods only go with Delete.", field=field)
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


