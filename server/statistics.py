"""Sync health for provincial IT: devices, changes, records, open conflicts, last syncs, skew."""

from __future__ import annotations

from typing import Any

from server.context import ServerContext
from server.rows import DeviceRow

__all__ = ["stats"]


def stats(ctx: ServerContext) -> dict[str, Any]:
    """Return counts for provincial IT: devices, changes, open conflicts, last syncs, skew."""
    with ctx.storage.read() as tx:
        devices = tx.list_devices()
        by_status: dict[str, int] = {}
        for d in devices:
            by_status[d.status] = by_status.get(d.status, 0) + 1
        return {
            "devices": len(devices),
            "devices_by_status": by_status,
            "changes": tx.count("changes"),
            "changes_by_status": tx.change_status_counts(),
            "records": tx.count("records"),
            "conflicts_open": tx.count_open_conflicts(),
            "last_sync_by_commune": _last_sync_by_commune(devices),
            "skewed_devices": [d.device_id for d in devices if d.flagged_skew],
            "server_seq": tx.head()[0],
            "epoch": tx.get_meta("epoch"),
        }


def _last_sync_by_commune(devices: list[DeviceRow]) -> dict[str, int | None]:
    """Return each commune's latest sync over its devices (None when none has synced)."""
    per_commune: dict[str, int | None] = {}
    for d in devices:
        prev = per_commune.get(d.commune)
        if d.last_sync is not None and (prev is None or d.last_sync > prev):
            per_commune[d.commune] = d.last_sync
        else:
            per_commune.setdefault(d.commune, prev)
    return per_commune
