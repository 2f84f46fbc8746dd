"""Drive an app the way Slack's servers do: signed slash commands, button clicks and modal submissions.

`Workspace` reads what a user can see in a `FakeSlack` (messages, DMs, ephemerals, open modals),
builds the payload Slack would send for a user's action, signs it with the app's signing
secret, hands it to `send` (an HTTP POST to the app, or an in-process Bolt dispatch) and
applies the app's HTTP answer the way Slack does (ack text of a slash command shown to the
user, `response_action` of a modal submission). Like Slack's client it remembers what a member has entered:
boxes ticked on a message travel with the next click on it, and a modal's entries are kept (in the fake, as
Slack's servers keep them) when the app answers a submission with errors.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from bot.simulators.slack.blocks import block_elements, plain_text
from bot.simulators.slack.fake import FakeSlack
from bot.simulators.slack.model import Ephemeral, Member, Message, View
from bot.simulators.workspace import payloads
from bot.simulators.workspace.answers import Delivery, Ticked, UnknownCommand, ack_message, json_or_none
from bot.simulators.workspace.entries import Entries, ticking
from bot.simulators.workspace.inputs import client_side_problems, state_values
from bot.simulators.workspace.payloads import VERIFICATION_TOKEN
from bot.simulators.workspace.surfaces import (
    Button,
    Place,
    buttons,
    checkboxes,
    find_button,
    places,
    visible_buttons,
)

logger = logging.getLogger(__name__)

Send = Callable[[bytes, dict[str, str]], tuple[int, bytes]]


class Workspace:
    """Acts like Slack's servers toward the app, on behalf of the fake workspace's members."""

    def __init__(
        self,
        fake: FakeSlack,
        *,
        signing_secret: str,
        send: Send,
        api_app_id: str = "A0OFFBOARD",
        clock: Callable[[], float] = time.time,
        commands: Iterable[str] | None = None,
    ) -> None:
        """`commands`: the slash commands the app registered (its manifest's); None accepts any."""
        self.fake = fake
        self.commands = None if commands is None else frozenset(commands)
        self.signing_secret = signing_secret
        self.send = send
        self.api_app_id = api_app_id
        self.clock = clock
        self._entries = Entries()  # what each member typed, chose or ticked, and still sees

    # ---------------------------------------------------------------- signing and delivery

    def sign(self, body: bytes, timestamp: int) -> dict[str, str]:
        """Headers Slack sends with this body: timestamp, v0 signature, form content type."""
        base = b"v0:" + str(timestamp).encode() + b":" + body
        digest = hmac.new(self.signing_secret.encode(), base, hashlib.sha256).hexdigest()
        return {
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": f"v0={digest}",
        }

    def deliver(self, payload: dict[str, Any]) -> Delivery:
        """Send an interaction payload (block_actions, view_submission...) as Slack does: `payload=<json>`."""
        return self._post_form({"payload": json.dumps(payload)}, payload)

    def _post_form(self, form: dict[str, str], payload: dict[str, Any]) -> Delivery:
        body = urlencode(form).encode()
        status, answer = self.send(body, self.sign(body, int(self.clock())))
        return Delivery(status=status, body=answer, json=json_or_none(answer), payload=payload)

    # ---------------------------------------------------------------- slash commands

    def slash(self, user_id: str, text: str, *, command: str = "/offboard", channel_id: str | None = None) -> Delivery:
        """Run a slash command; `channel_id` defaults to the user's DM with the bot. A command the app did not
        register raises UnknownCommand, as Slack's client refuses it."""
        if self.commands is not None and command not in self.commands:
            raise UnknownCommand(command, self.commands)
        member = self.fake.member(user_id)
        channel = self.fake.channel(channel_id or self.fake.im_channel(user_id))
        form = {"token": VERIFICATION_TOKEN, "team_id": member.team_id,
                "team_domain": payloads.domain(self.fake, member)}
        if self.fake.enterprise_id:
            form["enterprise_id"] = self.fake.enterprise_id
        form |= {
            "channel_id": channel.id,
            "channel_name": payloads.slash_channel_name(channel),
            "user_id": member.id,
            "user_name": member.name,
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": self.fake.new_response_url(channel_id=channel.id, user_id=member.id),
            "trigger_id": self.fake.issue_trigger_id(member.id),
        }
        delivery = self._post_form(form, dict(form))
        ack = ack_message(delivery)
        if ack:
            self.fake.record_ack_response(channel_id=channel.id, user_id=member.id, body=ack)
        return delivery

    # ---------------------------------------------------------------- buttons

    def visible_buttons(self, user_id: str, *, channel_id: str | None = None) -> list[str]:
        """Labels of the buttons the user can see, newest place first (modal buttons marked)."""
        return visible_buttons(self.fake, user_id, channel_id=channel_id)

    def press(
        self,
        user_id: str,
        label: str,
        *,
        inputs: dict[str, str] | None = None,
        channel_id: str | None = None,
        value: str | None = None,
    ) -> Delivery:
        """Click the newest visible button whose text is `label` (case-insensitive).

        `inputs` fills input elements (keys: block_id or action_id; checkboxes take comma-separated
        values). `channel_id` / `value` narrow the search to one channel / a button with that value.
        """
        button = find_button(self.fake, user_id, label, channel_id=channel_id, value=value)
        member = self.fake.member(user_id)
        if button.role == "submit":
            return self._submit(member, self._view_of(button), inputs or {})
        if button.role == "close":
            return self._close(member, self._view_of(button))
        if button.place.view is not None:
            return self._act_in_view(member, button.place.view, payloads.action(button, now=self.clock()), inputs or {})
        return self._click_in_message(member, button, inputs or {})

    def submit(self, user_id: str, *, inputs: dict[str, str] | None = None) -> Delivery:
        """Fill in the user's open modal (the top one) with `inputs` and press its submit button."""
        stack = self.fake.view_stack(user_id)
        if not stack or not stack[-1].submit:
            raise LookupError(f"{self._name(user_id)} has no form open to submit")
        return self._submit(self.fake.member(user_id), stack[-1], inputs or {})

    def tick(self, user_id: str, words: str = "all", *, channel_id: str | None = None) -> Ticked:
        """Tick boxes on the newest place the user sees that has checkboxes (their open modal first): every box
        (`words` "all"), or those whose text holds every word of `words` (case-insensitive). Boxes ticked before
        stay ticked. Slack's client sends a `block_actions` for checkboxes outside an input block (or in one with
        `dispatch_action`), and reports the ticked boxes in `state.values` of the next click or submission."""
        place = next((p for p in places(self.fake, user_id, channel_id) if checkboxes(p)), None)
        if place is None:
            raise LookupError(f"nothing with boxes to tick is visible to {self._name(user_id)}")
        chosen = ticking(place, self._entries.on(user_id, place), words)
        if place.view is not None:
            self._typing(place.view, chosen.updates)
        else:
            self._entries.add(user_id, place, chosen.updates)
        delivery = None
        member = self.fake.member(user_id)
        for block, element, selected in chosen.changed:
            if block.get("type") == "input" and not block.get("dispatch_action"):
                continue
            action = payloads.checkboxes_action(block.get("block_id"), element, selected, now=self.clock())
            if place.view is not None:
                delivery = self._act_in_view(member, place.view, action, {})
            else:
                delivery = self._act_in_message(member, place, action, {})
        state = state_values(place.blocks, {}, self._entries.on(user_id, place))
        return Ticked(place, chosen.ticked, delivery, state)

    def _name(self, user_id: str) -> str:
        return self.fake.name_of(user_id) or user_id

    # ---------------------------------------------------------------- App Home and menus

    def open_home(self, user_id: str) -> Delivery:
        """The user opens the app's Home tab: Slack sends the `app_home_opened` event (JSON, signed)."""
        member = self.fake.member(user_id)
        return self._send_event({"type": "app_home_opened", "user": member.id,
                                 "channel": self.fake.im_channel(user_id), "tab": "home",
                                 "event_ts": f"{self.clock():.6f}"}, team_id=member.team_id)

    def _send_event(self, event: dict[str, Any], *, team_id: str) -> Delivery:
        """Send an Events API callback as Slack does: JSON, signed."""
        payload = payloads.event_callback(self.fake, event, team_id=team_id, api_app_id=self.api_app_id,
                                          now=self.clock())
        body = json.dumps(payload).encode()
        headers = self.sign(body, int(self.clock())) | {"Content-Type": "application/json"}
        status, answer = self.send(body, headers)
        return Delivery(status=status, body=answer, json=json_or_none(answer), payload=payload)

    def run_step(self, callback_id: str, inputs: dict[str, Any], *,
                 required_outputs: tuple[str, ...] = ()) -> tuple[str, Delivery]:
        """A workflow reaches the app's custom step `callback_id` with `inputs`: Slack starts an execution and
        sends the `function_executed` event. Return the execution id (FakeSlack.function_execution reads how
        the step ended) and the app's answer."""
        execution = self.fake.start_function(callback_id, inputs, required_outputs=required_outputs)
        event = payloads.function_executed(execution, api_app_id=self.api_app_id, now=self.clock())
        return execution.id, self._send_event(event, team_id=self.fake.team_id)

    def shortcut(self, user_id: str, callback_id: str) -> Delivery:
        """The user picks the app's global shortcut `callback_id` (from the composer's shortcuts menu)."""
        member = self.fake.member(user_id)
        payload = self._common("shortcut", member) | {
            "callback_id": callback_id, "trigger_id": self.fake.issue_trigger_id(member.id),
            "action_ts": f"{self.clock():.6f}",
        }
        return self.deliver(payload)

    def home_buttons(self, user_id: str) -> list[str]:
        """Labels of the buttons on the user's App Home tab, top to bottom."""
        home = self.fake.home(user_id) or {}
        return [plain_text(element.get("text")) for block in home.get("blocks") or []
                for element in block_elements(block) if element.get("type") == "button"]

    def press_home(self, user_id: str, label: str, *, nth: int = 0) -> Delivery:
        """Click the `nth` button labelled `label` on the user's App Home tab (no response URL there)."""
        home = self.fake.home(user_id)
        if home is None:
            raise LookupError(f"{self.fake.name_of(user_id) or user_id} has no App Home published")
        matches = [(block, element) for block in home.get("blocks") or [] for element in block_elements(block)
                   if element.get("type") == "button"
                   and plain_text(element.get("text")).strip().casefold() == label.strip().casefold()]
        if len(matches) <= nth:
            raise LookupError(f"no button {label!r} on the App Home of {self.fake.name_of(user_id) or user_id}")
        block, element = matches[nth]
        member = self.fake.member(user_id)
        button = Button(Place("view", home.get("blocks") or []), label, block_id=block.get("block_id"),
                         element=element)
        payload = self._common("block_actions", member) | {
            "container": {"type": "view", "view_id": home["id"]},
            "trigger_id": self.fake.issue_trigger_id(member.id),
            "view": home | {"state": {"values": {}}},
            "actions": [payloads.action(button, now=self.clock())],
        }
        return self.deliver(payload)

    def suggest(self, user_id: str, action_id: str, value: str) -> Delivery:
        """Type `value` into an external select in the user's open modal: Slack asks the app for options."""
        member = self.fake.member(user_id)
        stack = self.fake.view_stack(user_id)
        if not stack:
            raise LookupError(f"{self.fake.name_of(user_id) or user_id} has no modal open")
        view = stack[-1]
        block_id = next((block.get("block_id") for block in view.blocks
                         if (block.get("element") or {}).get("action_id") == action_id), None)
        payload = self._common("block_suggestion", member) | {
            "action_id": action_id, "block_id": block_id, "value": value,
            "container": {"type": "view", "view_id": view.id}, "view": self.fake.view_json(view.id),
        }
        return self.deliver(payload)

    def block_action(
        self,
        user_id: str,
        message: Message | Ephemeral,
        action_id: str,
        value: str | None = None,
        *,
        inputs: dict[str, str] | None = None,
    ) -> Delivery:
        """Click button `action_id` on `message` as the user's client shows it, even if the message has
        changed since (a stale client). `value` overrides the button's value; a button the message does
        not have is made up, as a forged click would be."""
        if isinstance(message, Ephemeral):
            place = Place("ephemeral", message.blocks, ephemeral=message)
        else:
            place = Place("message", message.blocks, message=message)
        button = next((b for b in buttons(place) if b.element.get("action_id") == action_id), None)
        if button is None:
            element = {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": action_id}}
            button = Button(place, action_id, block_id="actions", element=element)
        if value is not None:
            button = replace(button, element={**button.element, "value": value})
        return self._click_in_message(self.fake.member(user_id), button, inputs or {})

    @staticmethod
    def _view_of(button: Button) -> View:
        assert button.place.view is not None
        return button.place.view

    # ---------------------------------------------------------------- payload pieces

    def _common(self, kind: str, member: Member) -> dict[str, Any]:
        return payloads.common(self.fake, kind, member, api_app_id=self.api_app_id)

    def _view_with_state(self, view: View, values: dict[str, Any]) -> dict[str, Any]:
        data = self.fake.view_json(view.id)
        data["state"] = {"values": values}
        return data

    def _typing(self, view: View, inputs: Mapping[str, str]) -> dict[str, Any]:
        """State values for a view, merging new input with what the user typed before; Slack's servers keep them
        (the fake's view state)."""
        place = Place("view", view.blocks, view=view)
        values = state_values(view.blocks, inputs, self._entries.on(view.user_id, place))
        self._entries.add(view.user_id, place, inputs)
        self.fake.set_view_state(view.id, values)
        return values

    # ---------------------------------------------------------------- the interactions

    def _click_in_message(self, member: Member, button: Button, inputs: Mapping[str, str]) -> Delivery:
        return self._act_in_message(member, button.place, payloads.action(button, now=self.clock()), inputs)

    def _act_in_message(self, member: Member, place: Place, action: dict[str, Any], inputs: Mapping[str, str]
                        ) -> Delivery:
        channel_id, ts = place.location()
        channel = self.fake.channel(channel_id)
        is_ephemeral = place.ephemeral is not None
        source = ts if is_ephemeral else (channel_id, ts)
        payload = self._common("block_actions", member)
        payload |= {
            "container": {
                "type": "message",
                "message_ts": ts,
                "channel_id": channel_id,
                "is_ephemeral": is_ephemeral,
            },
            "trigger_id": self.fake.issue_trigger_id(member.id),
            "channel": {"id": channel_id, "name": "directmessage" if channel.is_im else channel.name},
            "state": {"values": state_values(place.blocks, inputs, self._entries.on(member.id, place))},
            "response_url": self.fake.new_response_url(channel_id=channel_id, user_id=member.id, source=source),
            "actions": [action],
        }
        if place.message is not None:  # the message as the client shows it
            payload["message"] = self.fake.message_json(channel_id, ts) | {
                "text": place.message.text,
                "blocks": place.message.blocks,
            }
        return self.deliver(payload)

    def _act_in_view(self, member: Member, view: View, action: dict[str, Any], inputs: Mapping[str, str]
                     ) -> Delivery:
        values = self._typing(view, inputs)
        payload = self._common("block_actions", member)
        payload |= {
            "container": {"type": "view", "view_id": view.id},
            "trigger_id": self.fake.issue_trigger_id(member.id),
            "view": self._view_with_state(view, values),
            "actions": [action],
        }
        return self.deliver(payload)

    def _submit(self, member: Member, view: View, inputs: Mapping[str, str]) -> Delivery:
        values = self._typing(view, inputs)
        problems = client_side_problems(view.blocks, values)
        if problems:
            raise ValueError(f"Slack would not submit modal {view.title!r}: {'; '.join(problems)}")
        payload = self._common("view_submission", member)
        payload |= {
            "trigger_id": self.fake.issue_trigger_id(member.id),
            "view": self._view_with_state(view, values),
            "response_urls": [],
        }
        delivery = self.deliver(payload)
        self._apply_submission_ack(view, delivery)
        return delivery

    def _apply_submission_ack(self, view: View, delivery: Delivery) -> None:
        if delivery.status != 200:
            logger.warning("view_submission answered HTTP %s; the modal stays open", delivery.status)
            return
        if delivery.body.strip() and not isinstance(delivery.json, dict):
            logger.warning("view_submission answered a body Slack cannot read; the modal stays open")
            return
        self.fake.apply_view_submission_response(view.id, delivery.json)

    def _close(self, member: Member, view: View) -> Delivery:
        values = state_values(view.blocks, {}, self._entries.on(view.user_id, Place("view", view.blocks, view=view)))
        self.fake.close_view(view.id)
        if not view.notify_on_close:
            return Delivery(status=200, body=b"", json=None, payload=None)
        payload = self._common("view_closed", member)
        payload |= {"view": self._view_with_state(view, values), "is_cleared": False}
        return self.deliver(payload)
