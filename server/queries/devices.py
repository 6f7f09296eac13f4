"""Queries on devices and what authenticates them: enrolment codes, sessions, seen batches."""

from __future__ import annotations

from typing import cast

from sqlalchemy import and_, delete, insert, select, update

from server import schema
from server.queries.base import TxBase
from server.rows import DeviceRow, EnrolCodeRow, SessionRow, device_row, dumps

__all__ = ["DeviceQueries", "enrolled_columns"]


class DeviceQueries(TxBase):
    """Enrol, update and list devices; keep their codes, sessions and batch ids."""

    # --- devices ------------------------------------------------------------------------

    def get_device(self, device_id: str) -> DeviceRow | None:
        """Return a device, or None."""
        t = schema.devices
        m = self._first(select(t).where(t.c.device_id == device_id))
        return device_row(m) if m else None

    def insert_device(
        self, device_id: str, commune: str, label: str, keys: dict[str, str], key_id: str, at: int
    ) -> None:
        """Enrol a device (status ``active``)."""
        self.conn.execute(
            insert(schema.devices).values(
                device_id=device_id,
                commune=commune,
                last_device_seq=0,
                flagged_skew=False,
                **enrolled_columns(label, keys, key_id, at),
            )
        )

    def reactivate_device(
        self, device_id: str, label: str, keys: dict[str, str], key_id: str, at: int
    ) -> None:
        """Enrol a revoked device again (a fresh code from IT): new keys, status ``active``."""
        self.update_device(device_id, **enrolled_columns(label, keys, key_id, at))

    def update_device(self, device_id: str, **values: str | int | bool | None) -> None:
        """Update some columns of a device (``values`` are ``devices`` columns)."""
        t = schema.devices
        self.conn.execute(update(t).where(t.c.device_id == device_id).values(**values))

    def list_devices(self, commune: str | None = None) -> list[DeviceRow]:
        """Return every device (of one commune when given), by commune then enrolment time."""
        t = schema.devices
        query = select(t).order_by(t.c.commune, t.c.enrolled_at)
        if commune:
            query = query.where(t.c.commune == commune)
        return [device_row(m) for m in self._all(query)]

    # --- enrolment codes ----------------------------------------------------------------

    def insert_code(self, code_key: bytes, commune: str, created_at: int, expires_at: int) -> int:
        """Store a one-time code's derived key; return its id."""
        result = self.conn.execute(
            insert(schema.enrol_codes).values(
                code_key=code_key, commune=commune, created_at=created_at, expires_at=expires_at
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def codes_for_commune(self, commune: str) -> list[EnrolCodeRow]:
        """Return every code issued for a commune (used and expired ones too)."""
        t = schema.enrol_codes
        rows = self._all(select(t).where(t.c.commune == commune).order_by(t.c.id))
        return [cast(EnrolCodeRow, dict(m)) for m in rows]

    def mark_code_used(self, code_id: int, device_id: str, at: int) -> None:
        """Record that a code enrolled ``device_id``."""
        t = schema.enrol_codes
        self.conn.execute(update(t).where(t.c.id == code_id).values(used_by=device_id, used_at=at))

    # --- replay guard and sessions ------------------------------------------------------

    def remember_batch(self, device_id: str, batch_id: str, at: int) -> bool:
        """Record an envelope's batch id; return False if it was seen before (a replay)."""
        t = schema.seen_batches
        seen = self.conn.execute(
            select(t.c.batch_id).where(and_(t.c.device_id == device_id, t.c.batch_id == batch_id))
        ).first()
        if seen:
            return False
        # Under the write lock no other transaction can insert the same id in between.
        self.conn.execute(insert(t).values(device_id=device_id, batch_id=batch_id, received_at=at))
        return True

    def prune_batches(self, before: int) -> int:
        """Forget batch ids received before ``before``; return how many."""
        t = schema.seen_batches
        return int(self.conn.execute(delete(t).where(t.c.received_at < before)).rowcount or 0)

    def insert_session(self, session_id: str, device_id: str, key: bytes, expires_at: int) -> None:
        """Store a session key."""
        self.conn.execute(
            insert(schema.sessions).values(
                session_id=session_id, device_id=device_id, key=key, expires_at=expires_at
            )
        )

    def get_session(self, session_id: str) -> SessionRow | None:
        """Return a session, or None."""
        t = schema.sessions
        m = self._first(select(t).where(t.c.session_id == session_id))
        return cast(SessionRow, dict(m)) if m else None

    def prune_sessions(self, now: int) -> None:
        """Drop expired sessions."""
        t = schema.sessions
        self.conn.execute(delete(t).where(t.c.expires_at < now))

    def drop_sessions(self, device_id: str) -> None:
        """Drop every session of a device (revocation)."""
        t = schema.sessions
        self.conn.execute(delete(t).where(t.c.device_id == device_id))


def enrolled_columns(
    label: str, keys: dict[str, str], key_id: str, at: int
) -> dict[str, str | int]:
    """Return the columns an enrolment sets (of a device or an operator): label, keys, active
    status, enrolment time."""
    return {
        "label": label,
        "keys": dumps(keys),
        "key_id": key_id,
        "status": "active",
        "status_reason": "",
        "enrolled_at": at,
    }
