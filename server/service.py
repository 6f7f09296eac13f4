"""The provincial sync server as a library: every capability the HTTP app and the CLI expose.

:class:`SyncServer` turns request bytes into response bytes (``enrol``, ``sync``,
``attachments_missing``, ``upload_chunk``) and offers the administration calls of provincial IT
(``issue_code``, ``devices``, ``revoke``, ``conflicts``, ``resolve``, ``stats``). Errors a
client caused are :class:`ApiError` with an HTTP status, a code and an English message.

Nothing here logs personal data: log lines carry device ids, counts and statuses only.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import random
import secrets
import time
import uuid
from collections.abc import Callable
from typing import Any

from protocol import enrolment, errors, limits, sealing, wire
from protocol import envelope as env
from protocol.errors import KeyError_
from protocol.keys import PrivateKeys, PublicKeys
from server import domain, merge
from server.storage import SERVER_DEVICE_ID, ChangeRow, DeviceRow, RecordRow, Storage, Tx

__all__ = ["ApiError", "SyncServer"]

log = logging.getLogger("motcua.server")

#: Numbers per register-book block granted to a device.
BLOCK_SIZE = 100
#: Lifetime of a session key.
SESSION_TTL_S = 24 * 3600
#: Batch ids are remembered this long (replay guard).
BATCH_MEMORY_MS = 30 * 24 * 3600 * 1000
#: Upper bound of a pull page's JSON before compression (a response must stay < 8 MiB).
PAGE_BYTES = 4 * 1024 * 1024
#: Who signs resolutions in the change log.
RESOLVER_CLERK = "provincial-it"


class ApiError(Exception):
    """A request the server refuses: HTTP status, machine code and English message.

    Args:
        status: HTTP status (4xx, or 503 when busy).
        code: one of the ``wire.ERR_*`` codes.
        message: what went wrong, in English.
        extra: more JSON fields for the error body (e.g. ``offset``).
    """

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        """Return the JSON error body."""
        return errors.error_body(self.message, self.code, **self.extra)


class _Cloned(Exception):
    def __init__(self, device_seq: int) -> None:
        self.device_seq = device_seq


def _now_ms() -> int:
    return int(time.time() * 1000)


class SyncServer:
    """The server's behaviour over a :class:`~server.storage.Storage`.

    Args:
        storage: the database.
        clock: returns the server time in Unix ms (tests may pass a fake).
    """

    def __init__(self, storage: Storage, *, clock: Callable[[], int] = _now_ms) -> None:
        self.storage = storage
        self.clock = clock
        self._keys: PrivateKeys | None = None
        self._public: PublicKeys | None = None

    @classmethod
    def open(cls, url: str, *, init: bool = False) -> SyncServer:
        """Open the server database at ``url`` (creating and migrating it when ``init``)."""
        server = cls(Storage(url))
        if init:
            server.init()
        return server

    # --- setup ----------------------------------------------------------------------------

    def init(self) -> dict[str, Any]:
        """Migrate the database and create the server keys and epoch if missing.

        Returns:
            ``{"migrations": [...applied now], "key_id", "epoch"}``.
        """
        applied = self.storage.migrate()
        with self.storage.write() as tx:
            if tx.get_meta("server_keys") is None:
                keys = PrivateKeys.generate()
                tx.set_meta("server_keys", base64.b64encode(keys.to_bytes()).decode("ascii"))
                tx.set_meta("created_at", str(self.clock()))
            if tx.get_meta("epoch") is None:
                tx.set_meta("epoch", uuid.uuid4().hex)
            epoch = tx.get_meta("epoch")
        return {"migrations": applied, "key_id": self.public_keys().key_id, "epoch": epoch}

    @property
    def keys(self) -> PrivateKeys:
        """Return the server's private keys (read once from ``server_meta``).

        Raises:
            ApiError: 503 when the database was never initialised.
        """
        if self._keys is None:
            try:
                with self.storage.read() as tx:
                    raw = tx.get_meta("server_keys")
            except Exception as exc:  # no tables yet
                raise ApiError(
                    503, "not_initialised", "server database is not initialised"
                ) from exc
            if raw is None:
                raise ApiError(503, "not_initialised", "server database is not initialised")
            self._keys = PrivateKeys.from_bytes(base64.b64decode(raw))
        return self._keys

    def public_keys(self) -> PublicKeys:
        """Return the server's public keys (what devices pin)."""
        if self._public is None:
            self._public = self.keys.public()
        return self._public

    def epoch(self) -> str:
        """Return the current epoch id."""
        with self.storage.read() as tx:
            return tx.get_meta("epoch") or ""

    def new_epoch(self) -> str:
        """Start a new epoch (run after restoring the database from a backup); return it."""
        with self.storage.write() as tx:
            epoch = uuid.uuid4().hex
            tx.set_meta("epoch", epoch)
        log.info("new epoch started")
        return epoch

    # --- enrolment ------------------------------------------------------------------------

    def issue_code(self, commune: str, ttl_hours: float = 72.0) -> str:
        """Issue a one-time enrolment code for ``commune``; return it (``XXXXX-XXXXX``).

        Raises:
            ApiError: for a malformed commune code or a non-positive lifetime.
        """
        try:
            wire.check_commune(commune, "commune")
        except errors.WireError as exc:
            raise ApiError(400, errors.ERR_BAD_REQUEST, str(exc)) from exc
        if not ttl_hours > 0:
            raise ApiError(400, errors.ERR_BAD_REQUEST, "--ttl-hours must be positive")
        code = enrolment.generate_code()
        now = self.clock()
        with self.storage.write() as tx:
            tx.insert_code(enrolment.enrol_key(code), commune, now, now + int(ttl_hours * 3600_000))
        log.info("enrolment code issued for commune %s", commune)
        return code

    def enrol(self, body: bytes) -> bytes:
        """Handle ``POST /enrol``: check the proof, enrol the device, answer sealed to it.

        Raises:
            ApiError: 400 malformed, 403 wrong/expired/used code, 409 device id taken.
        """
        try:
            req = enrolment.validate_enrol_request(wire.loads(body))
        except errors.WireError as exc:
            raise ApiError(400, errors.ERR_BAD_REQUEST, str(exc)) from exc
        device_id, commune, keys = req["device_id"], req["commune"], req["keys"]
        now = self.clock()
        with self.storage.write() as tx:
            match = None
            for code in tx.codes_for_commune(commune):
                proof = enrolment.proof_with_key(bytes(code["code_key"]), device_id, commune, keys)
                if secrets.compare_digest(proof, req["proof"]):
                    match = code
                    break
            if match is None:
                raise ApiError(403, errors.ERR_ENROL, "enrolment code is wrong for this commune")
            existing = tx.get_device(device_id)
            if match["used_by"] is not None:
                same = (
                    match["used_by"] == device_id
                    and existing is not None
                    and existing.key_id == keys.key_id
                )
                if not same:
                    raise ApiError(403, errors.ERR_ENROL, "enrolment code was already used")
            else:
                if match["expires_at"] < now:
                    raise ApiError(403, errors.ERR_ENROL, "enrolment code has expired")
                if existing is None:
                    tx.insert_device(
                        device_id, commune, req["label"], keys.to_json(), keys.key_id, now
                    )
                elif existing.status == "revoked" and existing.commune == commune:
                    # IT revoked this PC and has now issued it a fresh code: it comes back
                    # with its history (last device_seq) so nothing it holds is lost.
                    tx.reactivate_device(
                        device_id, req["label"] or existing.label, keys.to_json(), keys.key_id, now
                    )
                else:
                    raise ApiError(409, errors.ERR_ENROL, "device id is already enrolled")
                tx.mark_code_used(match["id"], device_id, now)
            epoch = tx.get_meta("epoch") or ""
        payload: dict[str, Any] = {
            "device_id": device_id,
            "commune": commune,
            "server": self.public_keys().to_json(),
            "epoch": epoch,
            "server_time": now,
        }
        payload["mac"] = enrolment.enrol_response_mac(bytes(match["code_key"]), payload)
        header = env.Header(
            key_id=keys.key_id,
            mode=env.MODE_HPKE,
            device_id=device_id,
            batch_id=sealing.new_batch_id(),
            created_at_ms=now,
        )
        log.info("device %s enrolled for commune %s", device_id, commune)
        return env.seal(wire.canonical_json(payload), header, signer=self.keys, recipient=keys)

    # --- authentication -------------------------------------------------------------------

    def _open(self, body: bytes) -> tuple[DeviceRow, sealing.OpenedRequest]:
        """Parse, authenticate and open a device's request envelope."""
        try:
            envelope = env.parse(body)
        except errors.EnvelopeError as exc:
            raise ApiError(400, errors.ERR_BAD_ENVELOPE, str(exc)) from exc
        header = envelope.header
        session_key: bytes | None = None
        with self.storage.read() as tx:
            device = tx.get_device(header.device_id)
            if device is not None and header.key_id.startswith(env.SESSION_KEY_PREFIX):
                session = tx.get_session(header.key_id[len(env.SESSION_KEY_PREFIX) :])
                if (
                    session is not None
                    and session["device_id"] == device.device_id
                    and session["expires_at"] > self.clock()
                ):
                    session_key = bytes(session["key"])
        if device is None:
            raise ApiError(403, errors.ERR_UNKNOWN_DEVICE, "device is not enrolled")
        try:
            device_keys = PublicKeys.from_json(device.keys)
            envelope.verify(device_keys)
        except (errors.EnvelopeError, KeyError_) as exc:
            raise ApiError(400, errors.ERR_BAD_ENVELOPE, str(exc)) from exc
        self._check_status(device)
        if header.mode == env.MODE_HPKE:
            if header.key_id != self.public_keys().key_id:
                raise ApiError(400, errors.ERR_BAD_ENVELOPE, "envelope is sealed to an unknown key")
        elif session_key is None:
            raise ApiError(401, errors.ERR_SESSION, "session unknown or expired: seal with HPKE")
        try:
            opened = sealing.open_request(
                envelope, device_keys=device_keys, server_keys=self.keys, session_key=session_key
            )
        except errors.EnvelopeError as exc:
            raise ApiError(400, errors.ERR_BAD_ENVELOPE, str(exc)) from exc
        return device, opened

    @staticmethod
    def _check_status(device: DeviceRow) -> None:
        if device.status == "revoked":
            reason = device.status_reason or "revoked by provincial IT"
            raise ApiError(403, errors.ERR_REVOKED, f"device revoked: {reason}")
        if device.status == "cloned":
            raise ApiError(
                409,
                errors.ERR_CLONED,
                "device identity is used by two machines (diverging sequence); "
                "provincial IT must enrol this PC again",
            )

    def _seal(self, opened: sealing.OpenedRequest, payload: dict[str, Any]) -> bytes:
        return sealing.seal_response(
            wire.canonical_json(payload),
            request=opened.header,
            response_key=opened.response_key,
            server_keys=self.keys,
        )

    # --- sync -----------------------------------------------------------------------------

    def sync(self, body: bytes) -> bytes:
        """Handle ``POST /sync``: push, pull, blocks, clock; one transaction, one answer.

        Raises:
            ApiError: for anything the device must fix; nothing is stored then.
        """
        device, opened = self._open(body)
        try:
            request = wire.validate_sync_request(wire.loads(opened.payload))
        except errors.WireError as exc:
            raise ApiError(400, errors.ERR_BAD_REQUEST, str(exc)) from exc
        for change in request["changes"]:
            if change["device_id"] != device.device_id:
                raise ApiError(
                    400, errors.ERR_BAD_REQUEST, "a change's device_id differs from the envelope's"
                )
        now = self.clock()
        try:
            with self.storage.write() as tx:
                response = self._sync_tx(tx, device.device_id, opened, request, now)
        except _Cloned as cloned:
            with self.storage.write() as tx:
                tx.update_device(
                    device.device_id,
                    status="cloned",
                    status_reason=f"device_seq {cloned.device_seq} sent twice with different "
                    "changes",
                )
                tx.drop_sessions(device.device_id)
            log.warning("device %s refused: cloned identity detected", device.device_id)
            raise ApiError(
                409,
                errors.ERR_CLONED,
                "device identity is used by two machines (diverging sequence); "
                "provincial IT must enrol this PC again",
            ) from None
        log.info(
            "sync device=%s pushed=%d pulled=%d more=%s",
            device.device_id,
            len(request["changes"]),
            len(response["changes"]),
            response["more"],
        )
        return self._seal(opened, response)

    def _sync_tx(
        self,
        tx: Tx,
        device_id: str,
        opened: sealing.OpenedRequest,
        request: dict[str, Any],
        now: int,
    ) -> dict[str, Any]:
        device = tx.get_device(device_id)
        assert device is not None
        self._check_status(device)  # revoked while the request was in flight
        if not tx.remember_batch(device_id, opened.header.batch_id, now):
            raise ApiError(409, errors.ERR_REPLAYED, "envelope already received (replay)")
        if random.random() < 0.01:
            tx.prune_batches(now - BATCH_MEMORY_MS)
            tx.prune_sessions(now)

        changes = sorted(request["changes"], key=lambda c: c["device_seq"])
        held = tx.changes_by_device_seqs(device_id, [c["device_seq"] for c in changes])
        for change in changes:  # a cloned identity is refused before anything is applied
            known = held.get(change["device_seq"])
            if known is not None and known.change_id != change["change_id"]:
                raise _Cloned(change["device_seq"])
        held_conflicts = tx.conflict_ids_by_seq([c.server_seq for c in held.values()])
        fresh = [c for c in changes if c["device_seq"] not in held]
        taken = tx.existing_change_ids([c["change_id"] for c in fresh])
        keys = [(c["entity"], c["entity_id"]) for c in fresh]
        cache: dict[tuple[str, str], RecordRow | None] = dict.fromkeys(keys)
        cache.update(tx.get_records(keys))

        top = device.last_device_seq
        # A fresh device's first snapshot stops before its own pushes: no echo of its records.
        before_push = tx.head()
        results: list[dict[str, Any]] = []
        queue: list[tuple[RecordRow, RecordRow | None, dict[str, Any], int]] = []
        for change in changes:
            known = held.get(change["device_seq"])
            if known is not None:
                results.append(_result(known, held_conflicts.get(known.server_seq, [])))
                continue
            if change["device_seq"] != top + 1:
                results.append(
                    {
                        "device_seq": change["device_seq"],
                        "change_id": change["change_id"],
                        "status": wire.STATUS_DEFERRED,
                        "reason": f"device_seq {top + 1} is missing: send it first",
                    }
                )
                continue
            results.append(self._apply_change(tx, device, change, now, cache, taken, queue))
            top = change["device_seq"]
        self._domain_pass(tx, queue, results, now)

        blocks = []
        for want in request["want_blocks"]:
            block = tx.block_after(
                device.commune, want["book_type"], want["year"], device_id, want["after"]
            ) or tx.grant_block(
                device.commune, want["book_type"], want["year"], device_id, BLOCK_SIZE, now
            )
            blocks.append({k: block[k] for k in ("book_type", "year", "start", "end")})

        epoch = tx.get_meta("epoch") or ""
        page, cursor, more, reset, epoch = self._pull(tx, device, request, epoch, before_push)

        skew = opened.header.created_at_ms - now
        flagged = abs(skew) > limits.SKEW_LIMIT_MS
        session = None
        if request["session"] and opened.header.mode == env.MODE_HPKE:
            session_id = secrets.token_urlsafe(12)
            key = sealing.derive_session_key(opened.response_key, session_id)
            tx.insert_session(session_id, device_id, key, now + SESSION_TTL_S * 1000)
            session = {"id": session_id, "ttl_s": SESSION_TTL_S}
        tx.update_device(
            device_id,
            last_seen=now,
            last_sync=now,
            last_device_seq=top,
            clock_offset_ms=skew,
            flagged_skew=flagged,
        )
        return {
            "results": results,
            "changes": page,
            "cursor": cursor,
            "more": more,
            "reset": reset,
            "epoch": epoch,
            "max_device_seq": top,
            "server_time": now,
            "clock_skew_ms": skew,
            "skew_flagged": flagged,
            "blocks": blocks,
            "conflicts_open": tx.count_open_conflicts(device.commune),
            "session": session,
        }

    def _apply_change(
        self,
        tx: Tx,
        device: DeviceRow,
        change: dict[str, Any],
        now: int,
        cache: dict[tuple[str, str], RecordRow | None],
        taken: set[str],
        domain_queue: list[tuple[RecordRow, RecordRow | None, dict[str, Any], int]] | None = None,
    ) -> dict[str, Any]:
        """Decide, apply and log one change (the caller holds the write lock).

        ``cache`` holds the records of the batch (kept current as changes apply) and ``taken``
        the change ids already in the log, so a batch costs few round trips. Stored dossiers
        are queued in ``domain_queue`` for :meth:`_domain_pass`.

        Returns:
            The change's result, exactly as a replay of it will report it.
        """
        entity, entity_id = change["entity"], change["entity_id"]
        key = (entity, entity_id)
        record = cache[key] if key in cache else tx.get_record(entity, entity_id)
        decision: merge.Decision
        if change["change_id"] in taken:
            decision = merge.Decision("rejected", reason="change_id already used by another change")
        elif change["commune"] != device.commune:
            decision = merge.Decision(
                "rejected", reason="change is for another commune than this device's"
            )
        elif record is not None and record.commune != device.commune:
            decision = merge.Decision("rejected", reason="record belongs to another commune")
        else:
            steps = []
            if record is not None and record.version > change["base_version"]:
                for v in tx.versions(entity, entity_id, after=change["base_version"]):
                    steps.append(
                        merge.VersionStep(v["version"], v["device_id"], v["changed"], v["deleted"])
                    )
            state = (
                None
                if record is None
                else merge.RecordState(record.version, record.values, record.deleted)
            )
            incoming = merge.Incoming(
                device.device_id, change["op"], change["base_version"], change["fields"]
            )
            decision = merge.decide(state, steps, incoming)
        taken.add(change["change_id"])

        seq, chain = tx.next_seq(change["change_id"])
        new_version: int | None = None
        applied: dict[str, list[Any]] = {}
        conflict_ids: list[int] = []
        if decision.status in (wire.STATUS_APPLIED, wire.STATUS_MERGED):
            new_version, applied, written = self._write_record(
                tx,
                record,
                entity,
                entity_id,
                change["commune"],
                decision.writes,
                decision.delete,
                seq,
                change["change_id"],
                device.device_id,
            )
            if written is not None:
                cache[key] = written
                if entity == "dossier" and domain_queue is not None:
                    domain_queue.append((written, record, change, seq))
        elif decision.status == wire.STATUS_CONFLICT:
            assert record is not None
            touched = sorted(set(change["fields"]) | set(decision.clashing))
            base_values = tx.version_values(entity, entity_id, change["base_version"]) or {}
            incoming_values: dict[str, Any] = {k: v[1] for k, v in change["fields"].items()}
            if change["op"] == "delete":
                incoming_values = {"_op": "delete"}
            conflict_ids.append(
                tx.insert_conflict(
                    kind=decision.kind or "field",
                    entity=entity,
                    entity_id=entity_id,
                    commune=record.commune,
                    change_id=change["change_id"],
                    server_seq=seq,
                    base_version=change["base_version"],
                    current_version=record.version,
                    fields=list(decision.clashing),
                    base={k: base_values.get(k) for k in touched},
                    current={k: record.values.get(k) for k in touched}
                    | ({"_op": "delete"} if record.deleted else {}),
                    incoming=incoming_values,
                    device_id=device.device_id,
                    clerk=change["clerk"],
                    hlc=change["hlc"],
                    created_at=now,
                )
            )
        tx.insert_change(
            server_seq=seq,
            chain=chain,
            change_id=change["change_id"],
            device_id=device.device_id,
            device_seq=change["device_seq"],
            entity=entity,
            entity_id=entity_id,
            commune=change["commune"],
            op=change["op"],
            base_version=change["base_version"],
            new_version=new_version,
            fields=change["fields"],
            applied=applied,
            hlc=change["hlc"],
            clerk=change["clerk"],
            status=decision.status,
            reason=decision.reason,
            conflict_ids=conflict_ids,
            kind=wire.KIND_CHANGE,
            parents=None,
            signature=None,
            received_at=now,
        )
        return _result_of(
            change["device_seq"],
            change["change_id"],
            decision.status,
            seq,
            new_version,
            decision.reason,
            conflict_ids,
        )

    def _write_record(
        self,
        tx: Tx,
        record: RecordRow | None,
        entity: str,
        entity_id: str,
        commune: str,
        writes: dict[str, Any],
        delete: bool,
        seq: int,
        change_id: str,
        device_id: str,
    ) -> tuple[int | None, dict[str, list[Any]], RecordRow | None]:
        """Write a new version of a record; return (version, applied {field: [old, new]}, row)."""
        if record is not None and not writes and not delete:
            return None, {}, None  # nothing to change (same values): no new version
        old_values = dict(record.values) if record is not None else {}
        values = old_values | writes
        applied = {k: [old_values.get(k), v] for k, v in writes.items()}
        field_seq = dict(record.field_seq) if record is not None else {}
        field_seq.update({k: seq for k in writes})
        deleted = delete
        live = not deleted and entity == "dossier"
        rec = RecordRow(
            entity=entity,
            entity_id=entity_id,
            commune=record.commune if record is not None else commune,
            version=(record.version if record is not None else 0) + 1,
            values=values,
            field_seq=field_seq,
            deleted=deleted,
            updated_seq=seq,
            dup_key=domain.duplicate_key(values) if live else None,
            book_key=domain.book_key(values) if live else None,
        )
        tx.put_record(rec, new=record is None)
        tx.insert_version(
            rec, server_seq=seq, change_id=change_id, device_id=device_id, changed=writes
        )
        return rec.version, applied, rec

    def _domain_pass(
        self,
        tx: Tx,
        queue: list[tuple[RecordRow, RecordRow | None, dict[str, Any], int]],
        results: list[dict[str, Any]],
        now: int,
    ) -> None:
        """Record duplicate-event and same-book-number conflicts of the dossiers just stored.

        One query per key kind for the whole batch; only keys that are new or changed are
        looked up, so an edit of other fields costs nothing. A dossier is compared with
        everything stored before it (earlier in the batch included), as if applied one by one.
        """
        if not queue:
            return
        # A record written twice in the batch is checked once, at its last state, against its
        # state before the batch.
        order = {rec.entity_id: i for i, (rec, _b, _c, _s) in enumerate(queue)}
        first_before: dict[str, RecordRow | None] = {}
        for rec, before, _c, _s in queue:
            first_before.setdefault(rec.entity_id, before)
        by_seq = {r.get("server_seq"): r for r in results}
        for kind, column in (("duplicate", "dup_key"), ("book_number", "book_key")):
            wanted: list[tuple[int, RecordRow, dict[str, Any], int]] = []
            for i, (rec, _before, change, seq) in enumerate(queue):
                before = first_before[rec.entity_id]
                key = getattr(rec, column)
                old = getattr(before, column) if before is not None and not before.deleted else None
                if key and key != old and not rec.deleted and order[rec.entity_id] == i:
                    wanted.append((i, rec, change, seq))
            if not wanted:
                continue
            found: dict[str, list[RecordRow]] = {}
            for other in tx.records_with_keys(column, [getattr(w[1], column) for w in wanted]):
                found.setdefault(getattr(other, column), []).append(other)
            for i, rec, change, seq in wanted:
                ids = []
                for other in found.get(getattr(rec, column), []):
                    if other.entity_id == rec.entity_id or order.get(other.entity_id, -1) > i:
                        continue
                    if tx.open_conflict_between(kind, rec.entity_id, other.entity_id):
                        continue
                    ids.append(
                        self._insert_domain_conflict(tx, kind, column, rec, other, change, seq, now)
                    )
                if ids:
                    result = by_seq[seq]
                    result["conflict_ids"] = [*result.get("conflict_ids", []), *ids]
                    tx.set_change_conflicts(seq, result["conflict_ids"])

    @staticmethod
    def _insert_domain_conflict(
        tx: Tx,
        kind: str,
        column: str,
        record: RecordRow,
        other: RecordRow,
        change: dict[str, Any],
        seq: int,
        now: int,
    ) -> int:
        shown = ["procedure", "dossier_no", "book_type", "book_year", "book_number"]
        return tx.insert_conflict(
            kind=kind,
            entity="dossier",
            entity_id=record.entity_id,
            other_entity_id=other.entity_id,
            commune=record.commune,
            other_commune=other.commune,
            change_id=change["change_id"],
            server_seq=seq,
            base_version=change["base_version"],
            current_version=other.version,
            fields=[column],
            base={},
            current={k: other.values.get(k) for k in shown},
            incoming={k: record.values.get(k) for k in shown},
            device_id=change["device_id"],
            clerk=change["clerk"],
            hlc=change["hlc"],
            created_at=now,
        )

    def _pull(
        self,
        tx: Tx,
        device: DeviceRow,
        request: dict[str, Any],
        epoch: str,
        before_push: tuple[int, str],
    ) -> tuple[list[dict[str, Any]], str, bool, bool, str]:
        """Return (page, cursor, more, reset, epoch) for the device's commune."""
        head_seq, head_chain = tx.head()
        cursor = request["cursor"]
        if cursor == "":
            # First pull of a device: everything it pushed in this request is its own already.
            head_seq, head_chain = before_push
        snapshot, after, valid = _parse_cursor(tx, cursor, head_seq)
        reset = False
        if not valid or (request["epoch"] not in (None, epoch)):
            reset = True
            if not valid and request["epoch"] == epoch:
                # The first device to notice that the history moved back starts a new epoch.
                epoch = uuid.uuid4().hex
                tx.set_meta("epoch", epoch)
                log.warning("cursor beyond the restored history: new epoch started")
            snapshot, after = True, 0
        limit = request["limit"]
        page: list[dict[str, Any]] = []
        size = 0
        more = False
        last = after
        if snapshot:
            for rec in tx.pull_snapshot(device.commune, after, head_seq, limit + 1):
                if len(page) == limit or size > PAGE_BYTES:
                    more = True
                    break
                entry = _snapshot_entry(rec)
                size += len(wire.canonical_json(entry))
                page.append(entry)
                last = rec.updated_seq
        else:
            for row in tx.pull(device.commune, after, head_seq, device.device_id, limit + 1):
                if len(page) == limit or size > PAGE_BYTES:
                    more = True
                    break
                entry = _pull_entry(row)
                size += len(wire.canonical_json(entry))
                page.append(entry)
                last = row.server_seq
        if more:
            held = tx.change_at(last)
            chain = held.chain if held is not None else head_chain
            next_cursor = f"{'s' if snapshot else ''}{last}.{chain[:16]}"
        else:
            next_cursor = f"{head_seq}.{head_chain[:16]}"
        return page, next_cursor, more, reset, epoch

    # --- attachments ----------------------------------------------------------------------

    def attachments_missing(self, body: bytes) -> bytes:
        """Handle ``POST /attachments/missing``: which hashes the server lacks, with offsets."""
        _device, opened = self._open(body)
        try:
            hashes = wire.validate_missing_request(wire.loads(opened.payload))
        except errors.WireError as exc:
            raise ApiError(400, errors.ERR_BAD_REQUEST, str(exc)) from exc
        missing = []
        with self.storage.read() as tx:
            for sha in dict.fromkeys(hashes):
                row = tx.get_attachment(sha)
                if row is None or not row["complete"]:
                    missing.append({"sha256": sha, "offset": int(row["received"]) if row else 0})
        return self._seal(opened, {"missing": missing})

    def upload_chunk(self, sha256: str, body: bytes) -> bytes:
        """Handle ``PATCH /attachments/<sha256>``: append one chunk at the acknowledged offset.

        Raises:
            ApiError: 400 malformed, 409 wrong offset (with the right one), 422 hash mismatch.
        """
        device, opened = self._open(body)
        try:
            wire.check_sha256(sha256, "path")
            info = wire.validate_chunk_header(opened.header.extra)
        except errors.WireError as exc:
            raise ApiError(400, errors.ERR_BAD_REQUEST, str(exc)) from exc
        chunk = opened.payload
        if info["sha256"] != sha256:
            raise ApiError(400, errors.ERR_BAD_REQUEST, "chunk header names another attachment")
        if not chunk or len(chunk) > limits.MAX_CHUNK_BYTES:
            raise ApiError(400, errors.ERR_BAD_REQUEST, "chunk must hold 1 byte to 1 MiB")
        if hashlib.sha256(chunk).hexdigest() != info["chunk_sha256"]:
            raise ApiError(400, errors.ERR_BAD_REQUEST, "chunk checksum does not match")
        now = self.clock()
        with self.storage.write() as tx:
            row = tx.get_attachment(sha256)
            if row is None:
                tx.insert_attachment(sha256, info["size"], device.device_id, device.commune, now)
                row = tx.get_attachment(sha256)
                assert row is not None
            if row["complete"]:
                return self._seal(opened, {"offset": int(row["size"]), "complete": True})
            if int(row["size"]) != info["size"]:
                raise ApiError(400, errors.ERR_BAD_REQUEST, "attachment size differs from upload's")
            if info["offset"] != int(row["received"]):
                raise ApiError(
                    409,
                    errors.ERR_OFFSET,
                    "chunk offset is not the acknowledged offset",
                    offset=int(row["received"]),
                )
            end = info["offset"] + len(chunk)
            if end > info["size"]:
                raise ApiError(400, errors.ERR_BAD_REQUEST, "chunk runs past the attachment size")
            tx.add_chunk(sha256, info["offset"], chunk)
            complete = False
            if end == info["size"]:
                if hashlib.sha256(tx.attachment_content(sha256)).hexdigest() != sha256:
                    tx.reset_attachment(sha256)
                    mismatch = True
                else:
                    tx.complete_attachment(sha256, now)
                    complete, mismatch = True, False
            else:
                mismatch = False
        if mismatch:
            raise ApiError(422, errors.ERR_BAD_REQUEST, "attachment hash mismatch: upload again")
        return self._seal(opened, {"offset": end, "complete": complete})

    def attachment_offset(
        self, sha256: str, method: str, path: str, headers: dict[str, str]
    ) -> int:
        """Handle ``HEAD /attachments/<sha256>``: the acknowledged offset (signed headers).

        Raises:
            ApiError: for missing/invalid signature headers or an unusable device.
        """
        try:
            wire.check_sha256(sha256, "path")
            device_id = wire.check_id(headers.get(wire.HEADER_DEVICE.lower()), "device header")
            at = int(headers.get(wire.HEADER_TIME.lower(), ""))
            from protocol.keys import b64d

            signature = b64d(headers.get(wire.HEADER_SIGNATURE.lower(), ""))
        except (errors.WireError, ValueError) as exc:
            raise ApiError(400, errors.ERR_BAD_REQUEST, f"bad signed request: {exc}") from exc
        with self.storage.read() as tx:
            device = tx.get_device(device_id)
            row = tx.get_attachment(sha256)
        if device is None:
            raise ApiError(403, errors.ERR_UNKNOWN_DEVICE, "device is not enrolled")
        message = wire.signed_request_message(method, path, b"", at, device_id)
        if not PublicKeys.from_json(device.keys).verify(signature, message):
            raise ApiError(400, errors.ERR_BAD_REQUEST, "request signature is invalid")
        self._check_status(device)
        if row is None:
            return 0
        return int(row["size"]) if row["complete"] else int(row["received"])

    # --- administration -------------------------------------------------------------------

    def devices(self) -> list[dict[str, Any]]:
        """Return every device as a JSON-ready dict (no keys)."""
        with self.storage.read() as tx:
            rows = tx.list_devices()
        return [
            {
                "device_id": d.device_id,
                "commune": d.commune,
                "label": d.label,
                "status": d.status,
                "status_reason": d.status_reason,
                "enrolled_at": d.enrolled_at,
                "last_seen": d.last_seen,
                "last_sync": d.last_sync,
                "last_device_seq": d.last_device_seq,
                "clock_offset_ms": d.clock_offset_ms,
                "flagged_skew": d.flagged_skew,
            }
            for d in rows
        ]

    def revoke(self, device_id: str, reason: str = "") -> None:
        """Revoke a device: it is refused from its next request on.

        Raises:
            ApiError: 404 for an unknown device.
        """
        with self.storage.write() as tx:
            if tx.get_device(device_id) is None:
                raise ApiError(404, errors.ERR_NOT_FOUND, f"no device {device_id!r}")
            tx.update_device(
                device_id, status="revoked", status_reason=reason or "revoked by provincial IT"
            )
            tx.drop_sessions(device_id)
        log.info("device %s revoked", device_id)

    def conflicts(self, status: str | None = "open") -> list[dict[str, Any]]:
        """Return conflicts (open ones by default; ``None`` for all)."""
        with self.storage.read() as tx:
            return tx.list_conflicts(status)

    def resolve(
        self,
        conflict_id: int,
        *,
        take: str | None = None,
        assignments: dict[str, Any] | None = None,
        reason: str,
    ) -> dict[str, Any]:
        """Resolve a conflict with a new server-signed change whose parents are both versions.

        Args:
            conflict_id: the conflict.
            take: ``current`` or ``incoming``.
            assignments: ``{field: value}`` to set instead of (or on top of) ``take``.
            reason: why (kept with the conflict).

        Returns:
            ``{"conflict_id", "change_id", "server_seq", "version"}`` (``change_id`` None when a
            domain conflict is closed without a change).

        Raises:
            ApiError: 404 unknown conflict, 409 already resolved, 400 bad arguments.
        """
        assignments = dict(assignments or {})
        if take not in (None, "current", "incoming"):
            raise ApiError(400, errors.ERR_BAD_REQUEST, "--take must be current or incoming")
        if take is None and not assignments:
            raise ApiError(400, errors.ERR_BAD_REQUEST, "give --take or FIELD=VALUE assignments")
        if not reason.strip():
            raise ApiError(400, errors.ERR_BAD_REQUEST, "--reason is required")
        now = self.clock()
        with self.storage.write() as tx:
            conflict = tx.get_conflict(conflict_id)
            if conflict is None:
                raise ApiError(404, errors.ERR_NOT_FOUND, f"no conflict {conflict_id}")
            if conflict["status"] != "open":
                raise ApiError(409, errors.ERR_BAD_REQUEST, f"conflict {conflict_id} is resolved")
            record = tx.get_record(conflict["entity"], conflict["entity_id"])
            assert record is not None
            chosen: dict[str, Any] = {}
            delete = False
            if conflict["kind"] in ("field", "delete"):
                incoming = dict(conflict["incoming"])
                incoming_delete = incoming.pop("_op", None) == "delete"
                keys = sorted(set(conflict["fields"]) | set(incoming))
                if take == "current":
                    delete = record.deleted
                    chosen = {k: record.values.get(k) for k in keys}
                elif take == "incoming":
                    delete = incoming_delete
                    chosen = {} if delete else incoming
            unknown = [k for k in assignments if not isinstance(k, str) or not k]
            if unknown:
                raise ApiError(400, errors.ERR_BAD_REQUEST, "assignment needs FIELD=VALUE")
            chosen.update(assignments)
            if record.deleted and not delete and chosen:
                # Bringing a deleted record back: send all of it, devices may have dropped it.
                chosen = record.values | chosen
            if not chosen and not delete:
                # A domain conflict closed as "both are right": no record changes.
                tx.resolve_conflict(conflict_id, "", reason, now)
                return {"conflict_id": conflict_id, "change_id": None}
            change_id = uuid.uuid4().hex
            fields = {k: [record.values.get(k), v] for k, v in chosen.items()}
            core = {
                "change_id": change_id,
                "device_id": SERVER_DEVICE_ID,
                "entity": record.entity,
                "entity_id": record.entity_id,
                "commune": record.commune,
                "op": "delete" if delete else "upsert",
                "base_version": record.version,
                "fields": fields,
                "parents": [record.version, conflict["change_id"]],
                "hlc": f"{now:013d}-0000-{SERVER_DEVICE_ID}",
                "clerk": RESOLVER_CLERK,
            }
            signature = base64.urlsafe_b64encode(self.keys.sign(wire.resolution_message(core)))
            seq, chain = tx.next_seq(change_id)
            # A resolution always makes a version, even when it keeps the current values, so
            # the devices whose edit lost are brought back in line by the pull.
            values = record.values | {k: v for k, v in chosen.items()}
            rec = RecordRow(
                entity=record.entity,
                entity_id=record.entity_id,
                commune=record.commune,
                version=record.version + 1,
                values=values,
                field_seq=record.field_seq | {k: seq for k in chosen},
                deleted=delete,
                updated_seq=seq,
                dup_key=None if delete else domain.duplicate_key(values),
                book_key=None if delete else domain.book_key(values),
            )
            tx.put_record(rec, new=False)
            tx.insert_version(
                rec, server_seq=seq, change_id=change_id, device_id=SERVER_DEVICE_ID, changed=chosen
            )
            tx.insert_change(
                server_seq=seq,
                chain=chain,
                change_id=change_id,
                device_id=SERVER_DEVICE_ID,
                device_seq=None,
                entity=record.entity,
                entity_id=record.entity_id,
                commune=record.commune,
                op=core["op"],
                base_version=record.version,
                new_version=rec.version,
                fields=fields,
                applied=fields,
                hlc=core["hlc"],
                clerk=RESOLVER_CLERK,
                status=wire.STATUS_APPLIED,
                reason=reason,
                conflict_ids=[conflict_id],
                kind=wire.KIND_RESOLUTION,
                parents=core["parents"],
                signature=signature.decode("ascii").rstrip("="),
                received_at=now,
            )
            tx.resolve_conflict(conflict_id, change_id, reason, now)
        log.info("conflict %s resolved by change %s", conflict_id, change_id)
        return {
            "conflict_id": conflict_id,
            "change_id": change_id,
            "server_seq": seq,
            "version": rec.version,
        }

    def stats(self) -> dict[str, Any]:
        """Return counts for provincial IT: devices, changes, open conflicts, last syncs, skew."""
        with self.storage.read() as tx:
            devices = tx.list_devices()
            per_commune: dict[str, int | None] = {}
            for d in devices:
                prev = per_commune.get(d.commune)
                if d.last_sync is not None and (prev is None or d.last_sync > prev):
                    per_commune[d.commune] = d.last_sync
                else:
                    per_commune.setdefault(d.commune, prev)
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
                "last_sync_by_commune": per_commune,
                "skewed_devices": [d.device_id for d in devices if d.flagged_skew],
                "server_seq": tx.head()[0],
                "epoch": tx.get_meta("epoch"),
            }


