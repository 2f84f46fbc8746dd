"""The demo directory on the simulated 8x8 (bot/simulators/eightbyeight/demo.py) is the local console's."""

from __future__ import annotations

from dataclasses import replace

from bot.console.demo_data import DEMO_USERS
from bot.console.eightbyeight.mapping import user_from_api
from bot.simulators.eightbyeight.demo import seed_demo_users
from bot.simulators.eightbyeight.fake import FakeEightByEight
from bot.simulators.eightbyeight.users import validate_user


def test_the_demo_users_read_back_as_the_local_consoles():
    fake = seed_demo_users(FakeEightByEight())
    read_back = {user.id: user for user in map(user_from_api, fake.users())}
    assert set(read_back) == {user.id for user in DEMO_USERS}
    for user in DEMO_USERS:
        if user.first_name:
            assert read_back[user.id] == user
        else:  # 8x8 wants names: the room profile is named after its username
            assert read_back[user.id] == replace(user, first_name="Boardroom", last_name="Room")


def test_every_demo_user_could_be_put_back_as_it_is():
    fake = seed_demo_users(FakeEightByEight())
    assert [validate_user(user) for user in fake.users()] == [[]] * len(DEMO_USERS)
