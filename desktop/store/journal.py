"""The two traces every local write to a synced entity leaves in its transaction.

An outbox change (what sync sends to the server) and an audit entry (who did what, when) are
written together by :func:`record_change`, so no write path can leave one without the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from desktop.store import audit, outbox
from desktop.store.context import WriteContext
from desktop.store.database import Connection


def record_change(
    conn: Connection,
    ctx: WriteContext,
    *,
    entity: str,
    entity_id: str,
    base_version: int,
    fields: Mapping[str, list[Any]],
    action: str,
    summary: str,
    at: str,
) -> outbox.Change:
    """Append the outbox change (an upsert) and its audit entry, in the caller's transaction.

    Args:
        conn: the write connection, inside the write's transaction.
        ctx: who writes, on which device.
        entity: ``dossier`` or ``attachment``.
        entity_id: the record written.
        base_version: the server version the write was made against (0: never synced).
        fields: each changed key to ``[old, new]``.
        action: the audit action (``dossier.create``, ``attachment.add`` …).
        summary: the audit summary (no personal data).
        at: the write's local timestamp.

    Returns:
        The outbox entry.
    """
    change = outbox.append_change(
        conn,
        ctx,
        entity=entity,
        entity_id=entity_id,
        op="upsert",
        base_version=base_version,
        fields=fields,
    )
    audit.append_audit(
        conn,
        at=at,
        clerk=ctx.clerk,
        action=action,
        entity=entity,
        entity_id=entity_id,
        summary=summary,
    )
    return change


def record_create(
    conn: Connection,
    ctx: WriteContext,
    *,
    entity: str,
    entity_id: str,
    values: Mapping[str, Any],
    action: str,
    summary: str,
    at: str,
) -> outbox.Change:
    """Journal a new record: every value changes from nothing (``[None, value]``), base 0."""
    return record_change(
        conn,
        ctx,
        entity=entity,
        entity_id=entity_id,
        base_version=0,
        fields={k: [None, v] for k, v in values.items()},
        action=action,
        summary=summary,
        at=at,
    )
