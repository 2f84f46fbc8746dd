"""SCIM JSON to the bot's users, filters and their quoting, and the bodies of a change."""

from __future__ import annotations

import json

import pytest

from bot.console.scim import mapping
from bot.domain.directory import UserStatus
from bot.errors import ConsoleError, ConsoleRejected


def test_a_scim_user_becomes_a_console_user():
    user = mapping.user_from_scim({
        "id": " 42 ", "userName": "jdoe", "active": "false", "externalId": "hr-7",
        "name": {"givenName": "John", "familyName": "Doe"},
        "emails": [{"value": "john@corp.local"}, {"value": "jdoe@example.com", "primary": True}, {"value": ""}],
    })
    assert (user.id, user.username, user.email, user.first_name, user.last_name) == (
        "42", "jdoe", "jdoe@example.com", "John", "Doe")
    assert user.status is UserStatus.INACTIVE
    assert user.extra == {"externalId": "hr-7"}


def test_a_user_without_names_falls_back_to_the_display_name():
    user = mapping.user_from_scim({"id": "1", "userName": "svc", "displayName": "Service Account"})
    assert (user.first_name, user.last_name, user.email) == ("Service Account", "", "")
    assert user.status is UserStatus.ACTIVE


def test_a_user_without_an_id_or_a_username_is_an_error():
    with pytest.raises(ConsoleError, match="without an id or a userName"):
        mapping.user_from_scim({"userName": "jdoe"})


def test_filter_values_are_json_string_literals():
    assert mapping.quoted('o"neil\\x') == '"o\\"neil\\\\x"'
    assert json.loads(mapping.quoted("Zoë")) == "Zoë"


def test_user_paths_are_one_quoted_segment():
    assert mapping.user_path("../Users") == "Users/..%2FUsers"
    with pytest.raises(ConsoleRejected, match="no user id"):
        mapping.user_path("")


def test_the_version_comes_from_meta():
    assert mapping.version({"meta": {"version": 'W/"3"'}}) == 'W/"3"'
    assert mapping.version({"meta": "nonsense"}) is None and mapping.version({}) is None


def test_a_put_sends_back_everything_but_meta():
    current = {"id": "1", "userName": "jdoe", "meta": {"version": "1"}, "urn:ext": {"employeeNumber": "42"}}
    assert mapping.replacement(current, "active", False) == {"id": "1", "userName": "jdoe",
                                                             "urn:ext": {"employeeNumber": "42"}, "active": False}
    assert "meta" in current


def test_a_patch_replaces_one_attribute():
    body = mapping.patch_body("active", False)
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]
    assert body["Operations"] == [{"op": "replace", "path": "active", "value": False}]
