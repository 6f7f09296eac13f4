"""Provincial IT's command-line calls on devices and conflicts: list and revoke devices, list
conflicts. Resolutions are in :mod:`server.resolutions`, the console's views in
:mod:`server.console`.
"""

from __future__ import annotations

import logging
from typing import Any

from protocol import errors
from server.console.devices import device_infos
from server.context import ServerContext
from server.errors import ApiError
from server.rows import ConflictRow
from server.storage import Tx

__all__ = ["conflicts", "devices", "revoke", "revoke_device"]

log = logging.getLogger("motcua.server")


def devices(ctx: ServerContext) -> list[dict[str, Any]]:
    """Return every device as a JSON-ready dict (no keys): the console's
    :func:`~server.console.devices.device_infos` and the highest change number received."""
    with ctx.storage.read() as tx:
        seqs = {d.device_id: d.last_device_seq for d in tx.list_devices()}
        infos = device_infos(tx)
    return [{**info, "last_device_seq": seqs[info["device_id"]]} for info in infos]


def revoke(ctx: ServerContext, device_id: str, reason: str = "") -> None:
    """Revoke a device: it is refused from its next request on.

    Raises:
        ApiError: 404 for an unknown device.
    """
    with ctx.storage.write() as tx:
        revoke_device(tx, device_id, reason)


def revoke_device(tx: Tx, device_id: str, reason: str) -> None:
    """Revoke a device in ``tx``; its next request gets 403 ``revoked`` with the reason.

    Raises:
        ApiError: 404 for an unknown device.
    """
    if tx.get_device(device_id) is None:
        raise ApiError(404, errors.ERR_NOT_FOUND, f"no device {device_id!r}")
    tx.update_device(
        device_id, status="revoked", status_reason=reason.strip() or "revoked by provincial IT"
    )
    tx.drop_sessions(device_id)
    log.info("device %s revoked", device_id)


def conflicts(ctx: ServerContext, status: str | None = "open") -> list[ConflictRow]:
    """Return conflicts (open ones by default; ``None`` for all)."""
    with ctx.storage.read() as tx:
        return tx.list_conflicts(status)
