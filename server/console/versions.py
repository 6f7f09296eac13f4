"""Where a version came from, as the console shows it: commune, device, clerk and clocks.

The device's clock time comes from the change's hybrid logical clock stamp; it is flagged
``clock_suspect`` when the server has seen that device's clock more than five minutes off, so
provincial IT does not take it for the real time.
"""

from __future__ import annotations

from protocol.admin import VersionInfo
from server.dossier_facts import clock_ms
from server.queries.console import VersionOrigin
from server.rows import SERVER_DEVICE_ID
from server.storage import Tx

__all__ = ["SERVER_LABEL", "device_label", "made_by", "version_info"]

#: How the server itself is named where it made a version (a resolution).
SERVER_LABEL = "Máy chủ tỉnh"


def device_label(tx: Tx, device_id: str) -> tuple[str, bool]:
    """Return a device's label and whether its clock is known to be wrong."""
    if device_id == SERVER_DEVICE_ID:
        return SERVER_LABEL, False
    device = tx.get_device(device_id)
    return ("", False) if device is None else (device.label, device.flagged_skew)


def made_by(
    tx: Tx,
    *,
    version: int | None,
    commune: str,
    device_id: str,
    clerk: str,
    hlc: str | None,
    received_at: int | None,
) -> VersionInfo:
    """Return the :class:`VersionInfo` of a version (or change) made by ``device_id``."""
    label, suspect = device_label(tx, device_id) if device_id else ("", False)
    return {
        "version": version,
        "commune": commune,
        "device_id": device_id,
        "device_label": label,
        "clerk": clerk,
        "clock_ms": clock_ms(hlc),
        "received_at": received_at,
        "clock_suspect": suspect,
    }


def version_info(tx: Tx, entity: str, entity_id: str, version: int, commune: str) -> VersionInfo:
    """Return who made a record's ``version`` (empty names for version 0, never made)."""
    origin = tx.version_origin(entity, entity_id, version) if version else None
    if origin is None:
        origin = VersionOrigin(device_id="", clerk="", hlc="", received_at=0, commune=commune)
    return made_by(
        tx,
        version=version,
        commune=origin.commune,
        device_id=origin.device_id,
        clerk=origin.clerk,
        hlc=origin.hlc or None,
        received_at=origin.received_at or None,
    )
