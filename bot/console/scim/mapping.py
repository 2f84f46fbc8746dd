"""Between SCIM 2.0 JSON (RFC 7643) and the bot's ConsoleUser: users, filters and their quoting, and the
bodies of a change."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from scim2_models import Context, PatchOp, PatchOperation, User

from bot.domain.directory import ConsoleUser, UserStatus
from bot.errors import ConsoleError, ConsoleRejected


def user_from_scim(raw: dict[str, Any]) -> ConsoleUser:
    """Map a SCIM User to a ConsoleUser, tolerating attributes and extensions the bot does not use."""
    user_id, username = text(raw.get("id")), text(raw.get("userName"))
    if not user_id or not username:
        raise ConsoleError("the SCIM provider returned a user without an id or a userName")
    name = raw.get("name") if isinstance(raw.get("name"), dict) else {}
    first, last = text(name.get("givenName")), text(name.get("familyName"))
    if not first and not last:
        first = text(name.get("formatted")) or text(raw.get("displayName"))
    addresses = emails(raw)
    extra = {"externalId": text(raw.get("externalId"))} if raw.get("externalId") else {}
    return ConsoleUser(
        id=user_id,
        username=username,
        email=addresses[0] if addresses else "",
        first_name=first,
        last_name=last,
        status=UserStatus.INACTIVE if is_false(raw.get("active")) else UserStatus.ACTIVE,
        extra=extra,
    )


def user_path(user_id: str) -> str:
    """The user's path below the SCIM root, the id quoted as one segment."""
    if not user_id:
        raise ConsoleRejected("no user id given")
    return f"Users/{quote(user_id, safe='')}"


def quoted(value: str) -> str:
    """A SCIM filter string literal (a JSON string: `"` and `\\` escaped)."""
    return json.dumps(value, ensure_ascii=False)


def text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def is_false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


def emails(raw: dict[str, Any]) -> list[str]:
    """The user's email addresses, the primary one first."""
    entries = [entry for entry in raw.get("emails") or [] if isinstance(entry, dict) and text(entry.get("value"))]
    entries.sort(key=lambda entry: not (entry.get("primary") is True or entry.get("primary") == "true"))
    return [text(entry["value"]) for entry in entries]


def searchable(raw: dict[str, Any]) -> list[str]:
    """The texts a search matches: username, every email, the names."""
    name = raw.get("name") if isinstance(raw.get("name"), dict) else {}
    full = f"{text(name.get('givenName'))} {text(name.get('familyName'))}".strip()
    return [text(raw.get("userName")), *emails(raw), full, text(name.get("formatted")), text(raw.get("displayName"))]


def version(raw: dict[str, Any]) -> str | None:
    """The record's version (its ETag), from meta.version."""
    meta = raw.get("meta")
    return (text(meta.get("version")) or None) if isinstance(meta, dict) else None


def patch_body(attribute: str, value: Any) -> dict[str, Any]:
    """A PatchOp replacing one attribute."""
    operation = PatchOperation[User](op=PatchOperation.Op.replace_, path=attribute, value=value)
    return PatchOp[User](operations=[operation]).model_dump(scim_ctx=Context.RESOURCE_PATCH_REQUEST)


def replacement(current: dict[str, Any], attribute: str, value: Any) -> dict[str, Any]:
    """The whole user for a PUT: everything the provider gave (so what the bot does not know is kept), one
    attribute changed, the server's meta left out."""
    body = {key: item for key, item in current.items() if key != "meta"}
    body[attribute] = value
    return body
