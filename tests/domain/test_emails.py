"""One way to compare email addresses, used by the policy, the admin check, the approvals and the gate."""

import pytest

from bot.domain.emails import normal_email


@pytest.mark.parametrize("written", ["alice@example.com", " alice@example.com ", "ALICE@Example.COM",
                                     "\talice@example.com\n"])
def test_blanks_and_capitals_do_not_make_another_address(written):
    assert normal_email(written) == "alice@example.com"


def test_no_address_is_empty():
    assert normal_email(None) == normal_email("  ") == ""
