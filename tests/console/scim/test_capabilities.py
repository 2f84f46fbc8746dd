"""Reading what a SCIM provider announces in its ServiceProviderConfig."""

from __future__ import annotations

from bot.console.scim.capabilities import UNANNOUNCED, Capabilities, announced


def test_the_announced_capabilities_are_read():
    body = {"patch": {"supported": True}, "etag": {"supported": True}, "filter": {"supported": False,
                                                                                "maxResults": 100},
            "sort": {"supported": False}, "bulk": {"supported": False}}
    assert announced(body) == Capabilities(patch=True, etag=True, filter=False, sort=False, announced=True)


def test_what_is_not_announced_is_not_supported():
    assert announced({}) == Capabilities(patch=False, etag=False, filter=False, sort=False, announced=True)


def test_an_unreadable_config_is_none():
    assert announced(None) is None
    assert announced({"patch": {"supported": "perhaps"}}) is None


def test_without_a_config_patch_and_filters_are_tried_and_etags_never_sent():
    assert (UNANNOUNCED.patch, UNANNOUNCED.filter, UNANNOUNCED.etag, UNANNOUNCED.announced) == (True, True, False,
                                                                                              False)
