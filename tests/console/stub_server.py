"""A small stand-in for the provincial server's ``/admin`` and ``/admin/enrol``, over real HTTP.

Only for the console client's error handling (timeouts, lost answers, refusals, forged answers):
the real endpoints are the server's, tested end to end in ``tests/console/test_e2e.py``. The
stub speaks the real protocol — HPKE-sealed, signed envelopes, the enrolment MAC, a replay guard
on batch ids — so the client cannot tell it from the server until it misbehaves on purpose.

It is an ASGI app served by uvicorn in a thread on 127.0.0.1; tests set :attr:`StubServer.
handlers` (action → function of the clean args) and queue :attr:`StubServer.faults`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn

from protocol import admin, enrolment, errors, sealing, wire
from protocol import envelope as env
from protocol.keys import PrivateKeys, PublicKeys

Handler = Callable[[dict[str, Any]], Any]


class StubRefusal(Exception):
    """Raised by a handler: answer with this HTTP status and ``{"error", "code"}`` body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclasses.dataclass
class Fault:
    """How the stub misbehaves for one request.

    Attributes:
        status: answer this error status instead of acting (with ``code``/``message``).
        delay_s: wait this long before answering (a lost answer when past the read timeout).
        after: act first, then wait ``delay_s`` (the answer is lost after the work is done).
        forge: sign the answer with a stranger's key.
        garbage: answer 200 with bytes that are no envelope.
    """

    status: int | None = None
    code: str = ""
    message: str = "refused"
    delay_s: float = 0.0
    after: bool = False
    forge: bool = False
    garbage: bool = False


@dataclasses.dataclass
class Code:
    """An operator code the stub accepts."""

    name: str
    expired: bool = False
    used_by: str | None = None
    used_keys: str | None = None


@dataclasses.dataclass
class Seen:
    """A request the stub received: path, batch id, action and clean args (for /admin)."""

    path: str
    batch_id: str = ""
    action: str = ""
    args: dict[str, Any] = dataclasses.field(default_factory=dict)
    body: dict[str, Any] = dataclasses.field(default_factory=dict)


