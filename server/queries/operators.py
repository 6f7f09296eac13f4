"""Queries on provincial IT consoles (operators) and the one-time codes that enrol them."""

from __future__ import annotations

from typing import cast

from sqlalchemy import insert, select, update

from server import schema
from server.queries.base import TxBase
from server.queries.devices import enrolled_columns
from server.rows import OperatorCodeRow, OperatorRow, operator_row

__all__ = ["OperatorQueries"]


class OperatorQueries(TxBase):
    """Enrol, update and list operators; keep their codes."""

    def get_operator(self, operator_id: str) -> OperatorRow | None:
        """Return an operator, or None."""
        operators = schema.operators
        found = self._all(select(operators).where(operators.c.operator_id == operator_id))
        return operator_row(found[0]) if found else None

    def put_operator(
        self,
        operator_id: str,
        *,
        name: str,
        label: str,
        keys: dict[str, str],
        key_id: str,
        at: int,
        new: bool,
    ) -> None:
        """Enrol an operator (``new``) or enrol a revoked one again: new keys, ``active``."""
        t = schema.operators
        values = {"name": name, **enrolled_columns(label, keys, key_id, at)}
        if new:
            self.conn.execute(insert(t).values(operator_id=operator_id, **values))
        else:
            self.conn.execute(update(t).where(t.c.operator_id == operator_id).values(**values))

    def update_operator(self, operator_id: str, **values: str | int | None) -> None:
        """Update some columns of an operator (``values`` are ``operators`` columns)."""
        t = schema.operators
        self.conn.execute(update(t).where(t.c.operator_id == operator_id).values(**values))

    def list_operators(self) -> list[OperatorRow]:
        """Return every operator, by enrolment time."""
        t = schema.operators
        return [operator_row(m) for m in self._all(select(t).order_by(t.c.enrolled_at))]

    def insert_operator_code(
        self, code_key: bytes, name: str, created_at: int, expires_at: int
    ) -> int:
        """Store an operator code's derived key and the name it enrols; return its id."""
        result = self.conn.execute(
            insert(schema.operator_codes).values(
                code_key=code_key, name=name, created_at=created_at, expires_at=expires_at
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def operator_codes(self) -> list[OperatorCodeRow]:
        """Return every operator code issued (used and expired ones too: there are few)."""
        t = schema.operator_codes
        rows = self._all(select(t).order_by(t.c.id))
        return [cast(OperatorCodeRow, dict(m)) for m in rows]

    def mark_operator_code_used(self, code_id: int, operator_id: str, at: int) -> None:
        """Record that a code enrolled ``operator_id``."""
        t = schema.operator_codes
        self.conn.execute(
            update(t).where(t.c.id == code_id).values(used_by=operator_id, used_at=at)
        )
