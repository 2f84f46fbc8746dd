"""Between 8x8's user objects (user-api-v1.yaml) and the bot's ConsoleUser."""

from __future__ import annotations

import copy
from typing import Any

from bot.domain.directory import ConsoleUser, Device, Extension, ExtensionType, UserStatus

# Fields the server owns: never sent back in a PUT.
READ_ONLY_BASIC_INFO = ("userId", "createdTime", "lastUpdatedTime")


def user_from_api(raw: dict[str, Any]) -> ConsoleUser:
    """Return the ConsoleUser for an 8x8 User object."""
    basic = raw.get("basicInfo") or {}
    service = raw.get("serviceInfo") or {}
    assignment = raw.get("assignmentInfo") or {}
    licenses = tuple(lic.get("name") or lic.get("id") or "license" for lic in service.get("licenses") or ())
    return ConsoleUser(
        id=basic.get("userId") or "",
        username=basic.get("userName") or "",
        email=basic.get("primaryEmail") or "",
        first_name=basic.get("firstName") or "",
        last_name=basic.get("lastName") or "",
        status=UserStatus.INACTIVE if basic.get("status") == "INACTIVE" else UserStatus.ACTIVE,
        licenses=licenses,
        extensions=tuple(_extension(ext) for ext in service.get("extensions") or ()),
        call_queues=_names(assignment.get("ucCallQueues")),
        ring_groups=_names(assignment.get("ringGroups")),
        site=((basic.get("site") or {}).get("name")) or "",
    )


def _extension(raw: dict[str, Any]) -> Extension:
    kind = ExtensionType.CC if raw.get("extensionType") == "CC" else ExtensionType.UC
    numbers = tuple(number["phoneNumber"] for number in raw.get("phoneNumbers") or () if number.get("phoneNumber"))
    devices = tuple(Device(id=device.get("id") or "", model=device.get("model") or "device",
                           status=device.get("status") or "ACTIVE")
                    for device in raw.get("devices") or ())
    return Extension(number=raw.get("extensionNumber") or raw.get("fqExtensionNumber") or "", type=kind,
                     phone_numbers=numbers, devices=devices)


def _names(items: list[dict[str, Any]] | None) -> tuple[str, ...]:
    return tuple(item.get("name") or item.get("id") or "" for item in items or ())


def writable_copy(raw: dict[str, Any]) -> dict[str, Any]:
    """Return a deep copy of a user object fit to PUT back: the server-owned fields removed."""
    body = copy.deepcopy(raw)
    basic = body.get("basicInfo") or {}
    for key in READ_ONLY_BASIC_INFO:
        basic.pop(key, None)
    return body


def without_licenses(raw: dict[str, Any]) -> dict[str, Any]:
    """Return the user with every license and the extensions holding numbers removed (the vendor's sample)."""
    body = writable_copy(raw)
    service = body.setdefault("serviceInfo", {})
    service["licenses"] = []
    service["extensions"] = []
    return body


def with_status(raw: dict[str, Any], status: UserStatus) -> dict[str, Any]:
    body = writable_copy(raw)
    body["basicInfo"]["status"] = status.value
    return body


def with_username(raw: dict[str, Any], username: str) -> dict[str, Any]:
    body = writable_copy(raw)
    body["basicInfo"]["userName"] = username
    return body


def rsql_equals(field: str, value: str) -> str:
    """Return an RSQL `field=="value"` with the value quoted and escaped."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{field}=="{escaped}"'