def _result(row: ChangeRow, conflict_ids: list[int]) -> dict[str, Any]:
    return _result_of(
        row.device_seq,
        row.change_id,
        row.status,
        row.server_seq,
        row.new_version,
        row.reason,
        conflict_ids,
    )


def _result_of(
    device_seq: int | None,
    change_id: str,
    status: str,
    server_seq: int,
    version: int | None,
    reason: str | None,
    conflict_ids: list[int],
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "device_seq": device_seq,
        "change_id": change_id,
        "status": status,
        "server_seq": server_seq,
    }
    if version is not None:
        out["version"] = version
    if reason:
        out["reason"] = reason
    if conflict_ids:
        out["conflict_ids"] = list(conflict_ids)
    return out


def _pull_entry(row: ChangeRow) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "server_seq": row.server_seq,
        "change_id": row.change_id,
        "device_id": row.device_id,
        "device_seq": row.device_seq,
        "entity": row.entity,
        "entity_id": row.entity_id,
        "op": row.op,
        "base_version": row.base_version,
        "version": row.new_version,
        "fields": row.applied,
        "hlc": row.hlc,
        "clerk": row.clerk,
        "commune": row.commune,
        "kind": row.kind,
        "status": row.status,
    }
    if row.parents is not None:
        entry["parents"] = row.parents
    if row.signature:
        entry["signature"] = row.signature
    return entry


def _snapshot_entry(rec: RecordRow) -> dict[str, Any]:
    return {
        "server_seq": rec.updated_seq,
        "entity": rec.entity,
        "entity_id": rec.entity_id,
        "op": "delete" if rec.deleted else "upsert",
        "version": rec.version,
        "fields": {k: [None, v] for k, v in rec.values.items()},
        "commune": rec.commune,
        "kind": "snapshot",
        "status": wire.STATUS_APPLIED,
    }


def _parse_cursor(tx: Tx, cursor: str, head_seq: int) -> tuple[bool, int, bool]:
    """Return (snapshot mode, after seq, valid) for a cursor text."""
    if cursor == "":
        return True, 0, True
    snapshot = cursor.startswith("s")
    text = cursor[1:] if snapshot else cursor
    seq_text, _, chain = text.partition(".")
    if not seq_text.isdigit() or len(seq_text) > 18 or len(chain) != 16:
        return snapshot, 0, False
    seq = int(seq_text)
    if seq == 0:
        return snapshot, 0, chain == "0" * 16
    if seq > head_seq:
        return snapshot, 0, False
    held = tx.change_at(seq)
    if held is None or held.chain[:16] != chain:
        return snapshot, 0, False
    return snapshot, seq, True
