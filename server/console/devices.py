"""Devices and the communes' sync health, as provincial IT watches them.

Every device with what it last reported of itself (changes waiting, app version, last error),
its clock offset and what the server holds against it (rejected changes, open conflicts); and
every commune of the province — all 99, whether or not a PC is enrolled there — with its
latest sync, whether it has gone quiet for more than a day, its open conflicts, its devices in
error, the changes waiting on its PCs and the dossiers the server holds for it.
"""

from __future__ import annotations

from collections import defaultdict

from desktop.forms.reference import commune_by_code, communes
from protocol.admin import CommuneHealth, DeviceInfo
from server.rows import DeviceRow
from server.storage import Tx

__all__ = ["STALE_MS", "commune_health", "device_infos"]

#: A commune whose latest sync is older than this is stale.
STALE_MS = 24 * 3600 * 1000


def _commune_name(code: str) -> str:
    commune = commune_by_code(code)
    return commune.name if commune is not None else ""


def device_infos(tx: Tx, commune: str | None = None) -> list[DeviceInfo]:
    """Answer ``devices.list``: every enrolled device (of one commune when given)."""
    rejected = tx.rejected_by_device()
    conflicts = tx.open_conflicts_by_device()
    return [
        {
            "device_id": d.device_id,
            "commune": d.commune,
            "commune_name": _commune_name(d.commune),
            "label": d.label,
            "status": d.status,
            "status_reason": d.status_reason,
            "enrolled_at": d.enrolled_at,
            "last_seen": d.last_seen,
            "last_sync": d.last_sync,
            "pending_reported": d.pending_reported,
            "app_version": d.app_version,
            "clock_offset_ms": d.clock_offset_ms,
            "flagged_skew": d.flagged_skew,
            "last_error": d.last_error,
            "rejected": rejected.get(d.device_id, 0),
            "conflicts_open": conflicts.get(d.device_id, 0),
        }
        for d in tx.list_devices(commune)
    ]


def _in_error(device: DeviceRow) -> bool:
    """Whether a device needs IT: revoked, cloned, or reporting an error."""
    return device.status != "active" or bool(device.last_error)


def commune_health(tx: Tx, now: int) -> list[CommuneHealth]:
    """Answer ``health.communes``: every commune of the province (then any other code seen)."""
    by_commune: dict[str, list[DeviceRow]] = defaultdict(list)
    for device in tx.list_devices():
        by_commune[device.commune].append(device)
    conflicts = tx.open_conflicts_by_commune()
    dossiers = tx.dossiers_by_commune()
    known = [c.code for c in communes()]
    others = sorted({*by_commune, *dossiers, *conflicts} - set(known))
    health: list[CommuneHealth] = []
    for code in known + others:
        devices = by_commune.get(code, [])
        syncs = [d.last_sync for d in devices if d.last_sync is not None]
        last = max(syncs) if syncs else None
        health.append(
            {
                "commune": code,
                "name": _commune_name(code),
                "devices": sum(1 for d in devices if d.status == "active"),
                "last_sync": last,
                "stale": last is None or now - last > STALE_MS,
                "conflicts_open": conflicts.get(code, 0),
                "errors": sum(1 for d in devices if _in_error(d)),
                "pending": sum(d.pending_reported or 0 for d in devices if d.status == "active"),
                "dossiers": dossiers.get(code, 0),
            }
        )
    return health
