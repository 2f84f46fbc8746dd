"""The ids the builders and the listeners share (the manifest's side is in tests/test_manifest.py)."""

from __future__ import annotations

from enum import StrEnum

import pytest

from bot.domain.schedule import GRACE_FIELD, RETAIN_FIELD, RUN_AT_FIELD
from bot.slack.ids import COMMAND, ActionId, BlockId, CallbackId


@pytest.mark.parametrize("ids", [ActionId, CallbackId, BlockId])
def test_no_two_names_share_an_id(ids: type[StrEnum]):
    # an Enum makes a repeated value an alias of the first name: two buttons would reach one listener
    assert len(ids.__members__) == len(list(ids))


@pytest.mark.parametrize("ids", [ActionId, CallbackId])
def test_the_ids_slack_sends_back_are_the_bots_own(ids: type[StrEnum]):
    assert all(member.value.startswith("offboard_") for member in ids)


def test_the_form_names_its_inputs_as_the_domain_names_faulty_fields():
    assert [BlockId.RUN_AT.value, BlockId.GRACE.value, BlockId.RETAIN.value] == [RUN_AT_FIELD, GRACE_FIELD,
                                                                                 RETAIN_FIELD]
    assert COMMAND == "/offboard"
