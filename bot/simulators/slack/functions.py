"""The fake Slack's custom workflow steps: a step runs (`start_function`, which the workspace driver sends to the
app as a `function_executed` event) until the app calls functions.completeSuccess or functions.completeError,
with Slack's checks and error codes (function_execution_not_found, execution_not_in_running_state,
parameter_validation_failed). While it runs, its just-in-time token (`bot_access_token`) acts as the bot's."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from bot.simulators.slack.http import ApiError, require


@dataclass
class FunctionExecution:
    id: str  # Fx…
    callback_id: str
    inputs: dict[str, Any]
    token: str  # the execution's bot_access_token (xwfp-…)
    required_outputs: tuple[str, ...] = ()
    state: str = "running"  # running, completed, failed
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


class FunctionMethods:
    """Mixed into the fake's WebApi; expects SlackState's lock and records."""

    _executions: dict[str, FunctionExecution]

    def _start_function(self, callback_id: str, inputs: dict[str, Any],
                        required_outputs: tuple[str, ...] = ()) -> FunctionExecution:
        execution = FunctionExecution(id="Fx" + secrets.token_hex(6).upper(), callback_id=callback_id,
                                      inputs=dict(inputs), token="xwfp-" + secrets.token_hex(12),
                                      required_outputs=tuple(required_outputs))
        self._executions[execution.id] = execution
        return execution

    def _running_function_tokens(self) -> set[str]:
        return {execution.token for execution in self._executions.values() if execution.state == "running"}

    def _running(self, params: dict[str, Any]) -> FunctionExecution:
        require(params, "function_execution_id")
        execution = self._executions.get(str(params["function_execution_id"]))
        if execution is None:
            raise ApiError("function_execution_not_found")
        if execution.state != "running":
            raise ApiError("execution_not_in_running_state")
        return execution

    def _api_functions_complete_success(self, params: dict[str, Any]) -> dict[str, Any]:
        execution = self._running(params)
        outputs = params.get("outputs")
        if not isinstance(outputs, dict):
            raise ApiError("invalid_arguments",
                           response_metadata={"messages": ["[ERROR] missing required field: outputs"]})
        missing = [name for name in execution.required_outputs if outputs.get(name) in (None, "")]
        if missing:
            raise ApiError("parameter_validation_failed", errors=[
                {"error": "missing_required_field", "pointer": f"/outputs/{name}"} for name in missing])
        execution.state, execution.outputs = "completed", dict(outputs)
        return {}

    def _api_functions_complete_error(self, params: dict[str, Any]) -> dict[str, Any]:
        execution = self._running(params)
        require(params, "error")
        execution.state, execution.error = "failed", str(params["error"])
        return {}
