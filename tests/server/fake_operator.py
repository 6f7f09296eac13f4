"""A minimal test-side provincial IT console: enrols as an operator and calls ``POST /admin``.

Like :mod:`tests.server.fake_device` it talks through a ``post(path, body, headers)`` callable,
so it works over Starlette's TestClient and over real HTTP.
"""

from __future__ import annotations

import uuid
from typing import Any

from protocol import enrolment, sealing, wire
from protocol.admin import OPERATOR_SCOPE, PATH_ADMIN, PATH_ADMIN_ENROL
from protocol.keys import PrivateKeys, PublicKeys
from tests.server.fake_device import Post, SyncFailed, open_enrol_answer


class FakeOperator:
    """A provincial IT console in miniature.

    Args:
        post: transport.
        label: its label at enrolment.
    """

    def __init__(self, post: Post, label: str = "CNTT tỉnh") -> None:
        self.post = post
        self.label = label
        self.keys = PrivateKeys.generate()
        self.operator_id = str(uuid.uuid4())
        self.server_keys: PublicKeys | None = None
        self.name = ""

    def enrol_body(self, code: str) -> bytes:
        """Return the JSON body of ``POST /admin/enrol`` for ``code``."""
        keys = self.keys.public()
        return wire.canonical_json(
            {
                "operator_id": self.operator_id,
                "keys": keys.to_json(),
                "label": self.label,
                "proof": enrolment.enrol_proof(code, self.operator_id, OPERATOR_SCOPE, keys),
            }
        )

    def enrol(self, code: str) -> dict[str, Any]:
        """Enrol with ``code``; pin the server keys. Raises SyncFailed when refused."""
        status, body = self.post(
            PATH_ADMIN_ENROL, self.enrol_body(code), {"Content-Type": "application/json"}
        )
        if status != 200:
            raise SyncFailed(status, wire.loads(body))
        payload, self.server_keys = open_enrol_answer(body, self.keys, code)
        self.name = payload["name"]
        return payload

    def seal(self, action: str, args: dict[str, Any] | None = None) -> sealing.SealedRequest:
        """Seal an admin request to the pinned server keys (HPKE)."""
        assert self.server_keys is not None, "enrol first"
        return sealing.seal_request(
            wire.canonical_json({"action": action, "args": args or {}}),
            device_id=self.operator_id,
            device_keys=self.keys,
            server_keys=self.server_keys,
        )

    def send(self, sealed: sealing.SealedRequest) -> Any:
        """Post a sealed request; return the opened ``result``. Raises SyncFailed."""
        headers = {"Content-Type": "application/octet-stream"}
        status, body = self.post(PATH_ADMIN, sealed.data, headers)
        if status != 200:
            raise SyncFailed(status, wire.loads(body))
        assert self.server_keys is not None
        _header, raw = sealing.open_response(body, request=sealed, server_keys=self.server_keys)
        return wire.loads(raw)["result"]

    def call(self, action: str, **args: Any) -> Any:
        """Run one admin action; return its result. Raises SyncFailed."""
        return self.send(self.seal(action, args))
