"""The project's exception hierarchy. Known errors carry words an admin can act on."""

from __future__ import annotations


class OffboardError(Exception):
    """Base of every error the bot knows how to explain."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Refusal(OffboardError):
    """The request or click is not allowed; nothing was changed. The edge audits every refusal once."""

    def __init__(self, code: str, message: str, *, request_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.request_id = request_id


class BadCommand(Refusal):
    """The command text (or a form field, named by `field`) could not be understood."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__("bad_command", message)
        self.field = field


class AlreadyDecided(Refusal):
    """Someone or something else already moved the request on."""

    def __init__(self, message: str, *, request_id: str | None = None) -> None:
        super().__init__("already_decided", message, request_id=request_id)


class NotFound(Refusal):
    def __init__(self, message: str, *, request_id: str | None = None) -> None:
        super().__init__("not_found", message, request_id=request_id)


class ConsoleError(OffboardError):
    """The admin console refused or failed an operation."""

    retryable = False


class ConsoleUnavailable(ConsoleError):
    """The console could not be reached or kept failing; the operation may be retried."""

    retryable = True


class ConsoleRejected(ConsoleError):
    """The console understood the request and refused it."""


class UsernameTaken(ConsoleRejected):
    def __init__(self, username: str) -> None:
        super().__init__(f"the username {username} is already in use")
        self.username = username


class UserGone(ConsoleRejected):
    def __init__(self, user_id: str) -> None:
        super().__init__(f"user {user_id} no longer exists in the console")
        self.user_id = user_id


class ConfigurationError(OffboardError):
    """Settings or policy are invalid; the bot refuses to start."""
