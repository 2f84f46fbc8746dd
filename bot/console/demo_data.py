"""The demo directory the local console is seeded with.

Admins: ``alice`` (primary), ``bob`` and ``dana`` (secondary); ``carol`` is a plain user.
Offboarding examples: ``jdoe`` (licensed, UC extension 1001 with +14155550101 and a desk phone,
in a call queue and a ring group) and ``msmith`` (licensed, UC extension plus a Contact Center
extension). The rest cover the edge cases: unlicensed users, an INACTIVE user (``tinactive``),
two devices (``pnguyen``), a CC-only agent (``rlopez``), several ring groups (``kwilliams``),
a look-alike of jdoe (``jane.doe``), a mixed-case username (``NKumar``) and a room profile.
Everything is a constant, so the data is identical on every run.
"""

from __future__ import annotations

from bot.domain.directory import ConsoleUser, Device, Extension, ExtensionType, UserStatus

UC, CC = ExtensionType.UC, ExtensionType.CC
HQ, LONDON, REMOTE = "San Francisco HQ", "London", "Remote"


def _desk(number: str, phone: str, device_id: str, model: str = "Poly VVX 450") -> Extension:
    """A UC extension with one phone number and one desk phone."""
    return Extension(number=number, type=UC, phone_numbers=(phone,), devices=(Device(id=device_id, model=model),))


