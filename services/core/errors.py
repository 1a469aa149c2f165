"""The project's own exceptions. Services raise them; only the edge turns them into words."""


class GovernanceError(Exception):
    """Base of every error a service raises on purpose."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint  # what the person should do next

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class NotFound(GovernanceError):
    """The thing asked for does not exist."""


class PermissionDenied(GovernanceError):
    """The acting principal lacks the role this act needs."""


class GateFailed(GovernanceError):
    """A policy gate blocks the act."""


class InvalidInput(GovernanceError):
    """The caller's input is malformed or conflicts with what is stored."""


class SourceUnavailable(GovernanceError):
    """The MLflow registry or the governance store cannot be reached."""


class SchemaOutOfDate(SourceUnavailable):
    """The governance store exists but its schema is not at the migration head."""
