"""Queries on conflicts: store, list, find and resolve them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, insert, select, update

from server import schema
from server.queries.base import TxBase
from server.rows import CONFLICT_JSON_COLUMNS, ConflictRow, NewConflict, conflict_row, dumps

__all__ = ["ConflictQueries"]


class ConflictQueries(TxBase):
    """Keep the conflicts provincial IT decides."""

    def insert_conflict(self, conflict: NewConflict) -> int:
        """Store an open conflict; return its id."""
        row: dict[str, Any] = dict(conflict)
        for key in CONFLICT_JSON_COLUMNS:
            row[key] = dumps(row[key])
        row["status"] = "open"
        result = self.conn.execute(insert(schema.conflicts).values(**row))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def get_conflict(self, conflict_id: int) -> ConflictRow | None:
        """Return a conflict, or None."""
        t = schema.conflicts
        m = self._first(select(t).where(t.c.id == conflict_id))
        return conflict_row(m) if m else None

    def list_conflicts(self, status: str | None = None) -> list[ConflictRow]:
        """Return conflicts, oldest first (only those with ``status`` when given)."""
        t = schema.conflicts
        query = select(t).order_by(t.c.id)
        if status:
            query = query.where(t.c.status == status)
        return [conflict_row(m) for m in self._all(query)]

    def open_conflict_between(self, kind: str, a: str, b: str) -> bool:
        """Return True if an open conflict of ``kind`` already links records ``a`` and ``b``."""
        t = schema.conflicts
        n = self.conn.execute(
            select(func.count())
            .select_from(t)
            .where(
                and_(
                    t.c.kind == kind,
                    t.c.status == "open",
                    ((t.c.entity_id == a) & (t.c.other_entity_id == b))
                    | ((t.c.entity_id == b) & (t.c.other_entity_id == a)),
                )
            )
        ).scalar()
        return bool(n)

    def resolve_conflict(
        self, conflict_id: int, change_id: str, reason: str, at: int, by: str = "provincial-it"
    ) -> None:
        """Mark a conflict resolved by a resolution change (``""``: closed without one)."""
        t = schema.conflicts
        self.conn.execute(
            update(t)
            .where(t.c.id == conflict_id)
            .values(
                status="resolved",
                resolution_change_id=change_id,
                resolution_reason=reason,
                resolved_at=at,
                resolved_by=by,
            )
        )

    def count_open_conflicts(self, commune: str | None = None) -> int:
        """Return how many conflicts are open (for one commune, or for all)."""
        t = schema.conflicts
        query = select(func.count()).select_from(t).where(t.c.status == "open")
        if commune:
            query = query.where((t.c.commune == commune) | (t.c.other_commune == commune))
        return int(self.conn.execute(query).scalar() or 0)
