"""The errors the server's library raises: what a caller did wrong, typed.

:class:`ApiError` carries an HTTP status, a machine code (``protocol.errors.ERR_*``) and an
English message; the HTTP app answers with exactly those. The subclasses say more about what
was wrong so that each front end can word it in its own terms: :class:`InvalidArgument` names
the argument of a library call (``ttl_hours``, ``take``, ``reason``) and the command line turns
that name into its option (``--ttl-hours``).
"""

from __future__ import annotations

from typing import Any

from protocol import errors

__all__ = [
    "ApiError",
    "BadAssignment",
    "BadEnvelope",
    "BadRequest",
    "DeviceCloned",
    "InvalidArgument",
    "NotInitialised",
    "NothingChosen",
    "ResolutionError",
]


class ApiError(Exception):
    """A request the server refuses: HTTP status, machine code and English message.

    Args:
        status: HTTP status (4xx, or 503 when busy).
        code: one of the ``wire.ERR_*`` codes.
        message: what went wrong, in English.
        extra: more JSON fields for the error body (e.g. ``offset``).
    """

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        """Return the JSON error body."""
        return errors.error_body(self.message, self.code, **self.extra)


class BadRequest(ApiError):
    """A malformed request or argument (400 ``bad_request``)."""

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(400, errors.ERR_BAD_REQUEST, message, **extra)


class BadEnvelope(ApiError):
    """An envelope that cannot be parsed, verified or opened (400 ``bad_envelope``)."""

    def __init__(self, message: str) -> None:
        super().__init__(400, errors.ERR_BAD_ENVELOPE, message)


class NotInitialised(ApiError):
    """The database holds no server keys yet (503: run ``init``)."""

    def __init__(self) -> None:
        super().__init__(503, "not_initialised", "server database is not initialised")


class DeviceCloned(ApiError):
    """Two machines share one device identity (409 ``cloned``)."""

    def __init__(self) -> None:
        super().__init__(
            409,
            errors.ERR_CLONED,
            "device identity is used by two machines (diverging sequence); "
            "provincial IT must enrol this PC again",
        )


class InvalidArgument(BadRequest):
    """An argument of a library call is unusable.

    Args:
        argument: the parameter's name, e.g. ``ttl_hours``.
        problem: what is wrong with it, in English, e.g. ``must be positive``.
    """

    def __init__(self, argument: str, problem: str) -> None:
        super().__init__(f"{argument} {problem}")
        self.argument = argument
        self.problem = problem


class ResolutionError(InvalidArgument):
    """A conflict resolution asked for in a way that cannot be carried out."""


class NothingChosen(ResolutionError):
    """A resolution that names neither a side to take nor any field value."""

    def __init__(self) -> None:
        super().__init__("take", "or assignments must be given")


class BadAssignment(ResolutionError):
    """A resolution assignment without a field name."""

    def __init__(self) -> None:
        super().__init__("assignments", "need a field name for each value")
