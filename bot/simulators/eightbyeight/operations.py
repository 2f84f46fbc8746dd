"""The fake 8x8's asynchronous operations, as the real API has them: a PUT or DELETE answers 202 with an operation,
and the change lands when the operation completes `operation_delay` seconds later.

Operations are settled lazily and deterministically: before anything reads or changes state (a request, or one of
the inspection methods), every operation whose due time has passed is completed in due order. An operation reads
``PENDING`` for the first half of its delay, ``IN_PROGRESS`` for the second half, then ``COMPLETED`` or
``FAILED``; at most `Limits.operations` may be unfinished at once (more are answered 429).
"""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from typing import Any

from bot.simulators.eightbyeight.model import (
    CUSTOMER_ID,
    READ_ONLY_BASIC_INFO,
    Answer,
    Operation,
    error_body,
    iso,
)
from bot.simulators.eightbyeight.rate_limits import retry_after
from bot.simulators.eightbyeight.state import EightByEightState


class Operations(EightByEightState):
    """Starting, settling and showing operations (lock held)."""

    def _settle(self, now: float) -> None:
        """Complete, in due order, every operation whose time has come."""
        due = sorted((op for op in self._pending if op.due <= now), key=lambda op: (op.due, op.seq))
        for op in due:
            self._pending.remove(op)
            self._complete(op)

    def _complete(self, op: Operation) -> None:
        op.completed_wall = datetime.now(UTC)
        error = op.failure
        current = self._users.get(op.user_id)
        if error is None and current is None:
            error = error_body(404, "Not Found", message="User not found", field_name="basicInfo.userId")
        if error is None and op.type == "UPDATE":
            assert op.payload is not None
            if self._username_taken(op.payload["basicInfo"]["userName"], op.user_id):
                error = error_body(400, "Validation error", message="userName already in use")
        if error is not None:
            op.outcome, op.error = "FAILED", error
            return
        if op.type == "UPDATE":
            assert op.payload is not None and current is not None
            record = copy.deepcopy(op.payload)
            info = record["basicInfo"]
            for name in READ_ONLY_BASIC_INFO:
                info.pop(name, None)
            info["userId"] = op.user_id
            info["createdTime"] = current["basicInfo"].get("createdTime", iso(op.created_wall))
            info["lastUpdatedTime"] = iso(op.completed_wall)
            info.setdefault("customerId", current["basicInfo"].get("customerId", CUSTOMER_ID))
            self._users[op.user_id] = record
        else:
            del self._users[op.user_id]
        op.outcome = "COMPLETED"
        self._applied.append((op.type, op.user_id))

    def _start_operation(self, kind: str, user_id: str, now: float, *, payload: dict | None = None,
                         failure: dict | None = None) -> Answer:
        if len(self._pending) >= self.limits.operations:
            wait = min((op.due for op in self._pending), default=now) - now
            return Answer(
                429,
                error_body(429, "Too Many Requests", message="Too many operations in progress, please try again later",
                           detail=f"At most {self.limits.operations} operations may run at once"),
                headers={"retry-after": retry_after(wait)},
                counts=False,
                throttled=True,
            )
        if failure is None:
            fault = self._take_fault("operation", kind, "")
            if fault is not None:
                failure = error_body(fault.status, detail=fault.detail)
        op = Operation(
            id=f"op_{uuid.uuid4().hex}",
            type=kind,
            user_id=user_id,
            seq=next(self._seq),
            created=now,
            created_wall=datetime.now(UTC),
            due=now + max(0.0, self.operation_delay),
            payload=payload,
            failure=failure,
        )
        self._operations[op.id] = op
        self._pending.append(op)
        return Answer(202, self._operation_json(op, now))

    def _operation_json(self, op: Operation, now: float) -> dict:
        if op.outcome is not None:
            status = op.outcome
        elif now - op.created >= (op.due - op.created) / 2 and op.due > op.created:
            status = "IN_PROGRESS"
        else:
            status = "PENDING"
        body: dict[str, Any] = {
            "operationId": op.id,
            "status": status,
            "customerId": CUSTOMER_ID,
            "resourceType": "USER",
            "resourceId": op.user_id,
            "operationType": op.type,
            "createdTime": iso(op.created_wall),
        }
        if op.completed_wall is not None:
            body["completedTime"] = iso(op.completed_wall)
        if op.error is not None:
            body["error"] = copy.deepcopy(op.error)
        body["_links"] = {
            "self": {"href": f"{self.base_url}/operations/{op.id}"},
            "resource": {"href": f"{self.base_url}/users/{op.user_id}"},
        }
        return body

