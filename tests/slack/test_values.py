"""What travels through Slack (button values, private_metadata): ids only, typed, and nothing else accepted."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.errors import BadCommand
from bot.slack.messages.refusals import refusal_text
from bot.slack.values import ModalOrigin, RequestRef


def test_a_request_reference_reads_back_what_it_wrote():
    ref = RequestRef(r="OB-7K2M4Q9A")
    assert ref.dump() == '{"r":"OB-7K2M4Q9A"}'
    assert RequestRef.load(ref.dump()) == ref


@pytest.mark.parametrize("value", [None, "", "OB-7K2M4Q9A", '{"r": "ob-7k2m4q9a"}', '{"r": "OB-12345"}', "[1]",
                                   '{"r": "OB-7K2M4Q9A", "u": "U0BOB"}'])  # never who is acting
def test_a_button_value_the_bot_did_not_write_is_refused(value):
    with pytest.raises(BadCommand) as raised:
        RequestRef.load(value)
    assert raised.value.problem == "not_our_button"
    assert refusal_text(raised.value) == "That button does not belong to a request I know."


def test_a_reference_names_only_a_request():
    with pytest.raises(ValidationError):
        RequestRef(r="DROP TABLE")


def test_where_the_form_was_opened_reads_back():
    origin = ModalOrigin(channel="C0GENERAL")
    assert ModalOrigin.load(origin.dump()) == origin
    assert ModalOrigin.load(None) == ModalOrigin() == ModalOrigin.load("")


@pytest.mark.parametrize("text", ['{"channel": "not a channel"}', '{"channel": "C0GENERAL", "x": 1}', "nonsense"])
def test_a_form_origin_that_cannot_be_read_is_nowhere(text):
    assert ModalOrigin.load(text) == ModalOrigin()
    assert ModalOrigin.load(text).channel is None
