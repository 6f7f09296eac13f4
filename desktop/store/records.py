"""Dossier records as read: the record, list-row summaries, status history, and the queries.

A dossier record is the flat dictionary of docs/architecture.md: metadata keys
(``procedure``, ``commune``, ``dossier_no``, ``status``, ``received_at``, ``due_at``,
``late``, ``book_type``, ``book_year``, ``book_number``; ``duplicate_of`` once provincial IT
marked it the duplicate of another dossier) and ``data.<field>`` keys.
Indexed columns of the ``dossiers`` table repeat what queries need; the ``record`` column
holds the whole dictionary as JSON (encrypted at rest like every page of the database).
The writes are in :mod:`desktop.store.dossiers`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from desktop.forms.lifecycle import CHO_KY, FINAL_STATUSES, HUY, STATUSES, TRA_LAI
from desktop.store import domain, search
from desktop.store.database import Connection
from desktop.store.errors import DossierNotFound
from protocol.admin import DUPLICATE_OF_FIELD

DATA_PREFIX = "data."
#: Statuses a clerk still works on (not final): what the dashboard's due list shows.
OPEN_STATUSES = tuple(s for s in STATUSES if s not in FINAL_STATUSES)


@dataclass(frozen=True)
class DossierRecord:
    """A whole dossier as stored.

    Attributes:
        id: the dossier's UUIDv7.
        record: the flat record dictionary (metadata and ``data.<field>`` keys).
        server_version: the server version this device last received (0: never synced).
        created_at, updated_at: local timestamps (ISO with offset).
        created_by, updated_by: usernames.
    """

    id: str
    record: dict[str, Any]
    server_version: int = 0
    created_at: str = ""
    updated_at: str = ""
    created_by: str | None = None
    updated_by: str | None = None

    @property
    def procedure(self) -> str:
        """The procedure code."""
        return str(self.record.get("procedure", ""))

    @property
    def dossier_no(self) -> str:
        """The receipt number printed on the slip."""
        return str(self.record.get("dossier_no", ""))

    @property
    def status(self) -> str:
        """The lifecycle status."""
        return str(self.record.get("status", ""))

    @property
    def received_at(self) -> str:
        """When the papers were received (ISO local datetime)."""
        return str(self.record.get("received_at", ""))

    @property
    def due_at(self) -> str | None:
        """The promised date (ISO), if known."""
        value = self.record.get("due_at")
        return str(value) if value else None

    @property
    def late(self) -> bool:
        """Whether the event was registered after its legal deadline."""
        return bool(self.record.get("late"))

    @property
    def book_number(self) -> int | None:
        """The register book number, once assigned."""
        value = self.record.get("book_number")
        return int(value) if value is not None else None

    @property
    def duplicate_of(self) -> str | None:
        """The id of the dossier provincial IT marked this one a duplicate of, if any.

        Nothing is deleted: the duplicate stays, with this mark, in every commune's history.
        """
        value = self.record.get(DUPLICATE_OF_FIELD)
        return str(value) if value else None

    @property
    def data(self) -> dict[str, Any]:
        """The procedure fields without the ``data.`` prefix."""
        n = len(DATA_PREFIX)
        return {k[n:]: v for k, v in self.record.items() if k.startswith(DATA_PREFIX)}

    def display_name(self) -> str:
        """Return the main person's name (both spouses for a marriage)."""
        try:
            return str(domain.get_procedure(self.procedure).display_name(self.data))
        except ValueError:
            return ""


@dataclass(frozen=True)
class DossierSummary:
    """What a list row shows about a dossier."""

    id: str
    dossier_no: str
    procedure: str
    status: str
    display_name: str
    received_at: str
    due_at: str | None
    late: bool
    book_type: str | None = None
    book_year: int | None = None
    book_number: int | None = None
    duplicate_of: str | None = None


@dataclass(frozen=True)
class StatusChange:
    """One step of a dossier's status timeline."""

    at: str
    clerk: str | None
    from_status: str | None
    to_status: str
    note: str


# -- reading --------------------------------------------------------------------------------

RECORD_COLUMNS = "id, record, server_version, created_at, updated_at, created_by, updated_by, rowid"


def record_from_row(row: tuple[Any, ...]) -> DossierRecord:
    """Return the record of a row selected with :data:`RECORD_COLUMNS`."""
    return DossierRecord(row[0], json.loads(row[1]), *row[2:7])


def summary_of(record: DossierRecord) -> DossierSummary:
    """Return the list-row summary of a dossier."""
    r = record.record
    return DossierSummary(
        id=record.id,
        dossier_no=record.dossier_no,
        procedure=record.procedure,
        status=record.status,
        display_name=record.display_name(),
        received_at=record.received_at,
        due_at=record.due_at,
        late=record.late,
        book_type=r.get("book_type"),
        book_year=r.get("book_year"),
        book_number=r.get("book_number"),
        duplicate_of=record.duplicate_of,
    )


