"""What happens on time, called by the sweeper on every replica: expiries, reminders and due runs."""

from __future__ import annotations

from bot.domain.lifecycle import RequestState
from bot.service.core import Core
from bot.service.runs import Runs
from bot.service.workflows import Workflows


class Timers:
    def __init__(self, core: Core, runs: Runs, workflows: Workflows) -> None:
        self._core = core
        self._runs = runs
        self._workflows = workflows

    def lapse_overdue_proposals(self) -> list[str]:
        """Fail the workflow steps whose proposal nobody took in time; return their ids."""
        return self._workflows.lapse_overdue()

    def answer_overdue_steps(self) -> list[str]:
        """Complete, with what is known, the workflow steps that have waited as long as the policy lets them."""
        return self._workflows.answer_overdue()

    def start_due_runs(self, *, limit: int = 20) -> list[str]:
        """Lease the requests that are due to run (or whose runner died) and start them; return their ids."""
        return self._runs.start_due(limit=limit)

    def expire_overdue(self) -> list[str]:
        """Expire every undecided request whose time is up; return the ids that expired now."""
        core = self._core
        expired = []
        for request_id in core.store.due_for_expiry(now=core.now()):
            if core.expire_if_due(core.get(request_id)).state is RequestState.EXPIRED:
                expired.append(request_id)
        return expired

    def send_due_reminders(self) -> list[str]:
        """Remind the approvers of requests still waiting (once per due time, whichever replica wins)."""
        core = self._core
        every = core.policy.approvals.remind_every
        if not every:
            return []
        reminded = core.store.claim_reminders(now=core.now(), every=every)
        for request_id in reminded:
            core.safely(core.notifier.remind, core.get(request_id))
        return reminded
