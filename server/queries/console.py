"""Queries behind provincial IT's console: the filtered inbox, deliveries, counts, the cube.

The inbox must stay fast with tens of thousands of open conflicts: it filters and orders on
indexed columns (``conflicts.status, created_at``, ``commune``, ``other_commune``) and joins
the record only for its materialised facts. The statistics cube groups the fact columns of
``records`` (:mod:`server.dossier_facts`), never the records' JSON.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    and_,
    case,
    func,
    insert,
    literal_column,
    select,
)

from desktop.forms.lifecycle import HUY
from server import schema
from server.queries.base import TxBase
from server.rows import ConflictRow, conflict_row, loads

__all__ = ["ConflictFilter", "ConsoleQueries", "InboxRow", "VersionOrigin"]


@dataclasses.dataclass(frozen=True)
class ConflictFilter:
    """Which conflicts an inbox page shows.

    Attributes:
        commune: only those of this commune (as the record's or the other record's commune).
        procedure: only those whose record is of this procedure.
        kind: only those of this kind.
        status: ``open``, ``resolved`` or ``all``.
        created_before: only those created at or before this server time (a minimum age).
        created_after: only those created after this server time (a maximum age).
    """

    commune: str | None = None
    procedure: str | None = None
    kind: str | None = None
    status: str = "open"
    created_before: int | None = None
    created_after: int | None = None


@dataclasses.dataclass(frozen=True)
class InboxRow:
    """A conflict with what the inbox shows of its record (None when the record is unknown)."""

    conflict: ConflictRow
    procedure: str | None
    values: dict[str, Any] | None


@dataclasses.dataclass(frozen=True)
class VersionOrigin:
    """Who made a record version: the change's device, clerk, clock stamp and arrival."""

    device_id: str
    clerk: str
    hlc: str
    received_at: int
    commune: str


def _conflict_where(f: ConflictFilter) -> list[ColumnElement[bool]]:
    c, r = schema.conflicts, schema.records
    where: list[ColumnElement[bool]] = []
    if f.status != "all":
        where.append(c.c.status == f.status)
    if f.commune:
        where.append((c.c.commune == f.commune) | (c.c.other_commune == f.commune))
    if f.kind:
        where.append(c.c.kind == f.kind)
    if f.procedure:
        where.append(r.c.procedure == f.procedure)
    if f.created_before is not None:
        where.append(c.c.created_at <= f.created_before)
    if f.created_after is not None:
        where.append(c.c.created_at > f.created_after)
    return where


def _inbox_from(with_record: bool) -> FromClause:
    c, r = schema.conflicts, schema.records
    if not with_record:
        return c
    return c.outerjoin(r, and_(r.c.entity == c.c.entity, r.c.entity_id == c.c.entity_id))


