"""``POST /admin``: open an operator's sealed request, run its action, seal the answer.

The request is an envelope signed by an enrolled, active operator and HPKE-sealed to the
server (:func:`server.operators.open_operator_request`); its payload ``{"action", "args"}`` is
checked by :func:`protocol.admin.validate_admin_request`. Like a sync, an envelope is
single-use: its batch id is remembered (a copy gets 409 ``replayed``) — in the same transaction
as the action when the action writes, so a write refused or failed can be sent again as it was.
The answer is ``{"result": ...}`` sealed under the request's response key; refusals are the
usual error bodies, an argument the action cannot use names it (``args.<name> ...``, 400).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from protocol import errors, sealing, wire
from protocol.admin import validate_admin_request
from server import enrolment
from server.administration import revoke_device
from server.auth import seal_response
from server.console.conflicts import conflict_detail, conflict_page
from server.console.devices import commune_health, device_infos
from server.console.duplicates import duplicate_detail
from server.console.history import record_history
from server.console.statistics import dossier_stats
from server.context import ServerContext
from server.errors import ApiError, BadRequest, InvalidArgument
from server.operators import open_operator_request
from server.resolutions import decide_duplicate, resolve_choices
from server.rows import OperatorRow
from server.storage import Tx

__all__ = ["AdminCall", "handle_admin"]

log = logging.getLogger("motcua.server")


@dataclasses.dataclass(frozen=True)
class AdminCall:
    """One action being run: the server, its transaction, who asked, and when."""

    ctx: ServerContext
    tx: Tx
    operator: OperatorRow
    now: int


Action = Callable[[AdminCall, dict[str, Any]], Any]

#: Actions that only read (run in a read transaction).
READS: dict[str, Action] = {
    "conflicts.list": lambda call, args: conflict_page(call.tx, args, call.now),
    "conflicts.get": lambda call, args: conflict_detail(call.tx, args["id"]),
    "duplicates.get": lambda call, args: duplicate_detail(call.tx, args["id"]),
    "devices.list": lambda call, args: device_infos(call.tx, args["commune"]),
    "health.communes": lambda call, args: commune_health(call.tx, call.now),
    "stats.dossiers": lambda call, args: dossier_stats(
        call.tx, args["period"], args["since"], args["until"], call.now
    ),
    "records.history": lambda call, args: record_history(call.tx, args["entity_id"]),
}


def _revoke(call: AdminCall, args: dict[str, Any]) -> None:
    revoke_device(call.tx, args["device_id"], args["reason"])


#: Actions that write (run in the write transaction that remembers the envelope).
WRITES: dict[str, Action] = {
    "conflicts.resolve": lambda call, args: resolve_choices(
        call.tx,
        call.ctx.keys,
        args["id"],
        args["choices"],
        reason=args["reason"],
        clerk=call.operator.name,
        now=call.now,
    ),
    "duplicates.decide": lambda call, args: decide_duplicate(
        call.tx,
        call.ctx.keys,
        args["id"],
        args["decision"],
        reason=args["reason"],
        clerk=call.operator.name,
        now=call.now,
    ),
    "devices.issue_code": lambda call, args: enrolment.issue(
        call.tx, args["commune"], args["ttl_hours"], call.now
    ),
    "devices.revoke": _revoke,
}


def handle_admin(ctx: ServerContext, body: bytes) -> bytes:
    """Handle ``POST /admin``: one action of an operator; the answer sealed to its request.

    Raises:
        ApiError: 400 bad envelope or arguments, 403 unknown or revoked operator, 404 unknown
            id, 409 replayed envelope or a conflict already resolved.
    """
    operator, opened = open_operator_request(ctx, body)
    try:
        action, args = validate_admin_request(wire.loads(opened.payload))
    except errors.WireError as exc:
        raise BadRequest(str(exc)) from exc
    now = ctx.clock()
    try:
        if action in WRITES:
            with ctx.storage.write() as tx:
                _admit(tx, operator, opened, now)
                result = WRITES[action](AdminCall(ctx, tx, operator, now), args)
        else:
            with ctx.storage.write() as tx:
                _admit(tx, operator, opened, now)
            with ctx.storage.read() as tx:
                result = READS[action](AdminCall(ctx, tx, operator, now), args)
    except InvalidArgument as exc:
        raise BadRequest(f"args.{exc.argument} {exc.problem}") from exc
    log.info("admin operator=%s action=%s", operator.operator_id, action)
    return seal_response(ctx, opened, {"result": result})


def _admit(tx: Tx, operator: OperatorRow, opened: sealing.OpenedRequest, now: int) -> None:
    """Refuse an operator revoked meanwhile or a replayed envelope; note the operator's visit.

    Raises:
        ApiError: 403 revoked, 409 replayed.
    """
    current = tx.get_operator(operator.operator_id)
    if current is None or current.status != "active":
        raise ApiError(403, errors.ERR_REVOKED, "operator revoked")
    if not tx.remember_batch(operator.operator_id, opened.header.batch_id, now):
        raise ApiError(409, errors.ERR_REPLAYED, "envelope already received (replay)")
    tx.update_operator(operator.operator_id, last_seen=now)
