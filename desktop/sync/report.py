"""What one sync moved: :class:`SyncReport`, filled in by the engine as it goes."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from desktop.store.sync_store import PageOutcome
from desktop.sync.status import SyncState, SyncStatus
from protocol import wire

__all__ = ["SyncAttempt", "SyncReport"]


@dataclasses.dataclass(frozen=True)
class SyncAttempt:
    """One finished sync attempt, as the sync panel lists it.

    Attributes:
        at: when it ended (local time).
        ok: the records part finished.
        message: what happened, in plain Vietnamese.
    """

    at: dt.datetime
    ok: bool
    message: str


@dataclasses.dataclass
class SyncReport:
    """What one :meth:`SyncEngine.sync_once` moved.

    Attributes:
        ok: the records part finished (pushed what it could, pulled to the end).
        state: the state the engine ended in.
        pushed: changes the server answered with a final status.
        applied, merged, conflicts, rejected: those answers by status.
        deferred: changes the server deferred (sent again next round).
        pulled: remote changes applied locally.
        restored_fields: local values replaced by the server's after a conflict.
        new_conflicts: conflict ids this device saw for the first time.
        resolved: conflicts this device learned were resolved.
        requeued: changes queued again because the server lost them (restore).
        epoch_changed: the server's epoch changed (it was restored).
        blocks: book-number blocks received.
        attachments_uploaded: scans now complete on the server.
        attachment_bytes: scan bytes sent (a chunk re-sent after a cut counts twice).
        attachment_error: why scans could not be sent, if so (records are unaffected).
        requests: HTTP requests made.
        bytes_up: bytes sent (bodies).
        bytes_down: bytes received (bodies).
        rounds: ``/sync`` round trips.
        clock_offset_s: server time minus local time, seconds.
        error: why the sync failed (English), if it did.
        error_code: a machine-readable reason, if it failed.
        clerk_error: why it failed in plain Vietnamese, if it did.
        duration_s: wall time.
    """

    ok: bool = False
    state: SyncState = SyncState.SYNCING
    pushed: int = 0
    applied: int = 0
    merged: int = 0
    conflicts: int = 0
    rejected: int = 0
    deferred: int = 0
    pulled: int = 0
    restored_fields: int = 0
    new_conflicts: list[str] = dataclasses.field(default_factory=list)
    resolved: int = 0
    requeued: int = 0
    epoch_changed: bool = False
    blocks: int = 0
    attachments_uploaded: int = 0
    attachment_bytes: int = 0
    attachment_error: str | None = None
    requests: int = 0
    bytes_up: int = 0
    bytes_down: int = 0
    rounds: int = 0
    clock_offset_s: float | None = None
    error: str | None = None
    error_code: str | None = None
    clerk_error: str | None = None
    duration_s: float = 0.0

    def summary(self) -> str:
        """Return what moved, in one or two English lines (for ``motcua sync``)."""
        lines = [
            f"pushed {self.pushed} (applied {self.applied}, merged {self.merged}, "
            f"conflict {self.conflicts}, rejected {self.rejected}); pulled {self.pulled}; "
            f"{self.requests} request(s), {self.bytes_up} B up, {self.bytes_down} B down"
        ]
        extra = []
        if self.attachments_uploaded or self.attachment_error:
            extra.append(f"scans uploaded {self.attachments_uploaded}")
        if self.attachment_error:
            extra.append(f"scans not sent: {self.attachment_error}")
        if self.new_conflicts:
            extra.append(f"new conflicts {len(self.new_conflicts)}")
        if self.resolved:
            extra.append(f"conflicts resolved {self.resolved}")
        if self.epoch_changed or self.requeued:
            extra.append(f"server was restored: {self.requeued} change(s) sent again")
        if self.blocks:
            extra.append(f"book number blocks {self.blocks}")
        if self.clock_offset_s is not None and abs(self.clock_offset_s) > SyncStatus.SKEW_LIMIT_S:
            extra.append(f"clock off by {self.clock_offset_s:+.0f} s")
        if self.error:
            extra.append(f"error: {self.error}")
        if extra:
            lines.append("; ".join(extra))
        return "\n".join(lines)

    def clerk_summary(self) -> str:
        """Return what moved, or why nothing could, in one plain Vietnamese line."""
        if self.error:
            return self.clerk_error or "Đồng bộ không thành công."
        parts = [f"Gửi {self.pushed} thay đổi, nhận {self.pulled}"]
        if self.conflicts or self.new_conflicts:
            parts.append(f"{max(self.conflicts, len(self.new_conflicts))} xung đột chờ CNTT tỉnh")
        if self.rejected:
            parts.append(f"{self.rejected} bị từ chối")
        if self.resolved:
            parts.append(f"{self.resolved} xung đột đã được giải quyết")
        if self.attachments_uploaded:
            parts.append(f"{self.attachments_uploaded} bản quét đã gửi")
        if self.attachment_error:
            parts.append("bản quét chưa gửi được")
        return ", ".join(parts) + "."

    def as_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data."""
        data = dataclasses.asdict(self)
        data["state"] = self.state.value
        return data

    def add_outcome(self, outcome: PageOutcome, *, reset: bool = False) -> None:
        """Add what applying one server answer did (``reset``: the server restarted history)."""
        self.applied += outcome.statuses[wire.STATUS_APPLIED]
        self.merged += outcome.statuses[wire.STATUS_MERGED]
        self.conflicts += outcome.statuses[wire.STATUS_CONFLICT]
        self.rejected += outcome.statuses[wire.STATUS_REJECTED]
        self.pushed += sum(outcome.statuses.values())
        self.deferred += outcome.deferred
        self.pulled += outcome.pulled
        self.requeued += outcome.requeued
        self.epoch_changed = self.epoch_changed or outcome.epoch_changed or reset
        self.restored_fields += outcome.restored_fields
        self.new_conflicts.extend(outcome.new_conflicts)
        self.resolved += outcome.resolved
        self.blocks += outcome.blocks_added
