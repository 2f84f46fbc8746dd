"""Modals and the App Home in the fake Slack: each user's stack of open views, and views.open, views.push,
views.update and views.publish.

A trigger id opens or pushes a view once, within TRIGGER_TTL_SECONDS; a user has at most MAX_VIEW_STACK modals
open; a view the app sends is checked as Slack checks it (blocks.view_problems) and gets Slack-generated block
ids. Methods whose name starts with `_api_` are Web API methods (api.py routes to them); the others expect the
state lock to be held (state.py).
"""

from __future__ import annotations

import copy
import secrets
import time
from collections.abc import Callable
from typing import Any

from bot.simulators.slack.blocks import (
    block_elements,
    block_problems,
    plain_text,
    truthy,
    view_problems,
    with_generated_ids,
)
from bot.simulators.slack.http import ApiError, invalid, require
from bot.simulators.slack.model import MAX_VIEW_STACK, TRIGGER_TTL_SECONDS, EventKind, View
from bot.simulators.slack.state import SlackState


class ViewMethods(SlackState):
    """Modal stacks, App Home tabs and the views.* methods."""

    # ---------------------------------------------------------------- what the user does (the driver calls these)

    def apply_view_submission_response(self, view_id: str, response: dict[str, Any] | None) -> None:
        """Apply the app's ack to a view_submission: errors / update / push / clear, or close the view.

        Raises ValueError when the app answered with a view Slack would reject.
        """
        response = response or {}
        action = response.get("response_action")
        if action not in (None, "", "errors", "update", "push", "clear"):
            raise ValueError(f"unknown response_action {action!r}")
        with self._state():
            view = self._open_view(view_id)
            if action in ("update", "push"):
                definition = self._checked_view(response.get("view"))
            view.errors = {}
            if action == "errors":
                view.errors = {str(k): str(v) for k, v in (response.get("errors") or {}).items()}
                self._emit_view(EventKind.VIEW_ERRORS, view)
            elif action == "update":
                self._replace_view_definition(view, definition)
            elif action == "push":
                if len(self._stacks.get(view.user_id, [])) >= MAX_VIEW_STACK:
                    raise ValueError("cannot push a fourth modal (push_limit_reached)")
                self._push_view(view.user_id, definition)
            elif action == "clear":
                self._close_stack_from(view.user_id, 0)
            else:
                self._close_view(view)

    def set_view_state(self, view_id: str, values: dict[str, dict[str, dict[str, Any]]]) -> None:
        """Record what the user has entered in an open view (`state.values`), as Slack's servers keep it."""
        with self._state():
            self._open_view(view_id).state = copy.deepcopy(values)

    def close_view(self, view_id: str) -> None:
        """Close a view (and any view pushed above it), as the user's close button does."""
        with self._state():
            self._close_view(self._open_view(view_id))

    # ---------------------------------------------------------------- queries (return copies)

    def views(self, user_id: str | None = None, open_only: bool = True) -> list[View]:
        with self._lock:
            found = [
                v
                for v in self._views.values()
                if (user_id is None or v.user_id == user_id) and (v.is_open or not open_only)
            ]
            return copy.deepcopy(found)

    def view(self, view_id: str) -> View:
        with self._lock:
            if view_id not in self._views:
                raise LookupError(f"no view {view_id!r}")
            return copy.deepcopy(self._views[view_id])

    def home(self, user_id: str) -> dict[str, Any] | None:
        """The App Home tab the app last published for the user (with its view id), or None."""
        with self._lock:
            return copy.deepcopy(self._homes.get(user_id))

    def view_stack(self, user_id: str) -> list[View]:
        """The user's open modals, the visible (top) one last."""
        with self._lock:
            return copy.deepcopy([self._views[v] for v in self._stacks.get(user_id, [])])

    def view_json(self, view_id: str) -> dict[str, Any]:
        """The view as Slack's APIs and payloads show it, with what the user has entered so far."""
        with self._lock:
            return self._view_json(self.view(view_id))

    # ---------------------------------------------------------------- views (lock held)

    def _checked_view(self, definition: Any) -> dict[str, Any]:
        problems = view_problems(definition)
        if problems:
            raise ValueError("invalid view: " + "; ".join(problems))
        return definition

    def _new_view(self, user_id: str, definition: dict[str, Any], *, root: str | None, previous: str | None) -> View:
        view_id = f"V{next(self._ids):09d}"
        view = self._build_view(view_id, user_id, definition, root_view_id=root or view_id, previous=previous)
        self._views[view_id] = view
        return view

    def _build_view(
        self, view_id: str, user_id: str, definition: dict[str, Any], *, root_view_id: str, previous: str | None
    ) -> View:
        definition = copy.deepcopy(definition)
        definition["blocks"] = with_generated_ids(definition.get("blocks") or [])
        return View(
            id=view_id,
            user_id=user_id,
            callback_id=str(definition.get("callback_id", "")),
            private_metadata=str(definition.get("private_metadata", "")),
            title=plain_text(definition.get("title")),
            blocks=definition["blocks"],
            submit=plain_text(definition["submit"]) if definition.get("submit") else None,
            close=plain_text(definition["close"]) if definition.get("close") else None,
            notify_on_close=truthy(definition.get("notify_on_close", False)),
            external_id=str(definition.get("external_id", "")),
            hash=f"{int(time.time())}.{secrets.token_hex(4)}",
            root_view_id=root_view_id,
            previous_view_id=previous,
            definition=definition,
        )

    def _open_root_view(self, user_id: str, definition: dict[str, Any]) -> View:
        self._close_stack_from(user_id, 0)
        view = self._new_view(user_id, definition, root=None, previous=None)
        self._stacks[user_id] = [view.id]
        self._emit_view(EventKind.VIEW_OPENED, view)
        return view

    def _push_view(self, user_id: str, definition: dict[str, Any]) -> View:
        stack = self._stacks.setdefault(user_id, [])
        if not stack:
            return self._open_root_view(user_id, definition)
        if len(stack) >= MAX_VIEW_STACK:
            raise ApiError("push_limit_reached")
        view = self._new_view(user_id, definition, root=stack[0], previous=stack[-1])
        stack.append(view.id)
        self._emit_view(EventKind.VIEW_PUSHED, view)
        return view

    def _replace_view_definition(self, view: View, definition: dict[str, Any]) -> None:
        updated = self._build_view(
            view.id, view.user_id, definition, root_view_id=view.root_view_id, previous=view.previous_view_id
        )
        updated.state = _kept_state(view.state, updated.blocks)
        self._views[view.id] = updated
        self._emit_view(EventKind.VIEW_UPDATED, updated)

    def _open_view(self, view_id: str) -> View:
        view = self._views.get(view_id)
        if view is None or not view.is_open:
            raise LookupError(f"no open view {view_id!r}")
        return view

    def _close_view(self, view: View) -> None:
        stack = self._stacks.get(view.user_id, [])
        self._close_stack_from(view.user_id, stack.index(view.id))

    def _close_stack_from(self, user_id: str, index: int) -> None:
        stack = self._stacks.get(user_id, [])
        while len(stack) > index:
            closed = self._views[stack.pop()]
            closed.is_open = False
            self._emit_view(EventKind.VIEW_CLOSED, closed)

    def _view_json(self, view: View) -> dict[str, Any]:
        data = copy.deepcopy(view.definition)
        data.update(
            id=view.id,
            team_id=self.team_id,
            type="modal",
            blocks=copy.deepcopy(view.blocks),
            private_metadata=view.private_metadata,
            callback_id=view.callback_id,
            external_id=view.external_id,
            state={"values": copy.deepcopy(view.state)},
            hash=view.hash,
            clear_on_close=truthy(data.get("clear_on_close", False)),
            notify_on_close=view.notify_on_close,
            root_view_id=view.root_view_id,
            previous_view_id=view.previous_view_id,
            app_installed_team_id=self.team_id,
            bot_id=self.bot_id,
        )
        data.setdefault("close", {"type": "plain_text", "text": "Cancel", "emoji": True})
        return data

    # ---------------------------------------------------------------- Web API methods (lock held)

    def _use_trigger(self, params: dict[str, Any]) -> str:
        trigger_id = str(params.get("trigger_id") or params.get("interactivity_pointer") or "")
        trigger = self._triggers.get(trigger_id)
        if trigger is None or trigger.used:
            raise ApiError("invalid_trigger_id")
        if self.clock() - trigger.issued_at > TRIGGER_TTL_SECONDS:
            raise ApiError("expired_trigger_id")
        return trigger_id

    @staticmethod
    def _view_param(params: dict[str, Any]) -> dict[str, Any]:
        require(params, "view")
        problems = view_problems(params["view"])
        if problems:
            raise invalid("invalid_arguments", problems)
        return params["view"]

    def _api_views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._show_view_by_trigger(params, self._open_root_view)

    def _api_views_push(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._show_view_by_trigger(params, self._push_view)

    def _show_view_by_trigger(self, params: dict[str, Any], show: Callable[[str, dict[str, Any]], View]) -> dict:
        """views.open / views.push: spend the trigger id, then show the view to the trigger's user."""
        trigger_id = self._use_trigger(params)
        definition = self._view_param(params)
        trigger = self._triggers[trigger_id]
        view = show(trigger.user_id, definition)
        trigger.used = True
        return {"view": self._view_json(view)}

    def _api_views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        """Publish a user's App Home tab (needs no trigger; a home view has no title, submit or close)."""
        require(params, "user_id", "view")
        user_id = params["user_id"]
        if user_id not in self._members:
            raise ApiError("user_not_found")
        definition = params["view"]
        if not isinstance(definition, dict) or definition.get("type") != "home":
            raise invalid("invalid_arguments", ["[ERROR] views.publish takes a home view [json-pointer:/view/type]"])
        problems = block_problems(definition.get("blocks"), max_blocks=100)
        if problems:
            raise invalid("invalid_arguments", [p.replace("/blocks", "/view/blocks") for p in problems])
        previous = self._homes.get(user_id)
        view = {**definition, "id": previous["id"] if previous else f"V{next(self._ids):09d}",
                "team_id": self.team_id, "bot_id": self.bot_id}
        self._homes[user_id] = view
        return {"view": copy.deepcopy(view)}

    def _api_views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        view = self._view_for_update(params)
        definition = self._view_param(params)
        if params.get("hash") and params["hash"] != view.hash:
            raise ApiError("hash_conflict")
        self._replace_view_definition(view, definition)
        return {"view": self._view_json(self._views[view.id])}

    def _view_for_update(self, params: dict[str, Any]) -> View:
        view_id, external_id = params.get("view_id"), params.get("external_id")
        if not view_id and not external_id:
            raise ApiError("invalid_arguments", response_metadata={"messages": ["view_id or external_id required"]})
        for view in self._views.values():
            if view.is_open and (view.id == view_id or (external_id and view.external_id == external_id)):
                return view
        raise ApiError("not_found")


def _kept_state(state: dict[str, dict[str, dict[str, Any]]], blocks: list[dict[str, Any]]) -> dict:
    """What Slack keeps of the user's entries when a view is updated: those of the elements whose block id,
    action id and type are unchanged."""
    kept: dict[str, dict[str, dict[str, Any]]] = {}
    for block in blocks:
        for element in block_elements(block):
            entry = state.get(str(block.get("block_id")), {}).get(str(element.get("action_id")))
            if entry is not None and entry.get("type") == element.get("type"):
                kept.setdefault(block["block_id"], {})[element["action_id"]] = copy.deepcopy(entry)
    return kept
