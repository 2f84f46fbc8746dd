"""Parse the text typed after /offboard into a command, or explain why it cannot be parsed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.requests import Action
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
    """A user as typed: a Slack mention (resolved through the member's email) or a username/email."""

    text: str
    slack_user_id: str | None = None

    def __str__(self) -> str:
        return f"<@{self.slack_user_id}>" if self.slack_user_id else self.text


@dataclass(frozen=True)
class Command:
    verb: Verb
    targets: tuple[UserRef, ...] = ()
    new_username: str | None = None
    reason: str = ""
    request_id: str | None = None

    @property
    def action(self) -> Action:
        return Action(self.verb.value)


USAGE = {
    Verb.DELETE: "delete <user> [<user> ...] [--reason TEXT]",
    Verb.DEACTIVATE: "deactivate <user> [<user> ...] [--reason TEXT]",
    Verb.REACTIVATE: "reactivate <user> [<user> ...] [--reason TEXT]",
    Verb.RENAME: "rename <user> <new-username> [--reason TEXT]",
    Verb.STATUS: "status <request-id>",
    Verb.LIST: "list",
    Verb.CANCEL: "cancel <request-id>",
    Verb.HELP: "help",
}
_OPTIONS = {"--reason"}


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
    if verb is Verb.RENAME:
        if len(positional) != 2:
            raise BadCommand(f"name the user and the new username. {usage}")
        target, new_username = positional
        if parse_user_ref(new_username).slack_user_id:
            raise BadCommand(f"the new username must be text, not a mention. {usage}")
        return Command(verb=verb, targets=(parse_user_ref(target),), new_username=_strip_link(new_username),
                       reason=reason)
    if not positional:
        raise BadCommand(f"name at least one user. {usage}")
    targets = tuple(dict.fromkeys(parse_user_ref(word) for word in positional))
    return Command(verb=verb, targets=targets, reason=reason)


def command_from_form(*, action: str, users: str, new_username: str, reason: str) -> Command:
    """Return the command described by the /offboard form; BadCommand.field names the faulty input."""
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
    if verb is Verb.RENAME:
        if len(words) != 1:
            raise BadCommand("Rename one user at a time.", field="users")
        if not new_username.strip():
            raise BadCommand("Give the new username.", field="new_username")
        return Command(verb=verb, targets=(parse_user_ref(words[0]),), new_username=new_username.strip(),
                       reason=reason.strip())
    if new_username.strip():
        raise BadCommand("A new username only goes with Rename.", field="new_username")
    targets = tuple(dict.fromkeys(parse_user_ref(word) for word in words))
    return Command(verb=verb, targets=targets, reason=reason.strip())


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


