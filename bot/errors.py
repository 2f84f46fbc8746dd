"""The project's exception hierarchy. Refusals carry a code and facts, which the Slack layer says in words; the
console's errors carry the console's own words (and its response id)."""

from __future__ import annotations


class OffboardError(Exception):
    """Base of every error the bot knows how to explain."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Refusal(OffboardError):
    """The request or click is not allowed; nothing was changed.

    It carries a `code` and the facts (JSON-friendly values, audited as they are); the Slack layer says it in
    words (bot/slack/messages). `field` names the form input at fault, when there is one. The edge audits
    every refusal once."""

    def __init__(self, code: str, *, request_id: str | None = None, field: str | None = None, **facts: object) -> None:
        super().__init__(code)
        self.code = code
        self.request_id = request_id
        self.field = field
        self.facts = facts


class BadCommand(Refusal):
    """What was typed (or a form field, named by `field`) could not be understood: `problem` says what."""

    def __init__(self, problem: str, *, field: str | None = None, **facts: object) -> None:
        super().__init__("bad_command", field=field, problem=problem, **facts)
        self.problem = problem


class NotFound(Refusal):
    def __init__(self, request_id: str) -> None:
        super().__init__("not_found", request_id=request_id)


class ConsoleError(OffboardError):
    """The admin console refused or failed an operation.

    `status` is the HTTP status when there was one; `response_id` is the console's own id for the
    answer (8x8's X-Response-Id), which its support desk asks for."""

    retryable = False

    def __init__(self, message: str, *, status: int | None = None, response_id: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.response_id = response_id

    @property
    def explained(self) -> str:
        """The message with the console's reference appended, for people and the audit log."""
        return f"{self.message} (console response id {self.response_id})" if self.response_id else self.message


class ConsoleUnavailable(ConsoleError):
    """The console could not be reached or kept failing; the operation may be retried."""

    retryable = True


class ConsoleBusy(ConsoleUnavailable):
    """A glance (bot.ambient.at_a_glance) would have had to wait for the console's rate limit or a retry, so
    nothing was sent: the caller answers with what it knows."""


class OutcomeUnknown(ConsoleError):
    """The console was asked to change something, but whether it did could not be confirmed."""


class ConsoleRejected(ConsoleError):
    """The console understood the request and refused it."""


class AccessDenied(ConsoleRejected):
    """The console refused the bot's credentials (wrong key or token, or not enough rights)."""


class ConsoleUnsupported(ConsoleRejected):
    """The console does not offer this operation (on this tenant); a person must do it by hand."""


class ConcurrentChange(ConsoleRejected):
    """The record changed since it was read, so the change was not applied (ETag precondition failed)."""


class DeactivatedOnly(ConsoleRejected):
    """The console answered a delete by only deactivating the user; the profile still exists."""

    def __init__(self, user_id: str, **kwargs) -> None:
        super().__init__(f"the console only deactivated user {user_id} instead of deleting it; "
                         "the profile still exists", **kwargs)
        self.user_id = user_id


class UsernameTaken(ConsoleRejected):
    def __init__(self, username: str, **kwargs) -> None:
        super().__init__(f"the username {username} is already in use", **kwargs)
        self.username = username


class UserGone(ConsoleRejected):
    def __init__(self, user_id: str, **kwargs) -> None:
        super().__init__(f"user {user_id} no longer exists in the console", **kwargs)
        self.user_id = user_id


class StorageUnavailable(OffboardError):
    """The bot's own database did not answer (down, unreachable, or locked for too long). What was committed
    before stays; what was being written was not."""

    def __init__(self, driver_error: str) -> None:
        super().__init__(f"the database did not answer ({driver_error})")
        self.driver_error = driver_error  # the database driver's error name, e.g. OperationalError


class ConfigurationError(OffboardError):
    """Settings or policy are invalid; the bot refuses to start."""
