"""Enrolment: provincial IT issues a one-time code, a device proves it and gets the keys.

Only a key derived from the code is stored. A device proves the code with a MAC over its id,
commune and public keys; the answer carries the server's keys and epoch, MACed with the same
code key and sealed to the device's HPKE key.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from protocol import enrolment, errors, sealing, wire
from protocol import envelope as env
from protocol.keys import PublicKeys
from server.context import ServerContext
from server.errors import ApiError, BadRequest, InvalidArgument
from server.rows import EnrolCodeRow
from server.storage import Tx

__all__ = ["enrol", "issue_code"]

log = logging.getLogger("motcua.server")


def issue_code(ctx: ServerContext, commune: str, ttl_hours: float = 72.0) -> str:
    """Issue a one-time enrolment code for ``commune``; return it (``XXXXX-XXXXX``).

    Raises:
        BadRequest: for a malformed commune code.
        InvalidArgument: for a non-positive ``ttl_hours``.
    """
    try:
        wire.check_commune(commune, "commune")
    except errors.WireError as exc:
        raise BadRequest(str(exc)) from exc
    if not ttl_hours > 0:
        raise InvalidArgument("ttl_hours", "must be positive")
    code = enrolment.generate_code()
    now = ctx.clock()
    with ctx.storage.write() as tx:
        tx.insert_code(enrolment.enrol_key(code), commune, now, now + int(ttl_hours * 3600_000))
    log.info("enrolment code issued for commune %s", commune)
    return code


def enrol(ctx: ServerContext, body: bytes) -> bytes:
    """Handle ``POST /enrol``: check the proof, enrol the device, answer sealed to it.

    Raises:
        ApiError: 400 malformed, 403 wrong/expired/used code, 409 device id taken.
    """
    try:
        req = enrolment.validate_enrol_request(wire.loads(body))
    except errors.WireError as exc:
        raise BadRequest(str(exc)) from exc
    device_id, commune, keys = req["device_id"], req["commune"], req["keys"]
    now = ctx.clock()
    with ctx.storage.write() as tx:
        code = _matching_code(tx, req)
        _admit(tx, code, req, now)
        epoch = tx.get_meta("epoch") or ""
    payload: dict[str, Any] = {
        "device_id": device_id,
        "commune": commune,
        "server": ctx.public_keys().to_json(),
        "epoch": epoch,
        "server_time": now,
    }
    payload["mac"] = enrolment.enrol_response_mac(bytes(code["code_key"]), payload)
    header = env.Header(
        key_id=keys.key_id,
        mode=env.MODE_HPKE,
        device_id=device_id,
        batch_id=sealing.new_batch_id(),
        created_at_ms=now,
    )
    log.info("device %s enrolled for commune %s", device_id, commune)
    return env.seal(wire.canonical_json(payload), header, signer=ctx.keys, recipient=keys)


def _matching_code(tx: Tx, req: dict[str, Any]) -> EnrolCodeRow:
    """Return the commune's code the request's proof was made with.

    Raises:
        ApiError: 403 when no code of the commune matches.
    """
    device_id, commune, keys = req["device_id"], req["commune"], req["keys"]
    for code in tx.codes_for_commune(commune):
        proof = enrolment.proof_with_key(bytes(code["code_key"]), device_id, commune, keys)
        if secrets.compare_digest(proof, req["proof"]):
            return code
    raise ApiError(403, errors.ERR_ENROL, "enrolment code is wrong for this commune")


def _admit(tx: Tx, code: EnrolCodeRow, req: dict[str, Any], now: int) -> None:
    """Enrol (or re-enrol) the request's device with ``code``, or refuse it.

    A code already used by this very device and keys is accepted again (the answer was lost),
    without a second enrolment.

    Raises:
        ApiError: 403 for a used or expired code, 409 for a device id already enrolled.
    """
    device_id, commune = req["device_id"], req["commune"]
    keys: PublicKeys = req["keys"]
    existing = tx.get_device(device_id)
    if code["used_by"] is not None:
        same = (
            code["used_by"] == device_id and existing is not None and existing.key_id == keys.key_id
        )
        if not same:
            raise ApiError(403, errors.ERR_ENROL, "enrolment code was already used")
        return
    if code["expires_at"] < now:
        raise ApiError(403, errors.ERR_ENROL, "enrolment code has expired")
    if existing is None:
        tx.insert_device(device_id, commune, req["label"], keys.to_json(), keys.key_id, now)
    elif existing.status == "revoked" and existing.commune == commune:
        # IT revoked this PC and has now issued it a fresh code: it comes back with its
        # history (last device_seq) so nothing it holds is lost.
        tx.reactivate_device(
            device_id, req["label"] or existing.label, keys.to_json(), keys.key_id, now
        )
    else:
        raise ApiError(409, errors.ERR_ENROL, "device id is already enrolled")
    tx.mark_code_used(code["id"], device_id, now)