DEMO_USERS: tuple[ConsoleUser, ...] = (
    ConsoleUser(
        id="u-1000",
        username="alice",
        email="alice@example.com",
        first_name="Alice",
        last_name="Admin",
        licenses=("X Series X4",),
        extensions=(_desk("1000", "+14155550100", "dev-alice-1"),),
        site=HQ,
    ),
    ConsoleUser(
        id="u-1010",
        username="bob",
        email="bob@example.com",
        first_name="Bob",
        last_name="Baker",
        licenses=("X Series X2",),
        extensions=(_desk("1010", "+14155550110", "dev-bob-1"),),
        site=HQ,
    ),
    ConsoleUser(
        id="u-1011",
        username="carol",
        email="carol@example.com",
        first_name="Carol",
        last_name="Clark",
        licenses=("X Series X2",),
        extensions=(_desk("1011", "+14155550111", "dev-carol-1"),),
        ring_groups=("Front Desk",),
        site=HQ,
    ),
    ConsoleUser(
        id="u-1012",
        username="dana",
        email="dana@example.com",
        first_name="Dana",
        last_name="Davis",
        licenses=("X Series X4",),
        extensions=(_desk("1012", "+442071230112", "dev-dana-1"),),
        site=LONDON,
    ),
    ConsoleUser(
        id="u-1001",
        username="jdoe",
        email="jdoe@example.com",
        first_name="John",
        last_name="Doe",
        licenses=("X Series X4",),
        extensions=(_desk("1001", "+14155550101", "dev-jdoe-1"),),
        call_queues=("Support Tier 1",),
        ring_groups=("Support Overflow",),
        site=HQ,
    ),
    ConsoleUser(
        id="u-1002",
        username="msmith",
        email="msmith@example.com",
        first_name="Maria",
        last_name="Smith",
        licenses=("X Series X6", "Contact Center Agent"),
        extensions=(
            _desk("1002", "+14155550102", "dev-msmith-1", model="Yealink T54W"),
            Extension(number="5002", type=CC),
        ),
        call_queues=("Support Tier 1", "Support Tier 2"),
        site=HQ,
    ),
    ConsoleUser(
        id="u-1003",
        username="tinactive",
        email="tinactive@example.com",
        first_name="Tom",
        last_name="Inactive",
        status=UserStatus.INACTIVE,
        extensions=(Extension(number="1003", type=UC),),
        site=REMOTE,
    ),
    ConsoleUser(
        id="u-1004",
        username="pnguyen",
        email="pnguyen@example.com",
        first_name="Priya",
        last_name="Nguyen",
        licenses=("X Series X4",),
        extensions=(
            Extension(
                number="1004",
                type=UC,
                phone_numbers=("+14155550104",),
                devices=(
                    Device(id="dev-pnguyen-1", model="Poly VVX 450"),
                    Device(id="dev-pnguyen-2", model="Yealink W73H"),
                ),
            ),
        ),
        ring_groups=("Front Desk",),
        site=HQ,
    ),
    ConsoleUser(
        id="u-1005",
        username="rlopez",
        email="rlopez@example.com",
        first_name="Rosa",
        last_name="Lopez",
        licenses=("Contact Center Agent",),
        extensions=(Extension(number="5005", type=CC),),
        call_queues=("Billing",),
        site=REMOTE,
    ),
    ConsoleUser(
        id="u-1006",
        username="kwilliams",
        email="kwilliams@example.com",
        first_name="Kevin",
        last_name="Williams",
        licenses=("X Series X4",),
        extensions=(_desk("1006", "+14155550106", "dev-kwilliams-1"),),
        ring_groups=("Front Desk", "Sales East", "Sales West", "After Hours"),
        site=HQ,
    ),
    ConsoleUser(
        id="u-1007",
        username="jane.doe",
        email="jane.doe@example.com",
        first_name="Jane",
        last_name="Doe",
        licenses=("X Series X2",),
        extensions=(_desk("1007", "+14155550107", "dev-jane-doe-1"),),
        site=HQ,
    ),
    ConsoleUser(
        id="u-1008",
        username="lchen",
        email="lchen@example.com",
        first_name="Li",
        last_name="Chen",
        site=REMOTE,
    ),
    ConsoleUser(
        id="u-1009",
        username="hgarcia",
        email="hgarcia@example.com",
        first_name="Hector",
        last_name="Garcia",
        licenses=("X Series X2",),
        extensions=(_desk("1009", "+442071230109", "dev-hgarcia-1"),),
        ring_groups=("Sales East",),
        site=LONDON,
    ),
    ConsoleUser(
        id="u-1013",
        username="NKumar",
        email="nkumar@example.com",
        first_name="Nikhil",
        last_name="Kumar",
        licenses=("X Series X4",),
        extensions=(_desk("1013", "+14155550113", "dev-nkumar-1"),),
        site=HQ,
    ),
    ConsoleUser(
        id="u-1014",
        username="o.brien",
        email="sean.obrien@example.com",
        first_name="Sean",
        last_name="O'Brien",
        extensions=(Extension(number="1014", type=UC, devices=(Device(id="dev-obrien-1", model="Poly VVX 250"),)),),
        site=LONDON,
    ),
    ConsoleUser(
        id="u-1015",
        username="sam.taylor",
        email="sam.taylor@example.com",
        first_name="Sam",
        last_name="Taylor",
        licenses=("X Series X2",),
        extensions=(_desk("1015", "+14155550115", "dev-sam-taylor-1"),),
        call_queues=("Billing",),
        site=REMOTE,
    ),
    ConsoleUser(
        id="u-1016",
        username="samantha",
        email="samantha.ross@example.com",
        first_name="Samantha",
        last_name="Ross",
        site=REMOTE,
    ),
    ConsoleUser(
        id="u-1017",
        username="wbrown",
        email="wbrown@example.com",
        first_name="Wendy",
        last_name="Brown",
        licenses=("X Series X4", "Contact Center Supervisor"),
        extensions=(_desk("1017", "+14155550117", "dev-wbrown-1"), Extension(number="5017", type=CC)),
        call_queues=("Billing", "Support Tier 2"),
        ring_groups=("After Hours",),
        site=HQ,
    ),
    ConsoleUser(
        id="u-1018",
        username="room.boardroom",
        email="boardroom@example.com",
        licenses=("X Series X2",),
        extensions=(_desk("1018", "+14155550118", "dev-boardroom-1", model="Poly Trio 8800"),),
        site=HQ,
    ),
)
