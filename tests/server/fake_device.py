"""A minimal test-side device that speaks the protocol, to drive the server in tests.

It keeps its records, outbox, cursor and pinned keys in memory and talks to the server
through a ``post(path, body, headers) -> (status, bytes)`` callable, so the same device works
over Starlette's in-process TestClient and over real HTTP.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from typing import Any

from protocol import enrolment, limits, sealing, wire
from protocol import envelope as env
from protocol.keys import PrivateKeys, PublicKeys

Post = Callable[[str, bytes, dict[str, str]], tuple[int, bytes]]


class SyncFailed(Exception):
    """The server refused a request."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


def open_enrol_answer(
    body: bytes, keys: PrivateKeys, code: str
) -> tuple[dict[str, Any], PublicKeys]:
    """Open an enrolment answer sealed to ``keys``; check its MAC with ``code``, then its
    signature with the server keys it carries. Return the payload and those keys."""
    envelope = env.parse(body)
    payload = wire.loads(envelope.open_hpke(keys))
    mac = enrolment.enrol_response_mac(enrolment.enrol_key(code), payload)
    assert mac == payload["mac"], "enrolment answer MAC does not match the code"
    server = PublicKeys.from_json(payload["server"])
    envelope.verify(server)
    return payload, server


def http_post(base_url: str, client: Any = None) -> Post:
    """Return a ``post`` over real HTTP (httpx)."""
    import httpx

    http = client or httpx.Client(timeout=30)

    def post(path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        method = headers.pop("X-Method", "POST")
        resp = http.request(method, base_url + path, content=body, headers=headers)
        if method == "HEAD":
            return resp.status_code, resp.headers.get("Upload-Offset", "").encode()
        return resp.status_code, resp.content

    return post


def asgi_post(client: Any) -> Post:
    """Return a ``post`` over a Starlette TestClient."""

    def post(path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        method = headers.pop("X-Method", "POST")
        resp = client.request(method, path, content=body, headers=headers)
        if method == "HEAD":
            return resp.status_code, resp.headers.get("Upload-Offset", "").encode()
        return resp.status_code, resp.content

    return post


class FakeDevice:
    """A commune PC in miniature.

    Args:
        post: transport.
        commune: its commune code.
        label: shown in ``devices``.
    """

    def __init__(self, post: Post, commune: str = "02701", label: str = "test pc") -> None:
        self.post = post
        self.commune = commune
        self.label = label
        self.keys = PrivateKeys.generate()
        self.device_id = str(uuid.uuid4())
        self.server_keys: PublicKeys | None = None
        self.seq = 0
        self.cursor = ""
        self.epoch: str | None = None
        #: entity_id -> {"values": {...}, "version": int, "deleted": bool}
        self.records: dict[str, dict[str, Any]] = {}
        self.outbox: list[dict[str, Any]] = []
        self.results: dict[int, dict[str, Any]] = {}
        self.session: tuple[str, bytes] | None = None
        self.clock_offset_ms = 0
        self.last_response: dict[str, Any] = {}
        self._sealed_key = b""

    # --- enrolment ------------------------------------------------------------------------

    def enrol_body(self, code: str) -> bytes:
        """Return the JSON body of ``POST /enrol`` for ``code``."""
        keys = self.keys.public()
        return wire.canonical_json(
            {
                "device_id": self.device_id,
                "commune": self.commune,
                "keys": keys.to_json(),
                "label": self.label,
                "proof": enrolment.enrol_proof(code, self.device_id, self.commune, keys),
            }
        )

    def enrol(self, code: str) -> dict[str, Any]:
        """Enrol with ``code``; pin the server keys. Raises SyncFailed when refused."""
        status, body = self.post(
            wire.PATH_ENROL, self.enrol_body(code), {"Content-Type": "application/json"}
        )
        if status != 200:
            raise SyncFailed(status, wire.loads(body))
        payload, self.server_keys = open_enrol_answer(body, self.keys, code)
        self.epoch = payload["epoch"]
        return payload

    # --- local edits ------------------------------------------------------------------------

    def _change(self, entity_id: str, op: str, fields: dict[str, list[Any]]) -> dict[str, Any]:
        self.seq += 1
        rec = self.records.get(entity_id)
        change = {
            "change_id": str(uuid.uuid4()),
            "device_id": self.device_id,
            "device_seq": self.seq,
            "entity": "dossier",
            "entity_id": entity_id,
            "op": op,
            "base_version": rec["version"] if rec else 0,
            "fields": fields,
            "hlc": f"{1764145000000 + self.seq:013d}-0000-{self.device_id}",
            "clerk": "lan",
            "commune": self.commune,
        }
        self.outbox.append(change)
        return change

    def create(self, values: dict[str, Any], entity_id: str | None = None) -> str:
        """Create a record locally (and its change); return its id."""
        entity_id = entity_id or str(uuid.uuid4())
        values = {"commune": self.commune, **values}
        self.records[entity_id] = {"values": dict(values), "version": 0, "deleted": False}
        self._change(entity_id, "upsert", {k: [None, v] for k, v in values.items()})
        return entity_id

    def edit(self, entity_id: str, **values: Any) -> dict[str, Any]:
        """Edit fields of a local record."""
        rec = self.records[entity_id]
        fields = {k: [rec["values"].get(k), v] for k, v in values.items()}
        rec["values"].update(values)
        return self._change(entity_id, "upsert", fields)

    def delete(self, entity_id: str) -> dict[str, Any]:
        """Delete a local record."""
        rec = self.records[entity_id]
        rec["deleted"] = True
        return self._change(entity_id, "delete", {})

    def pending(self) -> list[dict[str, Any]]:
        """Return outbox changes without a final answer yet."""
        return [
            c
            for c in self.outbox
            if self.results.get(c["device_seq"], {}).get("status") in (None, "deferred")
        ]

    # --- requests -------------------------------------------------------------------------

    def seal(self, payload: Any, **kwargs: Any) -> sealing.SealedRequest:
        """Seal a request payload to the pinned server keys (or the session)."""
        assert self.server_keys is not None, "enrol first"
        raw = payload if isinstance(payload, bytes) else wire.canonical_json(payload)
        return sealing.seal_request(
            raw,
            device_id=self.device_id,
            device_keys=self.keys,
            server_keys=self.server_keys,
            session=self.session,
            created_at_ms=sealing.now_ms() + self.clock_offset_ms,
            **kwargs,
        )

    def request(
        self, path: str, payload: Any, method: str = "POST", **kwargs: Any
    ) -> dict[str, Any]:
        """Send one sealed request; return the opened JSON answer. Raises SyncFailed."""
        sealed = self.seal(payload, **kwargs)
        self._sealed_key = sealed.response_key
        headers = {"Content-Type": "application/octet-stream", "X-Method": method}
        status, body = self.post(path, sealed.data, headers)
        if status != 200:
            raise SyncFailed(status, wire.loads(body))
        assert self.server_keys is not None
        _header, raw = sealing.open_response(body, request=sealed, server_keys=self.server_keys)
        return wire.loads(raw)

    def sync(
        self,
        *,
        limit: int = 1000,
        want_blocks: list[dict[str, Any]] | None = None,
        session: bool = False,
        changes: list[dict[str, Any]] | None = None,
        report: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One sync round: push pending changes, apply the pulled page, store the cursor."""
        push = self.pending() if changes is None else changes
        seqs = [c["device_seq"] for c in push]
        payload = {
            "cursor": self.cursor,
            "epoch": self.epoch,
            "changes": push,
            "limit": limit,
            "want_blocks": want_blocks or [],
            "session": session,
        }
        if report is not None:
            payload["report"] = report
        kwargs: dict[str, Any] = {}
        if seqs:
            kwargs["seq_range"] = (min(seqs), max(seqs))
        resp = self.request(wire.PATH_SYNC, payload, **kwargs)
        for result in resp["results"]:
            self.results[result["device_seq"]] = result
        # The server lost changes it had acknowledged (restore): they are pending again, and
        # that must be known before the page is applied, so the page does not overwrite them.
        for s in list(self.results):
            if s > resp["max_device_seq"] and self.results[s]["status"] != "deferred":
                del self.results[s]
        if resp["reset"]:
            self.cursor = ""
        pending_fields = {(c["entity_id"], k) for c in self.pending() for k in c["fields"]}
        for entry in resp["changes"]:
            rec = self.records.setdefault(
                entry["entity_id"], {"values": {}, "version": 0, "deleted": False}
            )
            for key, (_old, new) in entry["fields"].items():
                if (entry["entity_id"], key) not in pending_fields:
                    rec["values"][key] = new
            rec["deleted"] = entry["op"] == "delete"
            rec["version"] = max(rec["version"], entry["version"])
        self.cursor = resp["cursor"]
        self.epoch = resp["epoch"]
        if resp.get("session"):
            self.session = (
                resp["session"]["id"],
                sealing.derive_session_key(self._sealed_key, resp["session"]["id"]),
            )
        self.last_response = resp
        return resp

    def sync_all(self, **kwargs: Any) -> list[dict[str, Any]]:
        """Sync until nothing is pending or deferred and the pull has no more pages."""
        out = []
        for _ in range(50):
            resp = self.sync(**kwargs)
            out.append(resp)
            if not resp["more"] and not self.pending() and not resp["reset"]:
                return out
        raise AssertionError("sync did not settle in 50 rounds")

    # --- attachments ----------------------------------------------------------------------

    def upload(
        self, content: bytes, chunk: int = limits.CHUNK_BYTES, stop_after: int | None = None
    ) -> dict[str, Any]:
        """Upload ``content`` resumably from the server's offset; stop after N chunks if asked."""
        sha = hashlib.sha256(content).hexdigest()
        status, offset_raw = self.head_offset(sha)
        offset = int(offset_raw) if status == 200 else 0
        sent = 0
        result: dict[str, Any] = {"offset": offset, "complete": offset == len(content)}
        while offset < len(content):
            if stop_after is not None and sent >= stop_after:
                break
            piece = content[offset : offset + chunk]
            extra = {
                "a": sha,
                "o": offset,
                "n": len(content),
                "c": hashlib.sha256(piece).hexdigest(),
            }
            result = self.request(
                wire.PATH_ATTACHMENTS + sha, piece, method="PATCH", compress=False, extra=extra
            )
            offset = result["offset"]
            sent += 1
        result["chunks_sent"] = sent
        return result

    def head_offset(self, sha: str) -> tuple[int, bytes]:
        """Ask ``HEAD /attachments/<sha>`` with signed headers."""
        import time

        at = int(time.time() * 1000)
        path = wire.PATH_ATTACHMENTS + sha
        signature = self.keys.sign(
            wire.signed_request_message("HEAD", path, b"", at, self.device_id)
        )
        from protocol.keys import b64e

        return self.post(
            path,
            b"",
            {
                "X-Method": "HEAD",
                wire.HEADER_DEVICE: self.device_id,
                wire.HEADER_TIME: str(at),
                wire.HEADER_SIGNATURE: b64e(signature),
            },
        )
