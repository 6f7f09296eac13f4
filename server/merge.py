"""Conflict rules: decide what a pushed change does to a record. Pure functions, no I/O.

The inputs are the record's current state, the versions made after the change's base version
(with who made them and which fields they changed) and the change itself. Wall-clock time is
not an input: it never decides a legal field. docs/protocol.md §5 is the prose version.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from desktop.forms.lifecycle import CANCELLED, STATUS_FIELD

__all__ = [
    "Decision",
    "Incoming",
    "RecordState",
    "VersionStep",
    "decide",
    "same_value",
]


@dataclasses.dataclass(frozen=True)
class RecordState:
    """A record as the server holds it now.

    Attributes:
        version: its current version (1 after the create).
        values: its current flat values.
        deleted: whether the current version is a deletion (tombstone).
    """

    version: int
    values: Mapping[str, Any]
    deleted: bool = False


@dataclasses.dataclass(frozen=True)
class VersionStep:
    """One version made after a change's base version.

    Attributes:
        version: the version number.
        device_id: who made it (``"server"`` for a resolution).
        changed: the fields it set, with their new values.
        deleted: whether it deleted the record.
    """

    version: int
    device_id: str
    changed: Mapping[str, Any]
    deleted: bool = False


@dataclasses.dataclass(frozen=True)
class Incoming:
    """A pushed change, as far as merging is concerned.

    Attributes:
        device_id: the device that made it.
        op: ``upsert`` or ``delete``.
        base_version: the server version it was made against (0: never pulled).
        fields: ``{field: (old, new)}``.
    """

    device_id: str
    op: str
    base_version: int
    fields: Mapping[str, Sequence[Any]]

    @property
    def cancels(self) -> bool:
        """Return True when the change sets the dossier status to cancelled (huỷ)."""
        pair = self.fields.get(STATUS_FIELD)
        return pair is not None and pair[1] == CANCELLED


@dataclasses.dataclass(frozen=True)
class Decision:
    """What to do with a change.

    Attributes:
        status: ``applied``, ``merged``, ``conflict`` or ``rejected``.
        writes: the fields to set and their new values (empty unless applied/merged).
        delete: whether the record is to be deleted.
        kind: the conflict kind (``field`` or ``delete``), for a conflict.
        clashing: the fields in conflict.
        reason: why, in English, for conflicts and rejections.
    """

    status: str
    writes: dict[str, Any] = dataclasses.field(default_factory=dict)
    delete: bool = False
    kind: str | None = None
    clashing: tuple[str, ...] = ()
    reason: str | None = None


def same_value(a: Any, b: Any) -> bool:
    """Return True when two JSON values are the same (``1`` is not ``true``, ``1`` is ``1.0``)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def decide(
    record: RecordState | None, since_base: Sequence[VersionStep], change: Incoming
) -> Decision:
    """Decide the fate of ``change`` against ``record``.

    Args:
        record: the current state, or None when the server has no such record.
        since_base: the versions above ``change.base_version``, oldest first.
        change: the pushed change.

    Returns:
        The decision; a conflict or a rejection writes nothing.
    """
    if record is None:
        if change.op == "upsert" and change.base_version == 0:
            return Decision("applied", writes={k: v[1] for k, v in change.fields.items()})
        return Decision("rejected", reason="record not found on the server")

    # What other parties (other devices, resolutions) did since the change's base. The
    # device's own later changes were known to it when it made this one.
    others = [s for s in since_base if s.device_id != change.device_id]
    if record.deleted:
        return _against_deleted(others, change)
    others_changed: set[str] = set()
    for step in others:
        others_changed.update(step.changed)
    if change.op == "delete":
        if others:
            return Decision(
                "conflict",
                kind="delete",
                clashing=tuple(sorted(others_changed)),
                reason="delete of a record edited since its base version",
            )
        return Decision("applied", delete=True)
    cancelled = _cancellation_conflict(record, others, others_changed, change)
    if cancelled is not None:
        return cancelled
    return _merge_fields(record.values, others, others_changed, change)


def _against_deleted(others: Sequence[VersionStep], change: Incoming) -> Decision:
    """Decide a change to a record whose current version is a deletion."""
    if change.op == "delete":
        return Decision("merged" if others else "applied")
    if any(s.deleted for s in others):
        return Decision(
            "conflict",
            kind="delete",
            clashing=tuple(sorted(change.fields)),
            reason="edit of a record deleted since its base version",
        )
    return Decision("rejected", reason="record is deleted")


def _cancellation_conflict(
    record: RecordState,
    others: Sequence[VersionStep],
    others_changed: set[str],
    change: Incoming,
) -> Decision | None:
    """Return the conflict of a cancellation (huỷ) meeting an edit, or None."""
    currently_cancelled = record.values.get(STATUS_FIELD) == CANCELLED
    others_cancelled = currently_cancelled and any(
        s.changed.get(STATUS_FIELD) == CANCELLED for s in others
    )
    if change.cancels and not currently_cancelled and others:
        return Decision(
            "conflict",
            kind="delete",
            clashing=tuple(sorted(others_changed | {STATUS_FIELD})),
            reason="cancellation of a dossier edited since its base version",
        )
    if others_cancelled and not change.cancels and change.fields:
        return Decision(
            "conflict",
            kind="delete",
            clashing=tuple(sorted(change.fields)),
            reason="edit of a dossier cancelled since its base version",
        )
    return None


def _merge_fields(
    current: Mapping[str, Any],
    others: Sequence[VersionStep],
    others_changed: set[str],
    change: Incoming,
) -> Decision:
    """Merge an edit field by field: a conflict only where another party set another value."""
    clashing = tuple(
        sorted(
            key
            for key, (old, new) in ((k, (v[0], v[1])) for k, v in change.fields.items())
            if key in others_changed
            and not same_value(current.get(key), new)
            and not same_value(current.get(key), old)
        )
    )
    if clashing:
        return Decision(
            "conflict",
            kind="field",
            clashing=clashing,
            reason="fields changed by another device since the base version: "
            + ", ".join(clashing),
        )
    writes = {k: v[1] for k, v in change.fields.items() if not same_value(current.get(k), v[1])}
    return Decision("merged" if others else "applied", writes=writes)
