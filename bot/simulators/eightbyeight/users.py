"""8x8 User objects: `make_user` builds a spec-conformant one for a test (or the demo) to add, and
`validate_user` finds what the real service refuses in a PUT body."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from bot.simulators.eightbyeight.model import CUSTOMER_ID, new_id, stable_id

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9.@\-_/]+$")
PERSON_NAME_PATTERN = re.compile(r"^[A-Za-z0-9.,\-_()' ]+$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def make_user(username: str, email: str, *, first_name: str = "Test", last_name: str = "User",
              status: str = "ACTIVE", licenses: Iterable[str] = (), extensions: Iterable[dict] = (),
              ring_groups: Iterable[str] = (), call_queues: Iterable[str] = (), site: str = "Headquarters") -> dict:
    """A spec-conformant User object (without ``basicInfo.userId``: ``add_user`` assigns one).

    ``licenses`` are names, each given an id. ``extensions`` are dicts such as
    ``{"extensionNumber": "1001", "extensionType": "UC", "phoneNumbers": ["+14085551234"],
    "devices": [{"model": "Yealink T54W", "status": "ACTIVE"}]}``; phone numbers become PhoneNumber
    objects (the first is primary), devices get ids, and ``licenseId`` links the extension to the
    license named by an optional ``"license"`` key, else to the license in the same position, else
    to the first one. Other keys are passed through unchanged.
    """
    license_list = [{"id": new_id(), "name": name, "country": "US"} for name in licenses]
    extension_list = [_extension(index, dict(spec), license_list) for index, spec in enumerate(extensions)]
    return {
        "basicInfo": {
            "customerId": CUSTOMER_ID,
            "userName": username,
            "firstName": first_name,
            "lastName": last_name,
            "status": status,
            "locale": "en-US",
            "timezone": "America/Los_Angeles",
            "primaryEmail": email,
            "site": {"id": stable_id("site", site), "name": site, "pbxName": "fakepbx01"},
        },
        "directoryInfo": {"displayInDirectory": True, "directoryScope": "CUSTOMER"},
        "serviceInfo": {"licenses": license_list, "extensions": extension_list},
        "assignmentInfo": {
            "ringGroups": [{"id": stable_id("ring-group", name), "name": name} for name in ring_groups],
            "ucCallQueues": [
                {"id": stable_id("call-queue", name), "name": name, "memberType": "PRIMARY"} for name in call_queues
            ],
            "userGroups": [],
        },
    }


def _extension(index: int, spec: dict, license_list: list[dict]) -> dict[str, Any]:
    """An Extension object from make_user's short form (see make_user); `spec` is consumed."""
    license_name = spec.pop("license", None)
    numbers = [
        number if isinstance(number, dict)
        else {"phoneNumber": number, "primary": position == 0, "country": "US", "origin": "CLAIMED"}
        for position, number in enumerate(spec.pop("phoneNumbers", []))
    ]
    devices = [
        {"id": new_id(), "lines": 1, "port": 0, "status": "ACTIVE", **device}
        for device in spec.pop("devices", [])
    ]
    extension: dict[str, Any] = {
        "id": new_id(),
        "extensionNumber": spec.pop("extensionNumber", str(1000 + index)),
        "extensionType": spec.pop("extensionType", "UC"),
        "phoneNumbers": numbers,
        "devices": devices,
    }
    if numbers:
        extension["primaryPhoneNumber"] = numbers[0]["phoneNumber"]
    if license_list:
        by_name = [item for item in license_list if item["name"] == license_name]
        linked = by_name[0] if by_name else license_list[min(index, len(license_list) - 1)]
        extension["licenseId"] = linked["id"]
    extension.update(spec)
    return extension


def validate_user(payload: Any) -> list[dict]:
    """Field errors the real service reports for a User body (an empty list when it is acceptable)."""
    def problem(field_name: str, message: str) -> dict:
        return {"code": "VALIDATION_ERROR", "field": field_name, "message": message}

    if not isinstance(payload, dict):
        return [{"code": "VALIDATION_ERROR", "message": "Request body must be a User object"}]
    info = payload.get("basicInfo")
    if not isinstance(info, dict):
        return [problem("basicInfo", "must not be null")]
    problems = []
    rules = (
        ("userName", 3, 70, USERNAME_PATTERN),
        ("firstName", 2, 128, PERSON_NAME_PATTERN),
        ("lastName", 2, 30, PERSON_NAME_PATTERN),
        ("primaryEmail", 5, 128, EMAIL_PATTERN),
    )
    for name, shortest, longest, pattern in rules:
        value = info.get(name)
        where = f"basicInfo.{name}"
        if not isinstance(value, str) or not value.strip():
            problems.append(problem(where, "must not be blank"))
        elif not shortest <= len(value) <= longest:
            problems.append(problem(where, f"size must be between {shortest} and {longest}"))
        elif not pattern.fullmatch(value):
            problems.append(problem(where, "must be a well-formed email address" if name == "primaryEmail"
                                    else f'must match "{pattern.pattern}"'))
    if info.get("status") not in (None, "ACTIVE", "INACTIVE"):
        problems.append(problem("basicInfo.status", "must be one of ACTIVE, INACTIVE"))
    for section in ("directoryInfo", "serviceInfo", "assignmentInfo"):
        if payload.get(section) is not None and not isinstance(payload[section], dict):
            problems.append(problem(section, "must be an object"))
    service = payload.get("serviceInfo")
    if isinstance(service, dict):
        for name in ("licenses", "extensions"):
            if service.get(name) is not None and not isinstance(service[name], list):
                problems.append(problem(f"serviceInfo.{name}", "must be an array"))
    return problems
