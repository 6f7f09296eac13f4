"""What the console's screens may ask of the provincial server: one typed protocol.

The real implementation (:class:`desktop.console.client.AdminClient`) seals each call to the
server's ``/admin`` endpoint; tests hand the screens a fake that implements the same protocol.
Every call blocks on the network, so screens make them only through the task runner, never on
the Tk thread.
"""

from __future__ import annotations

from typing import Any, Protocol

from protocol.admin import (
    CommuneHealth,
    ConflictDetail,
    DeviceInfo,
    DuplicateDetail,
    IssuedCode,
    Page,
    RecordVersion,
    Resolved,
    StatsRow,
)

__all__ = ["ConsoleError", "ConsoleService"]


class ConsoleError(Exception):
    """A console call failed: English ``message`` for logs, Vietnamese ``clerk_message`` to show.

    Attributes:
        code: the server's error code (``protocol.errors.ERR_*``) or ``offline``/``timeout``.
    """

    def __init__(self, message: str, *, clerk_message: str, code: str = "error") -> None:
        super().__init__(message)
        self.clerk_message = clerk_message
        self.code = code


class ConsoleService(Protocol):
    """The provincial server's administration, as the console's screens use it.

    Every method raises :class:`ConsoleError` when the server refuses or cannot be reached.
    """

    @property
    def server_url(self) -> str:
        """The provincial server this link talks to."""
        ...

    def close(self) -> None:
        """Close the link's connections (a later call opens new ones)."""
        ...

    def conflicts(
        self,
        *,
        commune: str | None = None,
        procedure: str | None = None,
        kind: str | None = None,
        status: str = "open",
        min_age_days: int = 0,
        max_age_days: int | None = None,
        offset: int = 0,
        limit: int = 200,
    ) -> Page:
        """Return a page of conflicts (items are ``ConflictSummary``), newest first."""
        ...

    def conflict(self, conflict_id: int) -> ConflictDetail:
        """Return one conflict with base, current and incoming side by side."""
        ...

    def resolve(
        self, conflict_id: int, choices: dict[str, dict[str, Any]], reason: str
    ) -> Resolved:
        """Resolve a conflict field by field (see ``protocol.admin.validate_choices``)."""
        ...

    def duplicate(self, conflict_id: int) -> DuplicateDetail:
        """Return a suspected duplicate: both records and the evidence."""
        ...

    def decide_duplicate(self, conflict_id: int, decision: str, reason: str) -> Resolved:
        """Keep both, or mark one record the duplicate of the other (nothing is deleted)."""
        ...

    def devices(self, commune: str | None = None) -> list[DeviceInfo]:
        """Return every enrolled device (of one commune when given)."""
        ...

    def issue_code(self, commune: str, ttl_hours: float = 72.0) -> IssuedCode:
        """Issue a one-time enrolment code for a commune."""
        ...

    def revoke(self, device_id: str, reason: str) -> None:
        """Revoke a device; its next sync is refused with the reason."""
        ...

    def health(self) -> list[CommuneHealth]:
        """Return the sync health of every commune of the province."""
        ...

    def statistics(
        self, period: str, since: str | None = None, until: str | None = None
    ) -> list[StatsRow]:
        """Return the dossier count cube, grouped by ``week`` or ``month``."""
        ...

    def history(self, entity_id: str) -> list[RecordVersion]:
        """Return every version of a record, oldest first (losing values included)."""
        ...
