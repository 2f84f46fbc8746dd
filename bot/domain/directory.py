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


@dataclass(frozen=True)
class Device:
    id: str
    model: str
    status: str = "ACTIVE"


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
