"""Who may act: account admins of this workspace, identified by their verified Slack email.

Whoever is not one is refused with a code (other_workspace, unknown_member, external_member, guest,
no_verified_email, not_admin); bot/slack/messages says why in words. A guest (single- or multi-channel) is
refused whatever their email: an admin made a guest keeps their address but not their authority."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.emails import normal_email
from bot.domain.records import Actor
from bot.errors import Refusal
from bot.policy import Policy, Role
from bot.ports import Member, MemberDirectory


@dataclass(frozen=True)
class Admin:
    member: Member
    email: str  # normalised (bot.domain.emails): the one form every comparison and every stored approval uses
    role: Role

    @property
    def user_id(self) -> str:
        return self.member.user_id


class Gatekeeper:
    """Checks an actor against the workspace and the policy."""

    def __init__(self, *, members: MemberDirectory, policy: Policy) -> None:
        self._members = members
        self._policy = policy

    def admin(self, actor: Actor, *, request_id: str | None = None) -> Admin:
        """Return the actor as an admin of this workspace; raise Refusal when they are not one."""
        home = self._members.home_team_id()
        if actor.team_id != home:
            raise Refusal("other_workspace", request_id=request_id)
        member = self._members.member(user_id=actor.user_id)
        if member is None or member.deleted or member.is_bot:
            raise Refusal("unknown_member", request_id=request_id)
        if member.is_stranger or member.team_id != home:
            raise Refusal("external_member", request_id=request_id)
        if member.is_guest:
            raise Refusal("guest", request_id=request_id)
        if not member.email or not member.email_verified:
            raise Refusal("no_verified_email", request_id=request_id)
        role = self._policy.role_of(member.email)
        if role is None:
            raise Refusal("not_admin", request_id=request_id)
        return Admin(member=member, email=normal_email(member.email), role=role)
