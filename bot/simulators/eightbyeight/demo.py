"""The demo directory as 8x8 users: the local console's demo users (bot/console/demo_data.py), with the same ids,
extensions, numbers, desk phones, queues and ring groups, so that `offboard-bot shell --console 8x8` shows the
same people as the local console.

The fake itself imports nothing from the bot; this module is the bridge from the bot's demo data to 8x8's
User objects.
"""

from __future__ import annotations

from bot.console.demo_data import DEMO_USERS
from bot.domain.directory import ConsoleUser
from bot.simulators.eightbyeight.fake import FakeEightByEight
from bot.simulators.eightbyeight.users import make_user


def as_8x8_user(user: ConsoleUser) -> dict:
    """The 8x8 User object for a demo user. 8x8 wants a first and a last name of two characters or more: a
    profile without (the demo's room) is named after its username ("room.boardroom": Boardroom Room)."""
    extensions = [
        {"extensionNumber": extension.number, "extensionType": extension.type.value,
         "phoneNumbers": list(extension.phone_numbers),
         "devices": [{"id": device.id, "model": device.model, "status": device.status} for device in extension.devices]}
        for extension in user.extensions
    ]
    words = user.username.split(".")
    record = make_user(user.username, user.email, first_name=user.first_name or words[-1].capitalize(),
                       last_name=user.last_name or words[0].capitalize(), status=user.status.value,
                       licenses=user.licenses, extensions=extensions, ring_groups=user.ring_groups,
                       call_queues=user.call_queues, site=user.site)
    record["basicInfo"]["userId"] = user.id
    return record


def seed_demo_users(fake: FakeEightByEight) -> FakeEightByEight:
    """Add every demo user to the fake (an empty one: their usernames and ids must be free)."""
    for user in DEMO_USERS:
        fake.add_user(as_8x8_user(user))
    return fake
