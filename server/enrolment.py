"""Enrolment: provincial IT issues a one-time code, a device proves it and gets the keys.

Only a key derived from the code is stored. A device proves the code with a MAC over its id,
commune and public keys; the answer carries the server's keys and epoch, MACed with the same
code key and sealed to the device's HPKE key.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from typing import Any, TypeVar

from protocol import enrolment, errors, sealing, wire
from protocol import envelope as env
from protocol.admin import IssuedCode
from protocol.keys import PublicKeys
from server.context import ServerContext
from server.errors import ApiError, BadRequest, InvalidArgument
from server.rows import EnrolCodeRow, OperatorCodeRow
from server.storage import Tx

__all__ = [
    "code_already_used",
    "code_expiry",
    "enrol",
    "issue",
    "issue_code",
    "matching_code",
    "seal_enrol_answer",
]

CodeRow = TypeVar("CodeRow", EnrolCodeRow, OperatorCodeRow)

log = logging.getLogger("motcua.server")


def issue_code(ctx: ServerContext, commune: str, ttl_hours: float = 72.0) -> str:
    """Issue a one-time enrolment code for ``commune``; return it (``XXXXX-XXXXX``).

    Raises:
        BadRequest: for a malformed commune code.
        InvalidArgument: for a non-positive ``ttl_hours``.
    """
    with ctx.storage.write() as tx:
        return issue(tx, commune, ttl_hours, ctx.clock())["code"]


def issue(tx: Tx, commune: str, ttl_hours: float, now: int) -> IssuedCode:
    """Issue a one-time enrolment code for ``commune`` in ``tx``; return it with its expiry.

    Raises:
        BadRequest: for a malformed commune code.
        InvalidArgument: for a non-positive ``ttl_hours``.
    """
    try:
        wire.check_commune(commune, "commune")
    except errors.WireError as exc:
        raise BadRequest(str(exc)) from exc
    expires_at = code_expiry(now, ttl_hours)
    code = enrolment.generate_code()
    tx.insert_code(enrolment.enrol_key(code), commune, now, expires_at)
    log.info("enrolment code issued for commune %s", commune)
    return {"code": code, "commune": commune, "expires_at": expires_at}


def code_expiry(now: int, ttl_hours: float) -> int:
    """Return when a code issued ``now`` for ``ttl_hours`` expires.

    Raises:
        InvalidArgument: for a non-positive ``ttl_hours``.
    """
    if not ttl_hours > 0:
        raise InvalidArgument("ttl_hours", "must be positive")
    return now + int(ttl_hours * 3600_000)


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
    log.info("device %s enrolled for commune %s", device_id, commune)
    return seal_enrol_answer(ctx, payload, bytes(code["code_key"]), keys, device_id, now)


def seal_enrol_answer(
    ctx: ServerContext,
    payload: dict[str, Any],
    code_key: bytes,
    recipient: PublicKeys,
    recipient_id: str,
    now: int,
) -> bytes:
    """Return an enrolment answer: MACed with the code key, signed, sealed to the new keys."""
    payload = {**payload, "mac": enrolment.enrol_response_mac(code_key, payload)}
    header = env.Header(
        key_id=recipient.key_id,
        mode=env.MODE_HPKE,
        device_id=recipient_id,
        batch_id=sealing.new_batch_id(),
        created_at_ms=now,
    )
    return env.seal(wire.canonical_json(payload), header, signer=ctx.keys, recipient=recipient)


def matching_code(
    codes: Sequence[CodeRow], req_id: str, scope: str, keys: PublicKeys, proof: str
) -> CodeRow | None:
    """Return the code among ``codes`` that ``proof`` was made with, or None."""
    for code in codes:
        expected = enrolment.proof_with_key(bytes(code["code_key"]), req_id, scope, keys)
        if secrets.compare_digest(expected, proof):
            return code
    return None


def _matching_code(tx: Tx, req: dict[str, Any]) -> EnrolCodeRow:
    """Return the commune's code the request's proof was made with.

    Raises:
        ApiError: 403 when no code of the commune matches.
    """
    device_id, commune = req["device_id"], req["commune"]
    code = matching_code(
        tx.codes_for_commune(commune), device_id, commune, req["keys"], req["proof"]
    )
    if code is None:
        raise ApiError(403, errors.ERR_ENROL, "enrolment code is wrong for this commune")
    return code


def _admit(tx: Tx, code: EnrolCodeRow, req: dict[str, Any], now: int) -> None:
    """Enrol (or re-enrol) the request's device with ``code``, or refuse it.

    Raises:
        ApiError: 403 for a used or expired code, 409 for a device id already enrolled.
    """
    device_id, commune = req["device_id"], req["commune"]
    keys: PublicKeys = req["keys"]
    existing = tx.get_device(device_id)
    if code_already_used(code, device_id, existing.key_id if existing else None, keys, now):
        return
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


def code_already_used(
    code: EnrolCodeRow | OperatorCodeRow,
    enrolling_id: str,
    enrolled_key_id: str | None,
    keys: PublicKeys,
    now: int,
) -> bool:
    """Return True when ``code`` already enrolled this very id and keys (the answer was lost).

    Such a request is answered again, without a second enrolment.

    Args:
        code: the code the proof matched.
        enrolling_id: the device or operator id asking.
        enrolled_key_id: the key id that id is enrolled with now (None: not enrolled).
        keys: the keys it asks with.
        now: server time.

    Raises:
        ApiError: 403 for a code used by someone else, or expired.
    """
    if code["used_by"] is not None:
        if code["used_by"] == enrolling_id and enrolled_key_id == keys.key_id:
            return True
        raise ApiError(403, errors.ERR_ENROL, "enrolment code was already used")
    if code["expires_at"] < now:
        raise ApiError(403, errors.ERR_ENROL, "enrolment code has expired")
    return False
