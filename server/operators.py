"""Operators: provincial IT consoles, enrolled like devices but for the whole province.

``motcua-server operator-code --name NAME`` issues a one-time code bound to the name of the
person who will use the console (it signs that person's resolutions). The console generates its
keys and proves the code with the same HMAC as a device, bound to
:data:`protocol.admin.OPERATOR_SCOPE` instead of a commune (``POST /admin/enrol``); the answer
carries the server's keys, MACed with the code key and sealed to the console's keys. Its requests
to ``POST /admin`` are envelopes signed with its key and HPKE-sealed to the server
(:func:`open_operator_request`).
"""

from __future__ import annotations

import logging
from typing import Any

from protocol import enrolment, errors, sealing, wire
from protocol import envelope as env
from protocol.admin import OPERATOR_SCOPE
from server.auth import open_sealed, parse_envelope, verify_sender
from server.context import ServerContext
from server.enrolment import code_already_used, code_expiry, matching_code, seal_enrol_answer
from server.errors import ApiError, BadEnvelope, BadRequest, InvalidArgument
from server.rows import OperatorCodeRow, OperatorRow
from server.storage import Tx

__all__ = [
    "enrol_operator",
    "issue_operator_code",
    "open_operator_request",
    "operator_info",
    "revoke_operator",
]

log = logging.getLogger("motcua.server")


def issue_operator_code(tx: Tx, name: str, ttl_hours: float, now: int) -> dict[str, Any]:
    """Issue a one-time code that enrols a console for the operator called ``name``.

    Returns:
        ``{"code", "name", "expires_at"}``.

    Raises:
        InvalidArgument: for an empty or over-long name, or a non-positive ``ttl_hours``.
    """
    clean = " ".join(str(name).split())
    if not clean or len(clean) > 64:
        raise InvalidArgument("name", "must be the operator's name, 1-64 characters")
    expires_at = code_expiry(now, ttl_hours)
    code = enrolment.generate_code()
    tx.insert_operator_code(enrolment.enrol_key(code), clean, now, expires_at)
    log.info("operator code issued")
    return {"code": code, "name": clean, "expires_at": expires_at}


def enrol_operator(ctx: ServerContext, body: bytes) -> bytes:
    """Handle ``POST /admin/enrol``: check the proof, enrol the console, answer sealed to it.

    Raises:
        ApiError: 400 malformed, 403 wrong/expired/used code, 409 id taken.
    """
    try:
        req = enrolment.validate_operator_enrol_request(wire.loads(body))
    except errors.WireError as exc:
        raise BadRequest(str(exc)) from exc
    operator_id, keys = req["operator_id"], req["keys"]
    now = ctx.clock()
    with ctx.storage.write() as tx:
        code = matching_code(tx.operator_codes(), operator_id, OPERATOR_SCOPE, keys, req["proof"])
        if code is None:
            raise ApiError(403, errors.ERR_ENROL, "operator code is wrong")
        _admit(tx, code, req, now)
        epoch = tx.get_meta("epoch") or ""
    payload: dict[str, Any] = {
        "operator_id": operator_id,
        "name": code["name"],
        "scope": OPERATOR_SCOPE,
        "server": ctx.public_keys().to_json(),
        "epoch": epoch,
        "server_time": now,
    }
    log.info("operator %s enrolled", operator_id)
    return seal_enrol_answer(ctx, payload, bytes(code["code_key"]), keys, operator_id, now)


def _admit(tx: Tx, code: OperatorCodeRow, req: dict[str, Any], now: int) -> None:
    """Enrol the request's console with ``code`` (a revoked one comes back), or refuse it.

    Raises:
        ApiError: 403 for a used or expired code, 409 for an id already in use.
    """
    operator_id, keys = req["operator_id"], req["keys"]
    existing = tx.get_operator(operator_id)
    if code_already_used(code, operator_id, existing.key_id if existing else None, keys, now):
        return
    taken = existing is not None and existing.status != "revoked"
    if taken or tx.get_device(operator_id) is not None:
        raise ApiError(409, errors.ERR_ENROL, "operator id is already enrolled")
    tx.put_operator(
        operator_id,
        name=code["name"],
        label=req["label"],
        keys=keys.to_json(),
        key_id=keys.key_id,
        at=now,
        new=existing is None,
    )
    tx.mark_operator_code_used(code["id"], operator_id, now)


def open_operator_request(
    ctx: ServerContext, body: bytes
) -> tuple[OperatorRow, sealing.OpenedRequest]:
    """Parse, authenticate and open an operator's ``/admin`` request.

    Raises:
        ApiError: 400 for a bad envelope (or one not sealed with HPKE), 403 for an unknown
            (a device's key, a stranger) or revoked operator.
    """
    envelope = parse_envelope(body)
    with ctx.storage.read() as tx:
        operator = tx.get_operator(envelope.header.device_id)
    if operator is None:
        raise ApiError(403, errors.ERR_UNKNOWN_DEVICE, "operator is not enrolled")
    keys = verify_sender(envelope, operator.keys)
    if operator.status != "active":
        reason = operator.status_reason or "revoked by provincial IT"
        raise ApiError(403, errors.ERR_REVOKED, f"operator revoked: {reason}")
    if envelope.header.mode != env.MODE_HPKE:
        raise BadEnvelope("operator requests must be sealed to the server key (HPKE)")
    return operator, open_sealed(ctx, envelope, keys, None)


def revoke_operator(tx: Tx, operator_id: str, reason: str) -> None:
    """Revoke an operator: its console is refused from its next request on.

    Raises:
        InvalidArgument: for an empty reason.
        ApiError: 404 for an unknown operator.
    """
    if not reason.strip():
        raise InvalidArgument("reason", "is required")
    if tx.get_operator(operator_id) is None:
        raise ApiError(404, errors.ERR_NOT_FOUND, f"no operator {operator_id!r}")
    tx.update_operator(operator_id, status="revoked", status_reason=reason.strip())
    log.info("operator %s revoked", operator_id)


def operator_info(operator: OperatorRow) -> dict[str, Any]:
    """Return an operator as a JSON-ready dict (no keys)."""
    return {
        "operator_id": operator.operator_id,
        "name": operator.name,
        "label": operator.label,
        "status": operator.status,
        "status_reason": operator.status_reason,
        "enrolled_at": operator.enrolled_at,
        "last_seen": operator.last_seen,
    }
