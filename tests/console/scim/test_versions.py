"""What the SCIM console remembers of each user it read."""

from __future__ import annotations

from bot.console.scim.versions import Versions


def test_a_read_is_remembered_and_a_write_moves_the_version_on():
    versions = Versions()
    assert versions.label("42") == "id 42" and versions.version("42") is None
    user = versions.remember({"id": "42", "userName": "jdoe", "meta": {"version": "v1"}})
    assert user.username == "jdoe"
    assert (versions.version("42"), versions.label("42")) == ("v1", "jdoe (id 42)")
    versions.written("42", version="v2", username=None)
    assert (versions.version("42"), versions.label("42")) == ("v2", "jdoe (id 42)")
    versions.written("42", version=None, username="jdoe.old")
    assert (versions.version("42"), versions.label("42")) == (None, "jdoe.old (id 42)")


def test_forgetting_keeps_the_name_for_messages():
    versions = Versions()
    versions.remember({"id": "7", "userName": "msmith", "meta": {"version": "v9"}})
    versions.forget("7")
    versions.forget("never-read")
    assert (versions.version("7"), versions.label("7")) == (None, "msmith (id 7)")
    assert versions.label("never-read") == "id never-read"
