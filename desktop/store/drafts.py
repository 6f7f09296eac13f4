"""Drafts: the half-typed form the UI saves a second after the clerk stops typing.

Kept in the encrypted database (never in a plain file), local to the device (no outbox
entry), and deleted when the dossier is saved or the clerk discards it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from desktop.store.database import Connection


@dataclass(frozen=True)
class Draft:
    """A saved draft."""

    key: str
    procedure: str
    data: dict[str, Any]
    clerk: str | None
    updated_at: str


def save(
    conn: Connection, key: str, procedure: str, data: Mapping[str, Any], clerk: str | None, at: str
) -> None:
    """Insert or replace a draft (in the caller's transaction)."""
    conn.execute(
        "INSERT INTO drafts (key, procedure, data, clerk, updated_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (key) DO UPDATE SET procedure = excluded.procedure, data = excluded.data, "
        "clerk = excluded.clerk, updated_at = excluded.updated_at",
        (key, procedure, json.dumps(dict(data), ensure_ascii=False), clerk, at),
    )


def list_all(conn: Connection) -> list[Draft]:
    """Return every draft, most recently saved first."""
    rows = conn.execute(
        "SELECT key, procedure, data, clerk, updated_at FROM drafts ORDER BY updated_at DESC"
    ).fetchall()
    return [Draft(r[0], r[1], json.loads(r[2]), r[3], r[4]) for r in rows]


def delete(conn: Connection, key: str) -> bool:
    """Delete a draft; return whether it existed."""
    return bool(conn.execute("DELETE FROM drafts WHERE key = ?", (key,)).rowcount)
