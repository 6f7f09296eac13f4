"""Queries on the append-only change log (``changes``): append, look up, pull."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, func, select

from server import schema
from server.queries.base import TxBase, chunks
from server.rows import ChangeRow, change_row, dumps

__all__ = ["ChangeLogQueries"]


class ChangeLogQueries(TxBase):
    """Append to and read the change log."""

    def insert_change(self, change: ChangeRow) -> None:
        """Append one change to the log (buffered until a read of the log or the commit)."""
        self._changes.append(change.columns())

    def set_change_conflicts(self, server_seq: int, conflict_ids: list[int]) -> None:
        """Note conflict ids on a change not yet written (the log is never updated in place).

        A change already written keeps what it had; :meth:`conflict_ids_by_seq` (the conflicts
        table) is the authority either way.
        """
        for row in self._changes:
            if row["server_seq"] == server_seq:
                row["conflict_ids"] = dumps(conflict_ids)
                return

    def conflict_ids_by_seq(self, seqs: list[int]) -> dict[int, list[int]]:
        """Return the ids of the conflicts raised by the changes numbered ``seqs``."""
        t = schema.conflicts
        out: dict[int, list[int]] = {}
        for part in chunks(seqs):
            rows = self.conn.execute(
                select(t.c.id, t.c.server_seq).where(t.c.server_seq.in_(part)).order_by(t.c.id)
            ).all()
            for conflict_id, seq in rows:
                out.setdefault(int(seq), []).append(int(conflict_id))
        return out

    def changes_by_device_seqs(self, device_id: str, seqs: list[int]) -> dict[int, ChangeRow]:
        """Return the changes a device sent under any of ``seqs``, by device_seq."""
        if not seqs:
            return {}
        self.flush()
        t = schema.changes
        out: dict[int, ChangeRow] = {}
        for part in chunks(seqs):
            for m in self._all(
                select(t).where(and_(t.c.device_id == device_id, t.c.device_seq.in_(part)))
            ):
                row = change_row(m)
                out[int(row.device_seq or 0)] = row
        return out

    def existing_change_ids(self, change_ids: list[str]) -> set[str]:
        """Return which of ``change_ids`` the log already holds."""
        self.flush()
        t = schema.changes
        found: set[str] = set()
        for part in chunks(change_ids):
            found.update(
                self.conn.execute(select(t.c.change_id).where(t.c.change_id.in_(part))).scalars()
            )
        return found

    def _first_change(self, *where: ColumnElement[bool]) -> ChangeRow | None:
        """Return the first logged change (by server_seq) matching ``where``, or None."""
        self.flush()
        t = schema.changes
        m = self._first(select(t).where(*where).order_by(t.c.server_seq).limit(1))
        return change_row(m) if m else None

    def change_by_device_seq(self, device_id: str, device_seq: int) -> ChangeRow | None:
        """Return the change a device sent under ``device_seq``, or None."""
        t = schema.changes
        return self._first_change(t.c.device_id == device_id, t.c.device_seq == device_seq)

    def change_by_id(self, change_id: str) -> ChangeRow | None:
        """Return the first change logged under ``change_id``, or None."""
        return self._first_change(schema.changes.c.change_id == change_id)

    def change_at(self, server_seq: int) -> ChangeRow | None:
        """Return the change numbered ``server_seq``, or None."""
        return self._first_change(schema.changes.c.server_seq == server_seq)

    def device_seqs_from(self, device_id: str, start: int, count: int) -> list[int]:
        """Return the device_seqs held for a device in ``[start, start + count)``, sorted."""
        self.flush()
        t = schema.changes
        rows = self.conn.execute(
            select(t.c.device_seq)
            .where(
                and_(
                    t.c.device_id == device_id,
                    t.c.device_seq >= start,
                    t.c.device_seq < start + count,
                )
            )
            .order_by(t.c.device_seq)
        ).scalars()
        return [int(r) for r in rows]

    def contiguous_device_seq(self, device_id: str, known: int = 0) -> int:
        """Return the highest device_seq held with no gap below it (starting from ``known``)."""
        top = known
        while True:
            seqs = self.device_seqs_from(device_id, top + 1, 1000)
            for s in seqs:
                if s != top + 1:
                    return top
                top = s
            if len(seqs) < 1000:
                return top

    def pull(
        self, commune: str, after: int, upto: int, exclude_device: str, limit: int
    ) -> list[ChangeRow]:
        """Return up to ``limit`` applied changes of a commune's records in ``(after, upto]``.

        Changes made by ``exclude_device`` (the puller itself) are left out.
        """
        self.flush()
        t = schema.changes
        rows = self._all(
            select(t)
            .where(
                and_(
                    t.c.commune == commune,
                    t.c.server_seq > after,
                    t.c.server_seq <= upto,
                    t.c.status.in_(("applied", "merged")),
                    t.c.new_version.is_not(None),
                    t.c.device_id != exclude_device,
                )
            )
            .order_by(t.c.server_seq)
            .limit(limit)
        )
        return [change_row(m) for m in rows]

    def change_status_counts(self) -> dict[str, int]:
        """Return how many logged changes have each status."""
        self.flush()
        t = schema.changes
        rows = self.conn.execute(select(t.c.status, func.count()).group_by(t.c.status)).all()
        return {str(s): int(n) for s, n in rows}
