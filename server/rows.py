"""The rows the server's storage reads and writes, typed, and their JSON columns.

Devices, change-log entries and records are frozen dataclasses; the smaller rows (enrolment
codes, sessions, conflicts, versions, book blocks, attachments) are TypedDicts, because callers
read them by key and the administration calls hand them on as JSON. JSON columns are stored as
canonical JSON text (:func:`dumps`) and come back parsed.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any, TypedDict, cast

from sqlalchemy import RowMapping

__all__ = [
    "CONFLICT_JSON_COLUMNS",
    "SERVER_DEVICE_ID",
    "AttachmentRow",
    "BookBlockRow",
    "ChangeRow",
    "ConflictRow",
    "DeviceRow",
    "EnrolCodeRow",
    "EnrolledRow",
    "NewConflict",
    "OperatorCodeRow",
    "OperatorRow",
    "RecordRow",
    "SessionRow",
    "VersionRow",
    "change_row",
    "conflict_row",
    "device_row",
    "dumps",
    "loads",
    "operator_row",
    "record_row",
    "version_row",
]

#: The device id under which the server itself logs changes (resolutions).
SERVER_DEVICE_ID = "server"

#: The JSON columns of the conflicts table.
CONFLICT_JSON_COLUMNS = ("fields", "base", "current", "incoming")


def dumps(obj: Any) -> str:
    """Return canonical JSON text for a JSON column."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def loads(text: str | None) -> Any:
    """Parse a JSON column (None stays None)."""
    return None if text is None else json.loads(text)


@dataclasses.dataclass(frozen=True)
class EnrolledRow:
    """What enrolment gives a device or an operator: a label, keys and a status."""

    label: str
    keys: dict[str, str]
    key_id: str
    status: str
    status_reason: str
    enrolled_at: int
    last_seen: int | None


@dataclasses.dataclass(frozen=True)
class DeviceRow(EnrolledRow):
    """An enrolled device as stored."""

    device_id: str
    commune: str
    last_sync: int | None
    last_device_seq: int
    clock_offset_ms: int | None
    flagged_skew: bool
    pending_reported: int | None = None  # what its last sync reported
    app_version: str | None = None
    last_error: str | None = None
    acked_seq: int | None = None  # the server_seq of the last log cursor it sent back


@dataclasses.dataclass(frozen=True)
class OperatorRow(EnrolledRow):
    """An enrolled provincial IT console as stored."""

    operator_id: str
    name: str


@dataclasses.dataclass(frozen=True)
class ChangeRow:
    """One entry of the change log (its fields are the ``changes`` table's columns)."""

    server_seq: int
    chain: str
    change_id: str
    device_id: str
    device_seq: int | None
    entity: str
    entity_id: str
    commune: str
    op: str
    base_version: int
    new_version: int | None
    fields: dict[str, list[Any]]
    applied: dict[str, list[Any]]
    hlc: str
    clerk: str
    status: str
    reason: str | None
    conflict_ids: list[int]
    kind: str
    parents: list[Any] | None
    signature: str | None
    received_at: int

    def columns(self) -> dict[str, Any]:
        """Return the row's column values, JSON columns as canonical text."""
        values = dict(vars(self))  # shallow: asdict() would deep-copy the field values
        for key in ("fields", "applied", "conflict_ids"):
            values[key] = dumps(values[key])
        values["parents"] = None if self.parents is None else dumps(self.parents)
        return values


@dataclasses.dataclass(frozen=True)
class RecordRow:
    """The current state of one record."""

    entity: str
    entity_id: str
    commune: str
    version: int
    values: dict[str, Any]
    field_seq: dict[str, int]
    deleted: bool
    updated_seq: int
    dup_key: str | None
    book_key: str | None
    #: The local date its status became ``hoan_thanh`` (:mod:`server.dossier_facts`).
    finished_on: str | None = None


