"""The demo workspace: members and channels that the shell, the docs and the tests rely on."""

from __future__ import annotations

from dataclasses import dataclass

from bot.simulators.slack.fake import FakeSlack


@dataclass(frozen=True)
class DemoMember:
    user_id: str
    name: str
    email: str
    role: str


DEMO_MEMBERS = (
    DemoMember("U0ALICE", "alice", "alice@example.com", "primary admin"),
    DemoMember("U0BOB", "bob", "bob@example.com", "secondary admin"),
    DemoMember("U0DANA", "dana", "dana@example.com", "secondary admin"),
    DemoMember("U0CAROL", "carol", "carol@example.com", "not an admin"),
    DemoMember("U0JDOE", "jdoe", "jdoe@example.com", "not an admin; the demo user to offboard"),
)
DEMO_CHANNELS = (("C0GENERAL", "general"), ("C0APPROVALS", "approvals"), ("C0RESULTS", "results"))
HOME_CHANNEL = "C0GENERAL"


def populate(fake: FakeSlack) -> None:
    """Add the demo members and channels to a fake workspace."""
    for member in DEMO_MEMBERS:
        fake.add_member(member.user_id, member.name, member.email, real_name=member.name.capitalize())
    for channel_id, name in DEMO_CHANNELS:
        fake.add_channel(channel_id, name)