def get(conn: Connection, dossier_id: str) -> DossierRecord:
    """Return one dossier.

    Raises:
        DossierNotFound: no dossier has this id.
    """
    row = conn.execute(
        f"SELECT {RECORD_COLUMNS} FROM dossiers WHERE id = ?", (dossier_id,)
    ).fetchone()
    if row is None:
        raise DossierNotFound(f"no dossier with id {dossier_id}")
    return record_from_row(row)


def find_by_number(conn: Connection, dossier_no: str) -> DossierRecord | None:
    """Return the dossier with this receipt number, if any."""
    row = conn.execute(
        f"SELECT {RECORD_COLUMNS} FROM dossiers WHERE dossier_no = ? LIMIT 1", (dossier_no,)
    ).fetchone()
    return record_from_row(row) if row else None


def select(conn: Connection, where: str, args: tuple[Any, ...], order: str) -> list[DossierRecord]:
    """Return dossiers matching a SQL condition (internal helper for the façade's queries)."""
    sql = f"SELECT {RECORD_COLUMNS} FROM dossiers WHERE {where} ORDER BY {order}"
    return [record_from_row(r) for r in conn.execute(sql, args).fetchall()]


def find_duplicates(
    conn: Connection, dup_key: str | None, *, exclude_id: str | None = None
) -> list[DossierSummary]:
    """Return live dossiers (not huỷ/trả lại) with the same duplicate key, newest first."""
    if not dup_key:
        return []
    records = select(
        conn,
        "dup_key = ? AND status NOT IN (?, ?) AND id != ?",
        (dup_key, HUY, TRA_LAI, exclude_id or ""),
        "rowid DESC",
    )
    return [summary_of(r) for r in records]


def search_dossiers(conn: Connection, text: str, limit: int = 50) -> list[DossierSummary]:
    """Return dossiers matching ``text`` (see :mod:`desktop.store.search`), best first."""
    rowids = search.ranked_rowids(conn, text, limit)
    if not rowids:
        return []
    placeholders = ",".join("?" * len(rowids))
    rows = conn.execute(
        f"SELECT {RECORD_COLUMNS} FROM dossiers WHERE rowid IN ({placeholders})", rowids
    ).fetchall()
    by_rowid = {r[7]: record_from_row(r) for r in rows}
    return [summary_of(by_rowid[r]) for r in rowids if r in by_rowid]


def status_history(conn: Connection, dossier_id: str) -> list[StatusChange]:
    """Return the status timeline of a dossier, oldest first."""
    rows = conn.execute(
        "SELECT at, clerk, from_status, to_status, note FROM status_history "
        "WHERE dossier_id = ? ORDER BY id",
        (dossier_id,),
    ).fetchall()
    return [StatusChange(*r) for r in rows]


def _summaries(
    conn: Connection, where: str, args: tuple[Any, ...], order: str
) -> list[DossierSummary]:
    return [summary_of(r) for r in select(conn, where, args, order)]


def received_on(conn: Connection, day: dt.date) -> list[DossierSummary]:
    """Return dossiers received on a day, in order of receipt."""
    nxt = day + dt.timedelta(days=1)
    return _summaries(
        conn,
        "received_at >= ? AND received_at < ?",
        (day.isoformat(), nxt.isoformat()),
        "received_at, rowid",
    )


def due_or_late(conn: Connection, today: dt.date) -> list[DossierSummary]:
    """Return open dossiers due today or overdue, most overdue first."""
    marks = ", ".join("?" for _ in OPEN_STATUSES)
    return _summaries(
        conn,
        f"status IN ({marks}) AND due_at <= ?",
        (*OPEN_STATUSES, today.isoformat()),
        "due_at, rowid",
    )


def waiting_signature(conn: Connection) -> list[DossierSummary]:
    """Return dossiers waiting for the leader's signature (chờ ký), oldest first."""
    return _summaries(conn, "status = ?", (CHO_KY,), "received_at, rowid")


def count(conn: Connection, status: str | None = None) -> int:
    """Return how many dossiers the store holds (optionally with one status)."""
    if status is None:
        return int(conn.execute("SELECT count(*) FROM dossiers").fetchone()[0])
    row = conn.execute("SELECT count(*) FROM dossiers WHERE status = ?", (status,))
    return int(row.fetchone()[0])


def iter_records(conn: Connection, batch: int = 500) -> Iterator[DossierRecord]:
    """Yield every dossier in order of creation, ``batch`` rows per query (for export)."""
    last = 0
    while True:
        rows = conn.execute(
            f"SELECT {RECORD_COLUMNS} FROM dossiers WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (last, batch),
        ).fetchall()
        if not rows:
            return
        for row in rows:
            yield record_from_row(row)
        last = rows[-1][7]
