"""A record's history for provincial IT: every version, oldest first (``records.history``).

The losing side of a conflict stays here: a resolution makes a new version, it never rewrites
an old one.
"""

from __future__ import annotations

from protocol import errors
from protocol.admin import RecordVersion
from server.errors import ApiError
from server.storage import Tx

__all__ = ["record_history"]


def record_history(tx: Tx, entity_id: str) -> list[RecordVersion]:
    """Answer ``records.history``.

    Raises:
        ApiError: 404 when the server holds no record ``entity_id``.
    """
    versions = tx.record_history(entity_id)
    if not versions:
        raise ApiError(404, errors.ERR_NOT_FOUND, f"no record {entity_id!r}")
    return [
        {
            "version": int(v["version"]),
            "server_seq": int(v["server_seq"]),
            "device_id": str(v["device_id"]),
            "clerk": str(v["clerk"]),
            "received_at": v["received_at"],
            "changed": v["changed"],
            "deleted": v["deleted"],
            "kind": str(v["kind"]),
        }
        for v in versions
    ]