class ConsoleQueries(TxBase):
    """Read what the console shows; keep deliveries."""

    # --- the inbox ----------------------------------------------------------------------

    def conflict_page(
        self, f: ConflictFilter, *, offset: int, limit: int | None, newest_first: bool
    ) -> tuple[int, list[InboxRow]]:
        """Return how many conflicts match ``f`` and one page of them with their records."""
        self._flush_records()
        c, r = schema.conflicts, schema.records
        where = _conflict_where(f)
        total = self.conn.execute(
            select(func.count()).select_from(_inbox_from(bool(f.procedure))).where(*where)
        ).scalar()
        order = (c.c.created_at.desc(), c.c.id.desc()) if newest_first else (c.c.created_at, c.c.id)
        query = (
            select(c, r.c.procedure.label("r_procedure"), r.c["values"].label("r_values"))
            .select_from(_inbox_from(True))
            .where(*where)
            .order_by(*order)
            .offset(offset)
        )
        if limit is not None:
            query = query.limit(limit)
        rows = []
        for m in self._all(query):
            conflict = conflict_row({col.name: m[col.name] for col in c.columns})
            rows.append(InboxRow(conflict, m["r_procedure"], loads(m["r_values"])))
        return int(total or 0), rows

    # --- versions and their makers ------------------------------------------------------

    def version_origin(self, entity: str, entity_id: str, version: int) -> VersionOrigin | None:
        """Return who made a record's ``version`` (None for version 0 or an unknown one)."""
        self.flush()
        v, ch = schema.record_versions, schema.changes
        m = self._first(
            select(v.c.device_id, ch.c.clerk, ch.c.hlc, ch.c.received_at, ch.c.commune)
            .join(ch, ch.c.server_seq == v.c.server_seq)
            .where(v.c.entity == entity, v.c.entity_id == entity_id, v.c.version == version)
        )
        return None if m is None else VersionOrigin(**m)

    def record_history(self, entity_id: str) -> list[dict[str, Any]]:
        """Return every version of the records with ``entity_id`` and its change, oldest first."""
        self.flush()
        v, ch = schema.record_versions, schema.changes
        rows = self._all(
            select(
                v.c.version,
                v.c.server_seq,
                v.c.device_id,
                v.c.changed,
                v.c.deleted,
                ch.c.clerk,
                ch.c.received_at,
                ch.c.kind,
            )
            .join(ch, ch.c.server_seq == v.c.server_seq)
            .where(v.c.entity_id == entity_id)
            .order_by(v.c.entity, v.c.version)
        )
        return [
            {**dict(m), "changed": loads(m["changed"]), "deleted": bool(m["deleted"])} for m in rows
        ]

    # --- deliveries ---------------------------------------------------------------------

    def record_deliveries(
        self, device_id: str, commune: str, after: int, upto: int, at: int
    ) -> int:
        """Note that a device holds the commune's resolutions numbered in ``(after, upto]``.

        Only the first time per resolution and device is kept. Returns how many were new.
        """
        if upto <= after:
            return 0
        self.flush()
        ch, d = schema.changes, schema.deliveries
        ids = list(
            self.conn.execute(
                select(ch.c.change_id).where(
                    ch.c.commune == commune,
                    ch.c.kind == "resolution",
                    ch.c.server_seq > after,
                    ch.c.server_seq <= upto,
                )
            ).scalars()
        )
        if not ids:
            return 0
        held = set(
            self.conn.execute(
                select(d.c.change_id).where(d.c.device_id == device_id, d.c.change_id.in_(ids))
            ).scalars()
        )
        new = [
            {"change_id": i, "device_id": device_id, "received_at": at}
            for i in ids
            if i not in held
        ]
        if new:
            self.conn.execute(insert(d), new)
        return len(new)

    def deliveries_of(self, change_id: str) -> dict[str, int]:
        """Return when each device first held the resolution ``change_id``, by device id."""
        d = schema.deliveries
        rows = self.conn.execute(
            select(d.c.device_id, d.c.received_at).where(d.c.change_id == change_id)
        ).all()
        return {str(device): int(at) for device, at in rows}

    def delivery_counts(self, change_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
        """Return, per resolution change, (active devices of its commune that hold it, active
        devices of its commune): what the inbox row of a resolved conflict shows."""
        if not change_ids:
            return {}
        ch, dv, d = schema.changes, schema.devices, schema.deliveries
        delivered = (
            select(func.count())
            .select_from(d.join(dv, dv.c.device_id == d.c.device_id))
            .where(d.c.change_id == ch.c.change_id, dv.c.status == "active")
            .scalar_subquery()
        )
        active = (
            select(func.count())
            .where(dv.c.commune == ch.c.commune, dv.c.status == "active")
            .scalar_subquery()
        )
        rows = self.conn.execute(
            select(ch.c.change_id, delivered, active).where(ch.c.change_id.in_(list(change_ids)))
        ).all()
        return {str(change): (int(got), int(of)) for change, got, of in rows}

    # --- counts -------------------------------------------------------------------------

    def rejected_by_device(self) -> dict[str, int]:
        """Return how many of each device's changes the server rejected."""
        self.flush()
        ch = schema.changes
        return self._counts(
            select(ch.c.device_id, func.count())
            .where(ch.c.status == "rejected")
            .group_by(ch.c.device_id)
        )

    def open_conflicts_by_device(self) -> dict[str, int]:
        """Return how many open conflicts each device's changes raised."""
        c = schema.conflicts
        return self._counts(
            select(c.c.device_id, func.count()).where(c.c.status == "open").group_by(c.c.device_id)
        )

    def open_conflicts_by_commune(self) -> dict[str, int]:
        """Return how many open conflicts concern each commune (either record's commune)."""
        c = schema.conflicts
        counts = self._counts(
            select(c.c.commune, func.count()).where(c.c.status == "open").group_by(c.c.commune)
        )
        others = self._counts(
            select(c.c.other_commune, func.count())
            .where(
                c.c.status == "open",
                c.c.other_commune.is_not(None),
                c.c.other_commune != c.c.commune,
            )
            .group_by(c.c.other_commune)
        )
        for commune, n in others.items():
            counts[commune] = counts.get(commune, 0) + n
        return counts

    def dossiers_by_commune(self) -> dict[str, int]:
        """Return how many live dossiers the server holds for each commune."""
        self._flush_records()
        r = schema.records
        return self._counts(
            select(r.c.commune, func.count())
            .where(r.c.entity == "dossier", r.c.deleted.is_(False))
            .group_by(r.c.commune)
        )

    def _counts(self, query: Any) -> dict[str, int]:
        return {str(k): int(n) for k, n in self.conn.execute(query).all()}

    # --- statistics ---------------------------------------------------------------------

    def dossier_cube(
        self, period: str, since: str | None, until: str | None, today: str
    ) -> Sequence[Any]:
        """Return dossier counts by commune, procedure, status, period, lateness, processing.

        Args:
            period: ``week`` or ``month`` (the receipt date's Monday or first of the month).
            since: first receipt date counted (ISO), or None.
            until: last receipt date counted (ISO), or None.
            today: the local date that decides ``open`` from ``overdue``.

        Returns:
            Rows of ``commune, procedure, status, period_start, late, processing, count``.
        """
        self._flush_records()
        r = schema.records
        period_col = r.c["received_week" if period == "week" else "received_month"]
        finished, due = r.c.finished_on, r.c.due_on
        processing = case(
            (r.c.status == HUY, "cancelled"),
            (finished.is_not(None) & (due.is_(None) | (finished <= due)), "on_time"),
            (finished.is_not(None), "late"),
            (due.is_(None) | (due >= today), "open"),
            else_="overdue",
        ).label("processing")
        where = [
            r.c.entity == "dossier",
            r.c.deleted.is_(False),
            r.c.procedure.is_not(None),
            period_col.is_not(None),
        ]
        if since:
            where.append(r.c.received_on >= since)
        if until:
            where.append(r.c.received_on <= until)
        keys = (r.c.commune, r.c.procedure, r.c.status, period_col.label("period_start"), r.c.late)
        # Grouped by the output name: PostgreSQL sees each rendering of the CASE's bound
        # parameters as another expression.
        return (
            self.conn.execute(
                select(*keys, processing, func.count().label("count"))
                .where(*where)
                .group_by(
                    *keys[:3], literal_column("period_start"), keys[4], literal_column("processing")
                )
                .order_by(literal_column("period_start"), r.c.commune, r.c.procedure)
            )
            .mappings()
            .all()
        )