#: The columns of ``records`` a :class:`RecordRow` holds (the others are derived facts).
_RECORD_FIELDS = tuple(f.name for f in dataclasses.fields(RecordRow))


class EnrolCodeRow(TypedDict):
    """A one-time enrolment code as stored: only a key derived from the code."""

    id: int
    code_key: bytes
    commune: str
    created_at: int
    expires_at: int
    used_by: str | None
    used_at: int | None


class OperatorCodeRow(TypedDict):
    """A one-time operator code as stored: a key derived from the code and the name it gives."""

    id: int
    code_key: bytes
    name: str
    created_at: int
    expires_at: int
    used_by: str | None
    used_at: int | None


class SessionRow(TypedDict):
    """A session key a device may seal its requests with instead of HPKE."""

    session_id: str
    device_id: str
    key: bytes
    expires_at: int


class VersionRow(TypedDict):
    """One kept version of a record (JSON columns parsed)."""

    entity: str
    entity_id: str
    version: int
    server_seq: int
    change_id: str
    device_id: str
    values: dict[str, Any]
    changed: dict[str, Any]
    deleted: bool


class NewConflict(TypedDict):
    """A conflict to store: what clashed, the versions involved, who pushed it.

    ``other_entity_id`` and ``other_commune`` name the second record of a domain conflict
    (same event twice, same book number); they are None for field and delete conflicts.
    """

    kind: str
    entity: str
    entity_id: str
    other_entity_id: str | None
    commune: str
    other_commune: str | None
    change_id: str
    server_seq: int
    base_version: int
    current_version: int
    fields: list[str]
    base: dict[str, Any]
    current: dict[str, Any]
    incoming: dict[str, Any]
    device_id: str
    clerk: str
    hlc: str
    created_at: int


class ConflictRow(NewConflict):
    """A stored conflict (JSON columns parsed), open or resolved."""

    id: int
    status: str
    resolution_change_id: str | None
    resolution_reason: str | None
    resolved_at: int | None
    resolved_by: str | None


class BookBlockRow(TypedDict):
    """A block of register-book numbers granted to one device."""

    id: int
    commune: str
    book_type: str
    year: int
    start: int
    end: int
    device_id: str
    granted_at: int


class AttachmentRow(TypedDict):
    """An attachment's upload state."""

    sha256: str
    size: int
    received: int
    complete: bool
    device_id: str
    commune: str
    created_at: int
    completed_at: int | None


def _parsed(
    m: Mapping[Any, Any], json_columns: tuple[str, ...] = (), bool_columns: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Return a row's columns by name, JSON columns parsed and booleans made ``bool``."""
    row = dict(m)
    for key in json_columns:
        row[key] = loads(row[key])
    for key in bool_columns:
        row[key] = bool(row[key])
    return row


def device_row(m: RowMapping) -> DeviceRow:
    """Return the device of a ``devices`` row."""
    return DeviceRow(**_parsed(m, ("keys",), ("flagged_skew",)))


def operator_row(m: RowMapping) -> OperatorRow:
    """Return the operator of an ``operators`` row."""
    return OperatorRow(**_parsed(m, ("keys",)))


def change_row(m: RowMapping) -> ChangeRow:
    """Return the log entry of a ``changes`` row."""
    return ChangeRow(**_parsed(m, ("fields", "applied", "conflict_ids", "parents")))


def record_row(m: RowMapping) -> RecordRow:
    """Return the record of a ``records`` row."""
    row = _parsed(m, ("values", "field_seq"), ("deleted",))
    return RecordRow(**{k: row[k] for k in _RECORD_FIELDS})


def version_row(m: RowMapping) -> VersionRow:
    """Return the version of a ``record_versions`` row."""
    return cast(VersionRow, _parsed(m, ("values", "changed"), ("deleted",)))


def conflict_row(m: Mapping[Any, Any]) -> ConflictRow:
    """Return the conflict of a ``conflicts`` row."""
    return cast(ConflictRow, _parsed(m, CONFLICT_JSON_COLUMNS))