class StubServer:
    """The stub's state and its ASGI app."""

    def __init__(self) -> None:
        self.keys = PrivateKeys.generate()
        self.operators: dict[str, PublicKeys] = {}
        self.revoked: dict[str, str] = {}
        self.codes: dict[str, Code] = {}
        self.handlers: dict[str, Handler] = {}
        self.faults: list[Fault] = []
        self.seen: list[Seen] = []
        self.done: list[str] = []  # actions acted on (a replay refused is not one)
        self._batches: set[tuple[str, str]] = set()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # -- set up ----------------------------------------------------------------------------

    def add_code(self, code: str, name: str, **options: Any) -> None:
        """Accept ``code`` for an operator called ``name``."""
        self.codes[enrolment.normalize_code(code)] = Code(name, **options)

    def start(self) -> str:
        """Serve on a free port of 127.0.0.1; return the base URL."""
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        config = uvicorn.Config(self, lifespan="off", log_level="warning", timeout_keep_alive=30)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise AssertionError("the stub server did not start")
            time.sleep(0.01)
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        return self.url

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)

    # -- ASGI ----------------------------------------------------------------------------------

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Answer one HTTP request."""
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        fault = self.faults.pop(0) if self.faults else Fault()
        if fault.delay_s and not fault.after:
            await asyncio.sleep(fault.delay_s)
        status, content = self._answer(scope["path"], body, fault)
        if fault.delay_s and fault.after:
            await asyncio.sleep(fault.delay_s)
        kind = b"application/json" if content[:1] == b"{" else b"application/octet-stream"
        await send(
            {"type": "http.response.start", "status": status, "headers": [(b"content-type", kind)]}
        )
        await send({"type": "http.response.body", "body": content})

    def _answer(self, path: str, body: bytes, fault: Fault) -> tuple[int, bytes]:
        try:
            if fault.status is not None:
                self.seen.append(Seen(path))
                raise StubRefusal(fault.status, fault.code, fault.message)
            if path == admin.PATH_ADMIN_ENROL:
                return 200, self._enrol(body, fault)
            if path == admin.PATH_ADMIN:
                return 200, self._admin(body, fault)
            raise StubRefusal(404, errors.ERR_NOT_FOUND, "no such path")
        except StubRefusal as refusal:
            return refusal.status, wire.canonical_json(
                errors.error_body(refusal.message, refusal.code)
            )

    def _signer(self, fault: Fault) -> PrivateKeys:
        return PrivateKeys.generate() if fault.forge else self.keys

    def _enrol(self, body: bytes, fault: Fault) -> bytes:
        req = enrolment.validate_operator_enrol_request(wire.loads(body))
        self.seen.append(Seen(admin.PATH_ADMIN_ENROL, body=req))
        operator_id, keys = req["operator_id"], req["keys"]
        key, code = self._matching_code(req)
        if code.used_by is not None and (code.used_by, code.used_keys) != (
            operator_id,
            keys.key_id,
        ):
            raise StubRefusal(403, errors.ERR_ENROL, "enrolment code was already used")
        if code.expired:
            raise StubRefusal(403, errors.ERR_ENROL, "enrolment code has expired")
        code.used_by, code.used_keys = operator_id, keys.key_id
        self.operators[operator_id] = keys
        self.done.append("enrol")
        payload: dict[str, Any] = {
            "operator_id": operator_id,
            "name": code.name,
            "server": self.keys.public().to_json(),
            "server_time": int(time.time() * 1000),
        }
        payload["mac"] = enrolment.enrol_response_mac(key, payload)
        if fault.forge:  # a man in the middle without the code: his keys, a MAC he guessed
            payload["server"] = PrivateKeys.generate().public().to_json()
        header = env.Header(
            key_id=keys.key_id,
            mode=env.MODE_HPKE,
            device_id=operator_id,
            batch_id=sealing.new_batch_id(),
            created_at_ms=int(time.time() * 1000),
        )
        return env.seal(wire.canonical_json(payload), header, signer=self.keys, recipient=keys)

    def _matching_code(self, req: dict[str, Any]) -> tuple[bytes, Code]:
        """Return the key and the code the request's proof was made with."""
        for norm, code in self.codes.items():
            key = enrolment.enrol_key(norm)
            proof = enrolment.proof_with_key(
                key, req["operator_id"], admin.OPERATOR_SCOPE, req["keys"]
            )
            if proof == req["proof"]:
                return key, code
        raise StubRefusal(403, errors.ERR_ENROL, "enrolment code is wrong")

    def _admin(self, body: bytes, fault: Fault) -> bytes:
        envelope = env.parse(body)
        operator_id = envelope.header.device_id
        keys = self.operators.get(operator_id)
        if keys is None:
            raise StubRefusal(403, errors.ERR_UNKNOWN_DEVICE, "operator is not enrolled")
        if operator_id in self.revoked:
            reason = self.revoked[operator_id]
            raise StubRefusal(403, errors.ERR_REVOKED, f"operator revoked: {reason}")
        opened = sealing.open_request(envelope, device_keys=keys, server_keys=self.keys)
        action, args = admin.validate_admin_request(wire.loads(opened.payload))
        self.seen.append(Seen(admin.PATH_ADMIN, opened.header.batch_id, action, args))
        if (operator_id, opened.header.batch_id) in self._batches:
            raise StubRefusal(409, errors.ERR_REPLAYED, "envelope already received (replay)")
        self._batches.add((operator_id, opened.header.batch_id))
        handler = self.handlers.get(action)
        if handler is None:
            raise StubRefusal(400, errors.ERR_BAD_REQUEST, f"no stub handler for {action}")
        result = handler(args)
        self.done.append(action)
        if fault.garbage:
            return b"\x00not an envelope"
        return sealing.seal_response(
            wire.canonical_json({"result": result}),
            request=opened.header,
            response_key=opened.response_key,
            server_keys=self._signer(fault),
        )
