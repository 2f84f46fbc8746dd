"""What the bot knows about a user in an admin console, whatever the backend."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from enum import StrEnum


class UserStatus(StrEnum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


class ExtensionType(StrEnum):
    UC = "UC"  # unified communications: phone number, desk phone, voicemail
    CC = "CC"  # Contact Center agent


IN_USE_DEVICE_STATUSES = ("ACTIVE", "BINDED", "RESERVED")


@dataclass(frozen=True)
class Device:
    id: str
    model: str
    status: str = "ACTIVE"

    @property
    def in_use(self) -> bool:
        """True for a desk phone that is not inactive already (deleting the user inactivates it)."""
        return self.status in IN_USE_DEVICE_STATUSES


@dataclass(frozen=True)
class Extension:
    number: str
    type: ExtensionType
    phone_numbers: tuple[str, ...] = ()
    devices: tuple[Device, ...] = ()


@dataclass(frozen=True)
class ConsoleUser:
    """A user profile as read from the admin console."""

    id: str
    username: str
    email: str
    first_name: str = ""
    last_name: str = ""
    status: UserStatus = UserStatus.ACTIVE
    licenses: tuple[str, ...] = ()
    extensions: tuple[Extension, ...] = ()
    call_queues: tuple[str, ...] = ()
    ring_groups: tuple[str, ...] = ()
    site: str = ""
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def display_name(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.username

    @property
    def is_contact_center_agent(self) -> bool:
        return any(ext.type is ExtensionType.CC for ext in self.extensions)

    @property
    def devices(self) -> tuple[Device, ...]:
        return tuple(device for ext in self.extensions for device in ext.devices)

    @property
    def phone_numbers(self) -> tuple[str, ...]:
        return tuple(number for ext in self.extensions for number in ext.phone_numbers)

    @property
    def holds_numbers(self) -> bool:
        """True while a license or an extension with a number is still assigned."""
        return bool(self.licenses or self.phone_numbers)

    def fingerprint(self) -> str:
        """A digest of every field an approval depends on; it changes when the record does."""
        material = asdict(self)
        material.pop("extra", None)
        encoded = json.dumps(material, sort_keys=True, default=str).encode()
        return hashlib.sha256(encoded).hexdigest()[:16]


@dataclass(frozen=True)
class Released:
    """What one change to a user took from it in the console: the facts an admin acts on next (numbers to
    reassign, licenses free again, desk phones inactivated, the call queues and ring groups it left)."""

    numbers: tuple[str, ...] = ()  # E.164, free to reassign
    licenses: tuple[str, ...] = ()
    devices: tuple[Device, ...] = ()  # desk phones inactivated
    call_queues: tuple[str, ...] = ()
    ring_groups: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return any((self.numbers, self.licenses, self.devices, self.call_queues, self.ring_groups))

    def __add__(self, other: Released) -> Released:
        def both(mine: tuple, theirs: tuple) -> tuple:
            return tuple(dict.fromkeys((*mine, *theirs)))

        return Released(both(self.numbers, other.numbers), both(self.licenses, other.licenses),
                        both(self.devices, other.devices), both(self.call_queues, other.call_queues),
                        both(self.ring_groups, other.ring_groups))

    def to_dict(self) -> dict:
        """The non-empty fields, as JSON keeps them."""
        return {key: list(value) for key, value in asdict(self).items() if value}

    @classmethod
    def from_dict(cls, data: dict) -> Released:
        return cls(numbers=tuple(data.get("numbers", ())), licenses=tuple(data.get("licenses", ())),
                   devices=tuple(Device(**device) for device in data.get("devices", ())),
                   call_queues=tuple(data.get("call_queues", ())), ring_groups=tuple(data.get("ring_groups", ())))


def released(before: ConsoleUser, after: ConsoleUser | None) -> Released:
    """What a change took from the user, from the user before it and after it (None: deleted, which releases all
    it still held and inactivates its desk phones)."""
    held = Released(before.phone_numbers, before.licenses, before.devices, before.call_queues, before.ring_groups)
    return no_longer_held(held, after)


def no_longer_held(held: Released, after: ConsoleUser | None) -> Released:
    """What of `held` the user no longer holds as `after` shows it (None: deleted): numbers, licenses, queues and
    ring groups gone, and desk phones in use then that are not in use now."""
    if after is None:
        return Released(held.numbers, held.licenses, tuple(d for d in held.devices if d.in_use), held.call_queues,
                        held.ring_groups)
    still_in_use = {device.id for device in after.devices if device.in_use}
    return Released(
        numbers=tuple(n for n in held.numbers if n not in after.phone_numbers),
        licenses=tuple(name for name in held.licenses if name not in after.licenses),
        devices=tuple(d for d in held.devices if d.in_use and d.id not in still_in_use),
        call_queues=tuple(q for q in held.call_queues if q not in after.call_queues),
        ring_groups=tuple(g for g in held.ring_groups if g not in after.ring_groups))


USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9.@\-_/]+$")
USERNAME_MIN, USERNAME_MAX = 3, 70


class UsernameProblem(StrEnum):
    """Which of the console's rules a username breaks."""

    LENGTH = "length"  # USERNAME_MIN to USERNAME_MAX characters
    CHARACTERS = "characters"  # letters, digits and . @ - _ / only


def username_problem(username: str) -> UsernameProblem | None:
    """Return the rule a username breaks, or None when the console accepts it."""
    if not USERNAME_MIN <= len(username) <= USERNAME_MAX:
        return UsernameProblem.LENGTH
    if not USERNAME_PATTERN.fullmatch(username):
        return UsernameProblem.CHARACTERS
    return None
