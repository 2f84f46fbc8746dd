"""State carried through Slack (button values, private_metadata): typed, ids only, never who is acting."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.errors import BadCommand


class RequestRef(BaseModel):
    """Names one request; the actor always comes from the signed payload."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    r: str = Field(pattern=r"^OB-[A-Z0-9]{6,12}$")

    def dump(self) -> str:
        return self.model_dump_json()

    @classmethod
    def load(cls, text: str | None) -> RequestRef:
        """Parse a button value; raise BadCommand when it was not written by this bot."""
        try:
            return cls.model_validate_json(text or "")
        except ValidationError:
            raise BadCommand("not_our_button") from None


class ModalOrigin(BaseModel):
    """Where /offboard was typed, so the private preview can be shown there."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: str | None = Field(default=None, pattern=r"^[CDGUW][A-Z0-9]+$")

    def dump(self) -> str:
        return self.model_dump_json()

    @classmethod
    def load(cls, text: str | None) -> ModalOrigin:
        try:
            return cls.model_validate_json(text or "{}")
        except ValidationError:
            return cls()
